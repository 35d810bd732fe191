'use strict';
// Conformance: a crash of the whole daemon (docs/crash.md, "A crash of the whole
// daemon"). With `state_dir`, each keeper writes its sessions' records to a
// journal on disk. Every process of the daemon killed with SIGKILL (the
// supervisor, its workers and keepers) takes every TCP connection with it, so no
// session can continue; the next start reads the journals it left, counts the
// sessions that ended with it in the log, and answers a BOSH client returning
// with one of their sids remote-connection-failed (its session existed, and lost
// its server connection), while a sid never seen still gets item-not-found. A
// writer (keeper) killed before the crash is replaced and catches up: its
// successor's journal holds every session too. The journals read are removed, the new daemon's keepers write their own, and a
// clean stop removes those.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Switchboard } = require('../lib/switchboard');
const { ScriptedUpstream } = require('../lib/scripted_upstream');
const { BoshSession } = require('../lib/bosh');
const { waitUntil } = require('../lib/proc');
const { sessionsOnEveryWorker, assertTerminate, attrPattern, assertWrapper, sleep, uniqueDomain } = require('./lib/stack');
const { WsClient, destroyWsSockets } = require('./lib/ws_client');
const { workerProcesses, keeperProcesses, processAlive } = require(path.join(__dirname, '..', 'integration', 'lib', 'worker_procs.js'));

const WORKERS = 2;
const journals = (dir) => fs.readdirSync(dir).filter((f) => /^keeper-\d+\.\d+\.journal$/.test(f)).sort();

/**
 * A daemon with `state_dir` and `workers`, to be crashed (`first`), and its
 * upstream; the test sets `second`, the daemon started after the crash. At the
 * end both are stopped (the second cleanly: a problem it reports fails the
 * test) and the folders go.
 */
async function crashStack(t, workers) {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-state-'));
  const upstream = await new ScriptedUpstream().start();
  const config = (n) => ({ workers: n, log_level: 'info', state_dir: stateDir });
  const stack = { stateDir, upstream, config, second: null };
  stack.first = new Switchboard({ upstreamPort: upstream.port, config: config(workers) });
  t.after(async () => {
    destroyWsSockets();
    const { first, second } = stack;
    if (first.child && processAlive(first.child.pid)) process.kill(first.child.pid, 'SIGKILL');
    const problem = second ? await second.stop() : null;
    await upstream.stop();
    if (!process.env.SB_KEEP) {
      fs.rmSync(stateDir, { recursive: true, force: true });
      if (first.dir) fs.rmSync(first.dir, { recursive: true, force: true });
    }
    if (problem) throw new Error(problem);
  });
  return stack;
}

/** Every process of the daemon of `pid` killed at once, as `systemctl kill -s KILL` does; resolves when all are gone. */
async function killWholeDaemon(pid) {
  const victims = [pid, ...workerProcesses(pid).map((w) => w.pid), ...keeperProcesses(pid).map((k) => k.pid)];
  for (const p of victims) process.kill(p, 'SIGKILL');
  await waitUntil('every process of the daemon gone', () => victims.every((p) => !processAlive(p)));
  return victims;
}

