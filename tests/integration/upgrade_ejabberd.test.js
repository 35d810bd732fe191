'use strict';
// Web chat over BOSH and WebSocket through an upgrade in place of switchboard
// with two workers (each hands its sessions to its successor), against a
// private ejabberd (see lib/upgrade_chat_scenario.js). upgrade_prosody runs the
// same with the lone daemon.
require('./lib/upgrade_chat_scenario').defineUpgradeChatScenario('ejabberd', { workers: 2 });
