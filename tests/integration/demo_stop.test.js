'use strict';
// The README's demo command stops cleanly however it is stopped: SIGTERM to the
// script (a process manager, a CI runner), SIGINT to the script, and Ctrl-C in a
// terminal (SIGINT to its whole process group). Each time the page is served,
// two users chat through it, a wrong password is refused, and after the signal
// Switchboard and Prosody are both gone and nothing listens on the port.
// Uses the switchboard binary ctest built (SWITCHBOARD_BIN); .ci/run also runs
// the real command, build included (demo_smoke.js).

const assert = require('node:assert/strict');
const { describe, it } = require('node:test');
const { Demo } = require('./lib/demo');
const { freePort } = require('../lib/ports');

const binary = process.env.SWITCHBOARD_BIN;

for (const [how, signal, group] of [
  ['SIGTERM to the script', 'SIGTERM', false],
  ['SIGINT to the script', 'SIGINT', false],
  ['Ctrl-C (SIGINT to the process group)', 'SIGINT', true],
]) {
  describe(`scripts/demo.sh stopped by ${how}`, { timeout: 90000 }, () => {
    it('serves the chat, then ends everything it started', async () => {
      assert.ok(binary, 'SWITCHBOARD_BIN is set (ctest sets it)');
      const demo = new Demo({ port: await freePort(), binary });
      try {
        await demo.waitForPage();
        await demo.chat();
        const status = await demo.stop(signal, { group });
        assert.equal(status, signal === 'SIGTERM' ? 143 : 130, `demo.sh exit status\n${demo.logs()}`);
      } catch (err) {
        demo.kill();
        throw err;
      } finally {
        demo.cleanup();
      }
    });
  });
}
