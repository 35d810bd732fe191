'use strict';
// Web chat over BOSH through an upgrade in place, against a private ejabberd
// (see lib/upgrade_chat_scenario.js).
require('./lib/upgrade_chat_scenario').defineUpgradeChatScenario('ejabberd');
