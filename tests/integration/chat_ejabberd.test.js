'use strict';
// Web chat through BOSH against a private ejabberd (see lib/chat_scenario.js).
require('./lib/chat_scenario').defineChatScenario('ejabberd');
