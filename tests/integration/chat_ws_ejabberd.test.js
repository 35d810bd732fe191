'use strict';
// Web chat over XMPP over WebSocket against a private ejabberd (see lib/ws_chat_scenario.js).
require('./lib/ws_chat_scenario').defineWsChatScenario('ejabberd');