test('after a crash of the whole daemon the next start knows the sessions it had', async (t) => {
  const stack = await crashStack(t, WORKERS);
  const { stateDir, upstream, first } = stack;
  await first.start();
  await first.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(first, upstream, 'daemon', { workers: WORKERS, each: 2 });
  for (const [i, s] of all.entries()) {
    const reply = s.session.send({ payload: `<message id='m${i}' to='a@b'/>` });
    await s.conn.waitStanza(attrPattern('id', `m${i}`));
    s.conn.send(`<message id='m${i}-back' from='a@b'/>`);
    assertWrapper(await reply);
  }
  // A WebSocket session too: it has no sid to come back with, but is counted.
  const ws = await WsClient.open(first.port);
  ws.sendOpen(uniqueDomain('daemon-ws'));
  await ws.frame(1);
  // One session ends before the crash: it is not counted as lost.
  const ended = all.pop();
  assertWrapper(await ended.session.send({ attrs: { type: 'terminate' } }));
  // The writer of slot 0 killed first: the new one asks its worker for every
  // session again and writes them all to its journal (the same file).
  await sleep(100);
  const keeper = keeperProcesses(first.child.pid).find((k) => k.index === 0);
  process.kill(keeper.pid, 'SIGKILL');
  await first.waitForLog(/\[worker 0\] keeper: a new keeper asked for every session/);
  await sleep(200);  // the keepers' last round of writing
  const pid = first.child.pid;
  assert.deepEqual(journals(stateDir), [`keeper-0.${pid}.journal`, `keeper-1.${pid}.journal`]);

  const victims = await killWholeDaemon(pid);
  assert.equal(victims.length, 1 + 2 * WORKERS);
  for (const s of all) await s.conn.waitEnd(5000);  // the kernel closed the server connections

  const second = new Switchboard({ upstreamPort: upstream.port, config: stack.config(WORKERS) });
  stack.second = second;
  await second.start();
  await second.waitForLog(/all 2 workers listening/);
  const text = await second.waitForLog(/sessions ended with it \(\d+ BOSH, \d+ WebSocket\)/g, { count: WORKERS });
  const counted = [...text.matchAll(/journal \S+: the daemon that wrote it died without a clean stop; (\d+) sessions ended with it \((\d+) BOSH, (\d+) WebSocket\)/g)];
  assert.equal(counted.length, WORKERS);
  const sum = (k) => counted.reduce((n, m) => n + Number(m[k]), 0);
  assert.equal(sum(2), all.length, 'every BOSH session that lived at the crash, the ended one not');
  assert.equal(sum(3), 1, 'the WebSocket session');
  assert.equal(sum(1), all.length + 1);

  // A returning client: its session existed, and ended with its server connection.
  for (const s of all) {
    const back = new BoshSession(second.port, { sid: s.session.sid, rid: s.session.rid, to: s.session.to });
    assertTerminate(await back.send(), 'remote-connection-failed');
  }
  const endedBack = new BoshSession(second.port, { sid: ended.session.sid, rid: ended.session.rid, to: ended.session.to });
  assertTerminate(await endedBack.send(), 'item-not-found');
  const stranger = new BoshSession(second.port, { sid: 'w0.neverseenbefore', rid: 1000, to: 'x' });
  assertTerminate(await stranger.send(), 'item-not-found');
  await second.waitForLog(/keeper: \d+ BOSH sessions of this worker ended in a crash of the whole daemon/, { count: 2 });

  // The journals read are gone; the new daemon's keepers write their own, and a
  // clean stop removes them.
  const secondPid = second.child.pid;
  assert.deepEqual(journals(stateDir), [`keeper-0.${secondPid}.journal`, `keeper-1.${secondPid}.journal`]);
  const problem = await second.stop();
  stack.second = null;
  assert.equal(problem, null);
  assert.deepEqual(journals(stateDir), [], 'a clean stop leaves no journal');
});

test('restarted with fewer workers, the next start still reads every journal the crash left', async (t) => {
  // workers = "auto" on a smaller machine, or an operator's change made while the
  // daemon was down: the journals of the indexes that are gone are read by
  // keeper index % workers, and a sid naming such an index is handed there.
  const stack = await crashStack(t, 3);
  const { stateDir, upstream, first } = stack;
  await first.start();
  await first.waitForLog(/all 3 workers listening/);
  const all = await sessionsOnEveryWorker(first, upstream, 'fewer', { workers: 3, each: 1 });
  await sleep(200);  // the keepers' round of writing
  const pid = first.child.pid;
  assert.equal(journals(stateDir).length, 3);
  await killWholeDaemon(pid);

  const second = new Switchboard({ upstreamPort: upstream.port, config: stack.config(2) });
  stack.second = second;
  await second.start();
  await second.waitForLog(/all 2 workers listening/);
  const text = await second.waitForLog(/sessions ended with it \(\d+ BOSH, \d+ WebSocket\)/g, { count: 3 });
  const counted = [...text.matchAll(/\[keeper (\d+)\] journal \S+keeper-(\d+)\.\d+\.journal: the daemon that wrote it died without a clean stop; (\d+) sessions ended with it/g)];
  assert.deepEqual(counted.map((m) => [Number(m[1]), Number(m[2])]).sort(), [[0, 0], [0, 2], [1, 1]],
    'keeper 0 reads index 0 and the gone index 2; keeper 1 reads index 1');
  assert.equal(counted.reduce((n, m) => n + Number(m[3]), 0), all.length);
  for (const s of all) {
    const back = new BoshSession(second.port, { sid: s.session.sid, rid: s.session.rid, to: s.session.to });
    assertTerminate(await back.send(), 'remote-connection-failed');
  }
  const secondPid = second.child.pid;
  assert.deepEqual(journals(stateDir), [`keeper-0.${secondPid}.journal`, `keeper-1.${secondPid}.journal`],
    'no journal of the gone index is left behind');
});
