'use strict';
// Web chat through BOSH against a private Prosody (see lib/chat_scenario.js).
require('./lib/chat_scenario').defineChatScenario('prosody');
