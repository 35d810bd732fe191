'use strict';
// Web chat over XMPP over WebSocket against a private Prosody (see lib/ws_chat_scenario.js).
require('./lib/ws_chat_scenario').defineWsChatScenario('prosody');
