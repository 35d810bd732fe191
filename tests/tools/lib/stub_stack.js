'use strict';
// A private switchboard-stub and a switchboard in front of it for the tests of
// one node:test describe block: started in its before hook, stopped by PID in
// its after hook (a problem switchboard reports on stopping fails the block).
// Call it inside test.describe(); the fields are set once the hook has run.

const test = require('node:test');
const path = require('node:path');

const { Switchboard } = require('../../lib/switchboard');
const { startStub } = require('./stub_process');

function useStubAndSwitchboard({ stubArgs = ['--log-level', 'warn'], settings = { log_level: 'warn' } } = {}) {
  const stack = {
    stub: null,
    switchboard: null,
    /** switchboard's log and the tail of the stub's, for assertion messages. */
    logs: () => `${stack.switchboard ? stack.switchboard.logs() : ''}\nstub: ${stack.stub ? stack.stub.stderr().slice(-2000) : ''}`,
  };
  test.before(async () => {
    stack.stub = await startStub(stubArgs);
    stack.switchboard = new Switchboard({ upstreamPort: stack.stub.port, settings });
    await stack.switchboard.start();
  });
  test.after(async () => {
    const problem = stack.switchboard ? await stack.switchboard.stop() : null;
    if (stack.stub) await stack.stub.stop();
    if (problem) throw new Error(problem);
  });
  return stack;
}

module.exports = { useStubAndSwitchboard };
