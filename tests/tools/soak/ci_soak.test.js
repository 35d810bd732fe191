'use strict';
// The small soak every CI run does (label `soak`), bounded in count and time:
//   1. 2,000 sessions for 30 s through switchboard (two workers) to the scale-test
//      stub (switchboard-stub, two processes), chatting at one message per second
//      per 100 sessions, with an upgrade in place of both workers halfway
//      through (each request on a connection of its own, so about half of them
//      are handed between the workers, before, during and after the move):
//      every session logs in and moves, zero errors, zero lost messages;
//   2. 200 sessions through switchboard in front of a REAL ejabberd with 10% of
//      the HTTP connections cut mid-request (--drop 0.1), and an upgrade in place
//      (SIGUSR2, docs/upgrade.md) halfway through: every session moves, zero
//      errors, zero lost, duplicated or reordered messages.
// The stub stands in for an XMPP server only for the count; correctness against
// real servers is the job of tests/integration and of the second run here.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { EjabberdServer } = require('../../lib/ejabberd');
const { Switchboard } = require('../../lib/switchboard');
const { startStub } = require(path.join(__dirname, '..', 'lib', 'stub_process'));
const { runSoak } = require(path.join(__dirname, '..', 'lib', 'run_soak'));


function assertClean(run, sessions, logs) {
  const r = run.report;
  const why = `\n${run.output}\n${logs()}`;
  assert.ok(r, `no JSON report${why}`);
  assert.equal(r.sessions_established, sessions, why);
  assert.equal(r.errors, 0, `errors ${JSON.stringify(r.errors_by_kind)}${why}`);
  assert.ok(r.messages_sent > 0, why);
  assert.equal(r.messages_lost, 0, why);
  assert.equal(r.messages_duplicated, 0, why);
  assert.equal(r.messages_reordered, 0, why);
  assert.equal(r.messages_received, r.messages_sent, why);
  assert.equal(run.status, 0, `soak exit status${why}`);
}

test('2,000 sessions for 30 s through switchboard (2 workers) to the stub, and an upgrade in place', { timeout: 150000 }, async (t) => {
  const stub = await startStub(['--procs', '2', '--log-level', 'warn']);
  // log_level info: the upgrade's outcome is an info line (Switchboard.upgrade waits for it).
  const switchboard = new Switchboard({
    upstreamPort: stub.port, settings: { workers: 2, log_level: 'info' },
  });
  t.after(async () => {
    const problem = await switchboard.stop();
    await stub.stop();
    if (problem) throw new Error(problem);
  });
  await switchboard.start();
  const running = runSoak([
    '--url', switchboard.boshUrl, '--sessions', '2000', '--rate', '400', '--duration', '30',
    '--msg-rate', '20', '--hold', '1', '--wait', '60',
    '--user-pattern', 'u%d', '--password', 'p%d',
  ], { timeoutMs: 120000, quiet: true });
  // Halfway: every session is up (5 s of logins) and chatting.
  await new Promise((resolve) => setTimeout(resolve, 15000));
  const upgrade = await switchboard.upgrade();
  const run = await running;
  assertClean(run, 2000, () => `${upgrade.line}\n${switchboard.logs()}\nstub: ${stub.stderr().slice(-2000)}`);
  assert.equal(upgrade.moved, 2000, upgrade.line);
  assert.match(upgrade.line, / 0 ended \(none\)/);
});

test('200 sessions through switchboard to a real ejabberd with 10% drops and an upgrade in place', { timeout: 180000 }, async (t) => {
  const ejabberd = new EjabberdServer({ inactivity: 30 });
  let switchboard = null;
  t.after(async () => {
    const problem = switchboard ? await switchboard.stop() : null;
    await ejabberd.stop();
    if (problem) throw new Error(problem);
  });
  await ejabberd.start();
  const users = {};
  for (let i = 1; i <= 200; i++) users[`u${i}`] = `p${i}`;
  await ejabberd.addUsers(users);
  // log_level info: the upgrade's outcome is an info line (Switchboard.upgrade waits for it).
  switchboard = new Switchboard({ upstreamPort: ejabberd.c2sPort, settings: { log_level: 'info' } });
  await switchboard.start();
  const running = runSoak([
    '--url', switchboard.boshUrl, '--sessions', '200', '--rate', '100', '--duration', '30',
    '--msg-rate', '20', '--drop', '0.1', '--domain', 'localhost',
    '--user-pattern', 'u%d', '--password', 'p%d',
  ], { timeoutMs: 120000, quiet: true });
  // Halfway: every session is up (2 s of logins) and chatting.
  await new Promise((resolve) => setTimeout(resolve, 15000));
  const upgrade = await switchboard.upgrade();
  const run = await running;
  assertClean(run, 200, () => `${upgrade.line}\n${switchboard.logs()}\n${ejabberd.logs()}`);
  assert.equal(upgrade.moved, 200, upgrade.line);
  assert.match(upgrade.line, / 0 ended \(none\)/);
});
