'use strict';
// Converse.js in headless Chromium over WebSocket through switchboard in front of
// a real Prosody: log in, chat both ways with a Strophe.js client, log out, and
// Prosody sees the session go (lib/converse_scenario.js).

const { describe } = require('node:test');
const { converseScenario } = require('./lib/converse_scenario');

describe('Converse.js over WebSocket through switchboard to Prosody', { timeout: 120000 }, () => {
  converseScenario({ server: 'prosody' });
});
