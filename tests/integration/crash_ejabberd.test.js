'use strict';
// Web chat over BOSH through a worker's death (SIGKILL) with two workers and
// their keepers, against a private ejabberd (see lib/crash_chat_scenario.js).
require('./lib/crash_chat_scenario').defineCrashChatScenario('ejabberd');
