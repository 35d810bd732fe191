'use strict';
// Converse.js in headless Chromium over BOSH through switchboard in front of a
// real Prosody, chatting with a Strophe.js client while switchboard upgrades in
// place (lib/converse_scenario.js, `upgrade`): alice stays logged in and every
// message arrives.

const { describe } = require('node:test');
const { converseScenario } = require('./lib/converse_scenario');

describe('Converse.js over BOSH through an upgrade in place of switchboard, to Prosody', { timeout: 120000 }, () => {
  converseScenario({ server: 'prosody', transport: 'bosh', upgrade: true });
});
