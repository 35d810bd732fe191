'use strict';
// Converse.js in headless Chromium over WebSocket through switchboard in front of
// a real ejabberd, with ONLY the domain configured: Converse finds switchboard
// through XEP-0156 (/.well-known/host-meta, served by switchboard behind a TLS
// front); then log in, chat both ways with a Strophe.js client, log out, and
// ejabberd's own connected_users no longer lists the session
// (lib/converse_scenario.js).

const { describe } = require('node:test');
const { converseScenario } = require('./lib/converse_scenario');

describe('Converse.js discovers switchboard (XEP-0156) and chats over WebSocket to ejabberd', { timeout: 150000 }, () => {
  converseScenario({ server: 'ejabberd', discover: true });
});
