'use strict';
// Operation: the supervisor's hang watch (docs/operations.md, "Hung workers").
// Two workers in front of a scripted XMPP server, started from a TOML file:
//
// - worker_hang_timeout = 2 and one worker stopped with SIGSTOP (its loop no
//   longer turns, its process and listener stay): within a few seconds the
//   supervisor logs it at error level with its index and pid, kills it (the pid
//   is gone), starts a new process under the same index and counts the restart
//   with reason "hung"; then every new session succeeds, some of them on the new
//   process, and a session of the other worker, with a request held all along,
//   stayed up;
// - a busy worker (sessions created and used without pause, for three times the
//   timeout) keeps sending its heartbeats: nobody is killed;
// - a supervisor that was itself stopped for longer than the timeout finds the
//   heartbeats waiting on the pipes when it runs again: nobody is killed;
// - worker_hang_timeout = 0 leaves a stopped worker alone; a reload to 2 turns
//   the watch on for the workers already running.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const integrationLib = path.join(__dirname, '..', 'integration', 'lib');
const { Switchboard } = require('../lib/switchboard');
const { scrape, promtoolCheck } = require(path.join(integrationLib, 'metrics.js'));
const { workerProcesses, processState, processAlive, workerOfSid } = require(path.join(integrationLib, 'worker_procs.js'));
const { waitUntil } = require('../lib/proc');
const { ScriptedUpstream } = require('../lib/scripted_upstream');
const { BoshSession } = require('../lib/bosh');
const { destroyAllSockets } = require('../lib/raw_http');
const { uniqueDomain, assertAlive, stillPending, sleep } = require('./lib/stack');

after(() => destroyAllSockets());

const HANG_TIMEOUT_S = 2;


/** A scripted upstream and two workers with `config`; stopped by PID when `t` ends. */
async function startStack(t, config) {
  const upstream = await new ScriptedUpstream().start();
  const sb = new Switchboard({ upstreamPort: upstream.port, metrics: true, config: { workers: 2, ...config } });
  let stopped = null;  // a worker we SIGSTOPped: continued before the daemon is stopped
  t.after(async () => {
    destroyAllSockets();
    if (stopped !== null && processAlive(stopped)) process.kill(stopped, 'SIGCONT');
    const problem = await sb.stop();
    await upstream.stop();
    if (problem) throw new Error(problem);
  });
  await sb.start();
  await sb.waitForLog(/all 2 workers listening/);
  const workers = await waitUntil('two worker processes', () => {
    const found = workerProcesses(sb.child.pid);
    return found.length === 2 && found;
  });
  const stop = (pid) => { stopped = pid; process.kill(pid, 'SIGSTOP'); };
  const resume = (pid) => { process.kill(pid, 'SIGCONT'); stopped = null; };
  return { upstream, sb, workers, stop, resume };
}

/** A new session with its server side: { session, conn, to, worker }. */
async function newSession(stack, label, attrs = {}) {
  const to = uniqueDomain(label);
  const session = await BoshSession.create(stack.sb.port, to, attrs);
  const conn = await stack.upstream.connection(to);
  return { session, conn, to, worker: workerOfSid(session.sid) };
}

/** New sessions, each on its own connection, until one belongs to worker `index`. */
async function sessionOnWorker(stack, index, attrs = {}) {
  for (let attempt = 0; attempt < 64; attempt += 1) {
    const opened = await newSession(stack, `on-w${index}`, attrs);
    if (opened.worker === index) return opened;
  }
  return assert.fail(`no session landed on worker ${index} in 64 attempts`);
}

test('a worker stopped with SIGSTOP is logged, killed and restarted; the other worker\'s session stays up', async (t) => {
  const stack = await startStack(t, { worker_hang_timeout: HANG_TIMEOUT_S });
  const { sb } = stack;
  const victim = stack.workers.find((w) => w.index === 0);

  // A session of worker 1 with a request held across everything that follows
  // (wait 30 s: longer than the whole test).
  const keeper = await sessionOnWorker(stack, 1, { wait: '30' });
  const held = keeper.session.send({ timeoutMs: 40000 });
  assert.ok(await stillPending(held, 300), 'the empty request should be held');

  stack.stop(victim.pid);
  const stoppedAt = Date.now();

  const line = new RegExp(`ERROR \\[supervisor\\] worker 0 \\(pid ${victim.pid}\\) hung: no heartbeat for ${HANG_TIMEOUT_S} s`);
  await sb.waitForLog(line, { timeoutMs: 8000 });
  await waitUntil(`pid ${victim.pid} gone`, () => !processAlive(victim.pid), { timeoutMs: 3000 });
  const replacement = await waitUntil('worker 0 running again under a new pid', () =>
    workerProcesses(sb.child.pid).find((w) => w.index === 0 && w.pid !== victim.pid), { timeoutMs: 5000 });
  const elapsed = Date.now() - stoppedAt;
  t.diagnostic(`worker 0: pid ${victim.pid} stopped, pid ${replacement.pid} running ${elapsed} ms later`);
  // Silence counts from the last heartbeat, which came up to a beat interval
  // (timeout / 4) before the SIGSTOP.
  const earliest = HANG_TIMEOUT_S * 1000 * 3 / 4 - 200;
  assert.ok(elapsed >= earliest, `killed after ${elapsed} ms: before the timeout`);
  assert.ok(elapsed < HANG_TIMEOUT_S * 1000 + 4000, `killed after ${elapsed} ms: far beyond the timeout`);
  const other = workerProcesses(sb.child.pid).find((w) => w.index === 1);
  assert.equal(other.pid, stack.workers[1].pid, 'worker 1 was not touched');

  // Every new session succeeds, each on a fresh connection (SO_REUSEPORT spreads
  // them over both listeners); the new worker 0 takes its share.
  const owners = [];
  for (let i = 0; i < 32; i += 1) {
    const opened = await newSession(stack, 'after');
    owners.push(opened.worker);
  }
  const onNew = owners.filter((w) => w === 0).length;
  assert.ok(onNew > 0, `no new session on the restarted worker 0 (owners ${owners.join(',')})`);
  t.diagnostic(`32 new sessions, ${onNew} on the restarted worker 0`);

  // The session of worker 1 stayed up throughout: its request is still held, and
  // it works both ways (the new request releases the held one, empty).
  assert.ok(await stillPending(held, 100), 'the held request of worker 1\'s session was answered');
  await assertAlive(keeper, 'of worker 1');
  const released = await held;
  assert.equal(released.status, 200, released.describe());
  assert.equal(released.type, undefined, `held request: ${released.describe()}`);

  const { text, samples } = await scrape(sb.metricsUrl);
  assert.equal(samples['switchboard_worker_restarts_total{reason="hung"}'], 1);
  assert.equal(samples['switchboard_worker_restarts_total{reason="exited"}'], 0);
  assert.equal(samples.switchboard_workers, 2);
  const lint = promtoolCheck(text);
  assert.ok(lint.ok, `promtool check metrics:\n${lint.output}`);
});

