'use strict';
// Converse.js in headless Chromium over WebSocket through switchboard (two
// workers, each with its keeper) in front of a real Prosody, chatting with a
// Strophe.js client while each worker in turn is killed with SIGKILL
// (lib/converse_scenario.js, `crash`; docs/crash.md): alice's connection is
// kept, she notices nothing and every message arrives once, in order.

const { describe } = require('node:test');
const { converseScenario } = require('./lib/converse_scenario');

describe('Converse.js over WebSocket through its worker\'s death (SIGKILL), to Prosody', { timeout: 120000 }, () => {
  converseScenario({ server: 'prosody', transport: 'websocket', crash: true });
});
