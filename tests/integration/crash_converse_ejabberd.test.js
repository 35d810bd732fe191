'use strict';
// Converse.js in headless Chromium over BOSH through switchboard (two workers,
// each with its keeper) in front of a real ejabberd, chatting with a Strophe.js
// client while the worker holding alice's session is killed with SIGKILL
// (lib/converse_scenario.js, `crash`; docs/crash.md): alice stays logged in
// under the same sid and every message arrives once, in order.

const { describe } = require('node:test');
const { converseScenario } = require('./lib/converse_scenario');

describe('Converse.js over BOSH through a worker\'s death (SIGKILL), to ejabberd', { timeout: 120000 }, () => {
  converseScenario({ server: 'ejabberd', transport: 'bosh', crash: true });
});