test('busy workers keep their heartbeats: nobody is killed under load', async (t) => {
  const stack = await startStack(t, { worker_hang_timeout: HANG_TIMEOUT_S });
  const { sb } = stack;

  // Clients that create sessions and pass a stanza each way without a pause, for
  // three hang timeouts; every round trip must succeed.
  const until = Date.now() + 3 * HANG_TIMEOUT_S * 1000;
  let rounds = 0;
  const client = async () => {
    while (Date.now() < until) {
      const opened = await newSession(stack, 'busy');
      await assertAlive(opened, 'under load');
      rounds += 1;
    }
  };
  await Promise.all(Array.from({ length: 24 }, client));
  t.diagnostic(`${rounds} sessions created and used in ${3 * HANG_TIMEOUT_S} s`);
  assert.ok(rounds > 24, `only ${rounds} rounds: no load`);

  assert.doesNotMatch(sb.stderr(), /hung: no heartbeat/);
  assert.deepEqual(workerProcesses(sb.child.pid), stack.workers, 'the same two worker processes');
  const { samples } = await scrape(sb.metricsUrl);
  assert.equal(samples['switchboard_worker_restarts_total{reason="hung"}'], 0);
  assert.equal(samples['switchboard_worker_restarts_total{reason="exited"}'], 0);
});

test('a supervisor held up past the timeout does not take its workers for hung', async (t) => {
  const stack = await startStack(t, { worker_hang_timeout: HANG_TIMEOUT_S });
  const { sb } = stack;
  // The supervisor, not a worker, stops for twice the timeout: its hang timers
  // expire while the heartbeats wait unread on the pipes.
  stack.stop(sb.child.pid);
  await sleep(2 * HANG_TIMEOUT_S * 1000);
  stack.resume(sb.child.pid);
  await sleep(HANG_TIMEOUT_S * 1000);  // a whole timeout more, with the loop running
  assert.doesNotMatch(sb.stderr(), /hung: no heartbeat/);
  assert.deepEqual(workerProcesses(sb.child.pid), stack.workers, 'the same two worker processes');
  const opened = await newSession(stack, 'after-pause');
  await assertAlive(opened, 'after the supervisor\'s pause');
  const { samples } = await scrape(sb.metricsUrl);
  assert.equal(samples['switchboard_worker_restarts_total{reason="hung"}'], 0);
});

test('worker_hang_timeout = 0 leaves a stopped worker alone; a reload to 2 turns the watch on', async (t) => {
  const stack = await startStack(t, { worker_hang_timeout: 0 });
  const { sb } = stack;
  const victim = stack.workers.find((w) => w.index === 0);

  stack.stop(victim.pid);
  await sleep(2 * HANG_TIMEOUT_S * 1000);
  assert.equal(processState(victim.pid), 'T', 'the stopped worker is still there, stopped');
  assert.doesNotMatch(sb.stderr(), /hung: no heartbeat/);
  stack.resume(victim.pid);
  const resumed = await newSession(stack, 'resumed');  // the daemon serves again
  await assertAlive(resumed, 'after SIGCONT');

  sb.writeConfig({ workers: 2, worker_hang_timeout: HANG_TIMEOUT_S });
  sb.reload();
  await sb.waitForLog(/reload 1 done: every worker runs it/);
  assert.match(sb.stderr(), /reload 1: changed worker_hang_timeout/);

  stack.stop(victim.pid);
  await sb.waitForLog(new RegExp(`worker 0 \\(pid ${victim.pid}\\) hung`), { timeoutMs: 8000 });
  await waitUntil('worker 0 running again under a new pid', () =>
    workerProcesses(sb.child.pid).find((w) => w.index === 0 && w.pid !== victim.pid), { timeoutMs: 5000 });
  assert.ok(!processAlive(victim.pid), 'the hung worker was killed');
  const { samples } = await scrape(sb.metricsUrl);
  assert.equal(samples['switchboard_worker_restarts_total{reason="hung"}'], 1);
});
