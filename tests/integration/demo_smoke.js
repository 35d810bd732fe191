#!/usr/bin/env node
'use strict';
// CI's smoke test of the README's first command, exactly as a new user runs it:
// `scripts/demo.sh` on the default port 5280, build included, in the same checkout
// the test command then uses. It waits for the page, logs alice and bob in over
// BOSH and has them chat, checks that a wrong password is refused, then stops
// the demo with SIGTERM and checks that everything it started is gone.
//
//   node tests/integration/demo_smoke.js [--install]   # exit 0 when all of that held
//
// Bounded: 15 minutes for the build and start, 30 s for the stop.

const { Demo } = require('./lib/demo');

async function main() {
  const started = Date.now();
  const demo = new Demo({ port: 5280, install: process.argv.includes('--install') });
  try {
    await demo.waitForPage({ timeoutMs: 15 * 60 * 1000 });
    console.log(`demo smoke: page served after ${((Date.now() - started) / 1000).toFixed(1)} s ` +
                `(${demo.started.length} processes)`);
    await demo.chat();
    console.log('demo smoke: alice and bob chatted over BOSH; a wrong password was refused');
    const status = await demo.stop('SIGTERM');
    console.log(`demo smoke: SIGTERM stopped everything (demo.sh exit status ${status}); nothing listens on 5280`);
  } catch (err) {
    demo.kill();
    console.error(`demo smoke FAILED: ${err.stack || err.message}\n${demo.logs()}`);
    process.exitCode = 1;
  } finally {
    demo.cleanup();
  }
}

main();
