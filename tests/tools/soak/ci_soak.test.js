'use strict';
// The small soak every CI run does (label `soak`), bounded in count and time:
//   1. 2,000 sessions for 30 s through switchboard (two workers) to the scale-test
//      stub (switchboard-stub, two processes), chatting at one message per second
//      per 100 sessions, with an upgrade in place of both workers halfway
//      through (each request on a connection of its own, so about half of them
//      are handed between the workers, before, during and after the move):
//      every session logs in and moves, zero errors, zero lost messages; then,
//      a few seconds on, one of the new workers is killed with SIGKILL
//      (docs/crash.md): its successor takes its sessions up from the keeper,
//      every session continues, nothing is lost or duplicated, and the only
//      errors are the dead worker's broken connections (and, with the stock
//      tcp_migrate_req = 0, those queued on its listener), which the clients
//      resend;
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
const { workerProcesses, processAlive } = require(path.join(__dirname, '..', '..', 'integration', 'lib', 'worker_procs'));
const { waitUntil } = require('../../lib/proc');


// `brokenConnections`: errors allowed, all of them broken connections (a killed
// worker's, and with the stock tcp_migrate_req = 0 the connections queued on its
// listener, reset), each resent by its client.
function assertClean(run, sessions, logs, brokenConnections = 0) {
  const r = run.report;
  const why = `\n${run.output}\n${logs()}`;
  assert.ok(r, `no JSON report${why}`);
  assert.equal(r.sessions_established, sessions, why);
  assert.equal(r.sessions_ended, 0, `sessions ended${why}`);
  if (brokenConnections > 0) {
    assert.deepEqual(Object.keys(r.errors_by_kind).filter((k) => k !== 'transport' && k !== 'connect'), [],
      `errors ${JSON.stringify(r.errors_by_kind)}${why}`);
    assert.ok(r.errors <= brokenConnections, `errors ${r.errors}${why}`);
  } else {
    assert.equal(r.errors, 0, `errors ${JSON.stringify(r.errors_by_kind)}${why}`);
  }
  assert.ok(r.messages_sent > 0, why);
  assert.equal(r.messages_lost, 0, why);
  assert.equal(r.messages_duplicated, 0, why);
  assert.equal(r.messages_reordered, 0, why);
  assert.equal(r.messages_received, r.messages_sent, why);
  assert.equal(run.status, 0, `soak exit status${why}`);
}

test('2,000 sessions for 30 s through switchboard (2 workers) to the stub, an upgrade in place, then a worker killed', { timeout: 150000 }, async (t) => {
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
    '--msg-rate', '20', '--hold', '1', '--wait', '60', '--max-errors', '2000',
    '--user-pattern', 'u%d', '--password', 'p%d',
  ], { timeoutMs: 120000, quiet: true });
  // Halfway: every session is up (5 s of logins) and chatting.
  await new Promise((resolve) => setTimeout(resolve, 15000));
  const upgrade = await switchboard.upgrade();
  // Then one of the new daemon's workers dies; its keeper got the sessions the
  // upgrade brought it, and hands them to its successor.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const victim = workerProcesses(switchboard.pid).find((w) => w.index === 0);
  process.kill(victim.pid, 'SIGKILL');
  await waitUntil('the killed worker gone', () => !processAlive(victim.pid));
  const recovered = /\[worker 0\] keeper: (\d+) of (\d+) sessions continue[^\n]*/;
  const text = await switchboard.waitForLog(recovered);
  const [line, continued, kept] = recovered.exec(text);
  const run = await running;
  const logs = () => `${upgrade.line}\n${line}\n${switchboard.logs()}\nstub: ${stub.stderr().slice(-2000)}`;
  assertClean(run, 2000, logs, 2000);
  assert.equal(upgrade.moved, 2000, upgrade.line);
  assert.match(upgrade.line, / 0 ended \(none\)/);
  assert.equal(continued, kept, line);
  assert.ok(Number(kept) > 500, `worker 0 held about half the sessions: ${line}`);
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
