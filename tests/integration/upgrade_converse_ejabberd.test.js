'use strict';
// Converse.js in headless Chromium over BOSH through switchboard in front of a
// real ejabberd, chatting with a Strophe.js client while switchboard upgrades in
// place (lib/converse_scenario.js, `upgrade`): alice stays logged in and every
// message arrives. Switchboard runs two workers here (upgrade_converse_prosody:
// the lone daemon).

const { describe } = require('node:test');
const { converseScenario } = require('./lib/converse_scenario');

describe('Converse.js over BOSH through an upgrade in place of switchboard (two workers), to ejabberd', { timeout: 120000 }, () => {
  converseScenario({ server: 'ejabberd', transport: 'bosh', upgrade: true, workers: 2 });
});
