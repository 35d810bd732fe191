'use strict';
// Conformance: a worker that dies loses no session (docs/crash.md). With
// several workers each worker slot has a keeper process holding its sessions'
// records and server sockets; a worker killed with SIGKILL is restarted, takes
// them back and every session continues under its sid, on the same connection
// to the XMPP server: requests the dead worker held are resent by the client
// (same rid, XEP-0124 §14) and get what the server sent meanwhile; what the
// client sends next reaches the server once. A session that ends is dropped by
// the keeper (its server connection closes at once); keep_sessions = false
// restores the old outcome (the sessions end with the worker). A WebSocket
// session is kept with its client's connection: the client sees nothing at
// all, not even a message in part lost.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const {
  startStackFor, assertAlive, assertWrapper, stillPending, attrPattern, assertSessionGone,
  sessionsOnEveryWorker, uniqueDomain, sleep,
} = require('./lib/stack');
const { waitUntil } = require('../lib/proc');
const { workerProcesses, keeperProcesses, processAlive } = require(path.join(__dirname, '..', 'integration', 'lib', 'worker_procs.js'));
const { WsClient, destroyWsSockets, frameBytes, OP } = require('./lib/ws_client');

const WORKERS = 2;
const recoveryLine = /keeper: (\d+) of (\d+) sessions continue after the last process of this worker(?:; ended: ([^(]*))? \((\d+) ms\)/;


/**
 * One message each way: the client's stanza reaches the server (once), the
 * server's answer comes back in the response to that same request.
 */
async function chat(s, id) {
  const reply = s.session.send({ payload: `<message id='${id}' to='a@b'/>` });
  await s.conn.waitStanza(attrPattern('id', id));
  s.conn.send(`<message id='${id}-back' from='a@b'/>`);
  const answer = await reply;
  assertWrapper(answer);
  assert.match(answer.payload, attrPattern('id', `${id}-back`));
  assert.equal(s.conn.stanzas.filter((x) => attrPattern('id', id).test(x)).length, 1, `${id} reached the server once`);
}

/** The pid of worker `index` (waits for it to run). */
function workerPid(sb, index) {
  return waitUntil(`worker ${index}'s process`, () => {
    const found = workerProcesses(sb.child.pid).find((w) => w.index === index);
    return found && found.pid;
  });
}

/**
 * Kills worker `index` with SIGKILL; resolves with the recovery line's figures
 * once its successor took its sessions. It first lets the worker end the loop
 * turn that answered the test's last request: a session is recorded at the
 * end of the turn that changed it, and a worker killed between its answer and
 * that record ends the session (unrecorded-write, docs/crash.md), which a
 * loaded machine can make happen.
 */
async function killWorker(sb, index) {
  await sleep(100);
  const pid = await workerPid(sb, index);
  const handed = new RegExp(`\\[keeper ${index}\\] (\\d+) sessions handed to the worker`);
  const lines = (pattern) => sb.stderr().split('\n').filter((l) => pattern.test(l));
  const seen = lines(handed).length;
  const seenRecoveries = lines(recoveryLine).length;
  process.kill(pid, 'SIGKILL');
  await waitUntil(`worker ${index} (pid ${pid}) gone`, () => !processAlive(pid));
  const keeperLine = await waitUntil('the keeper handing the sessions back', () => {
    const found = lines(handed);
    return found.length > seen && found[found.length - 1];
  }, { timeoutMs: 10000 });
  const kept = Number(handed.exec(keeperLine)[1]);
  if (kept === 0) return { continued: 0, kept, ended: '', pid };
  const line = await waitUntil('the recovery line', () => {
    const found = lines(recoveryLine);
    return found.length > seenRecoveries && found[found.length - 1];
  }, { timeoutMs: 10000 });
  const [, continued, keptToo, ended] = recoveryLine.exec(line);
  assert.equal(Number(keptToo), kept);
  return { continued: Number(continued), kept, ended: ended || '', line, pid };
}

test('a worker killed with SIGKILL: its sessions continue, the others never notice', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'kill', { workers: WORKERS, each: 2 });
  const connections = upstream.connectionCount;
  // One message each way first, so the rids and the server stream have moved.
  for (const [i, s] of all.entries()) await chat(s, `before-${i}`);
  const held = all.map(({ session }) => session.send());
  for (const h of held) assert.ok(await stillPending(h, 50), 'held before the kill');

  const victims = all.filter((s) => s.worker === 0);
  const { continued, kept, ended } = await killWorker(sb, 0);
  assert.equal(kept, victims.length, 'the keeper held every session of the worker');
  assert.equal(continued, victims.length, `every session continues (ended: ${ended})`);

  // The dead worker's held polls failed with their connections; the other
  // worker's are still held.
  for (const [i, s] of all.entries()) {
    if (s.worker === 0) {
      await assert.rejects(held[i], 'the held poll died with its worker');
    } else {
      assert.ok(await stillPending(held[i], 20), 'the other worker\'s poll is still held');
    }
  }
  // The server speaks while nobody holds a request: it waits for the resend.
  victims.forEach(({ conn }, i) => conn.send(`<message id='meanwhile-${i}' from='a@b'/>`));
  for (const [i, s] of victims.entries()) {
    const resent = await s.session.send({ rid: s.session.rid });  // the same rid again
    assertWrapper(resent);
    assert.match(resent.payload, attrPattern('id', `meanwhile-${i}`));
  }
  // Each session goes on, one message each way, on the same server connection.
  for (const [i, s] of victims.entries()) {
    await chat(s, `after-${i}`);
    assert.equal(s.conn.ended, false, 'the same server connection');
    await assertAlive(s, `session ${i} after its worker died`);
  }
  assert.equal(upstream.connectionCount, connections, 'no new server connection');
  // The other worker's sessions: their held polls get the next stanza.
  for (const [i, s] of all.entries()) {
    if (s.worker === 0) continue;
    s.conn.send(`<message id='other-${i}' from='a@b'/>`);
    const reply = await held[i];
    assertWrapper(reply);
    assert.match(reply.payload, attrPattern('id', `other-${i}`));
  }
});

/** WebSocket sessions until each worker has `each`: { ws, conn, worker, to }. */
async function wsSessionsOnEveryWorker(sb, upstream, label, each) {
  const out = [];
  const per = new Array(WORKERS).fill(0);
  for (let n = 0; per.some((c) => c < each); n += 1) {
    if (n > 60) throw new Error(`no WebSocket session on every worker after ${n} tries: ${per}`);
    const ws = await WsClient.open(sb.port);
    const to = uniqueDomain(`${label}-${n}`);
    ws.sendOpen(to);
    const conn = await upstream.connection(to);
    await ws.frame(1);
    const created = new RegExp(`session w(\\d+)\\.ws\\d+\\.\\.\\. created for ${to.replace(/\./g, '\\.')}`);
    const worker = Number(created.exec(await sb.waitForLog(created))[1]);
    per[worker] += 1;
    out.push({ ws, conn, worker, to });
  }
  return out;
}

/** One message each way on a WebSocket session: reaches the server once, comes back. */
async function wsChat(s, id) {
  s.ws.sendText(`<message xmlns='jabber:client' id='${id}' to='p@x'/>`);
  await s.conn.waitStanza(attrPattern('id', id));
  s.conn.send(`<message id='${id}-back' from='p@x'/>`);
  assert.match(await s.ws.waitText(`${id}-back`), attrPattern('id', `${id}-back`));
  assert.equal(s.conn.stanzas.filter((x) => attrPattern('id', id).test(x)).length, 1, `${id} reached the server once`);
}

test('WebSocket sessions continue through their worker\'s death, on the same connections', async (t) => {
  t.after(destroyWsSockets);
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await wsSessionsOnEveryWorker(sb, upstream, 'wskill', 2);
  const connections = upstream.connectionCount;
  for (const [i, s] of all.entries()) await wsChat(s, `before-${i}`);
  const victims = all.filter((s) => s.worker === 0);
  // The first client leaves a message in part: its first bytes are read (and
  // kept, in the record's frame parser) before the kill, the rest come after.
  const split = frameBytes(OP.text, Buffer.from("<message xmlns='jabber:client' id='split' to='p@x'/>"));
  victims[0].ws.sendRaw(split.subarray(0, 20));
  await sleep(100);

  const { continued, kept, ended } = await killWorker(sb, 0);
  assert.equal(kept, victims.length, 'the keeper held every session of the worker');
  assert.equal(continued, victims.length, `every session continues (ended: ${ended})`);
  // The server spoke while the worker was down, or being replaced: it comes through.
  victims.forEach(({ conn }, i) => conn.send(`<message id='meanwhile-${i}' from='p@x'/>`));
  for (const [i, s] of victims.entries()) {
    assert.match(await s.ws.waitText(`meanwhile-${i}`), attrPattern('id', `meanwhile-${i}`));
  }
  victims[0].ws.sendRaw(split.subarray(20));
  await victims[0].conn.waitStanza(attrPattern('id', 'split'));
  for (const [i, s] of all.entries()) {
    await wsChat(s, `after-${i}`);
    assert.equal(s.ws.tcpEnded, false, 'the same client connection');
    assert.equal(s.conn.ended, false, 'the same server connection');
  }
  assert.equal(upstream.connectionCount, connections, 'no new server connection');
  for (const s of all) {
    assert.equal(s.ws.frames.filter((f) => f.opcode === OP.close).length, 0, 'no close frame');
  }
  // The restarted worker keeps them in turn: killed again, they continue again.
  const again = await killWorker(sb, 0);
  assert.equal(again.continued, victims.length, `kept by the restarted worker (ended: ${again.ended})`);
  for (const [i, s] of victims.entries()) await wsChat(s, `again-${i}`);
});

test('a keeper killed: its worker\'s sessions never notice, a new keeper takes them all again', async (t) => {
  t.after(destroyWsSockets);
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'keeper', { workers: WORKERS, each: 2 });
  const sockets = await wsSessionsOnEveryWorker(sb, upstream, 'wskeeper', 1);
  for (const [i, s] of all.entries()) await chat(s, `before-${i}`);
  await sleep(100);
  const keeper = await waitUntil('keeper 0', () => keeperProcesses(sb.child.pid).find((k) => k.index === 0));
  process.kill(keeper.pid, 'SIGKILL');
  await sb.waitForLog(new RegExp(`keeper 0 \\(pid ${keeper.pid}\\) ended [^\\n]*starting it again`));
  const onWorker0 = all.filter((s) => s.worker === 0).length + sockets.filter((s) => s.worker === 0).length;
  const resent = await sb.waitForLog(/\[worker 0\] keeper: a new keeper asked for every session; sending \d+ again/);
  assert.match(resent, new RegExp(`sending ${onWorker0} again`));
  // Nobody noticed: every session goes on, BOSH and WebSocket.
  for (const [i, s] of all.entries()) await chat(s, `during-${i}`);
  for (const [i, s] of sockets.entries()) await wsChat(s, `during-ws-${i}`);
  // The new keeper holds them all: the worker killed now, they all continue.
  await sleep(100);
  const { continued, kept, ended } = await killWorker(sb, 0);
  assert.equal(kept, onWorker0, 'the new keeper held every session of the worker');
  assert.equal(continued, onWorker0, `every session continues (ended: ${ended})`);
  for (const [i, s] of all.entries()) await chat(s, `after-${i}`);
  for (const [i, s] of sockets.entries()) await wsChat(s, `after-ws-${i}`);
});

test('a worker killed while its keeper is behind: what the keeper had not read yet still counts', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'behind', { workers: WORKERS, each: 2 });
  for (const [i, s] of all.entries()) await chat(s, `before-${i}`);
  await sleep(100);
  const victims = all.filter((s) => s.worker === 0);
  const keeper = await waitUntil('keeper 0', () => keeperProcesses(sb.child.pid).find((k) => k.index === 0));
  process.kill(keeper.pid, 'SIGSTOP');  // it reads nothing more: the worker's records wait in the socket
  try {
    for (const [i, s] of victims.entries()) await chat(s, `unread-${i}`);
    await sleep(100);
    const pid = await workerPid(sb, 0);
    const seen = (sb.stderr().match(new RegExp(recoveryLine.source, 'g')) || []).length;
    process.kill(pid, 'SIGKILL');
    await waitUntil('worker 0 gone', () => !processAlive(pid));
    await sb.waitForLog(/worker 0 started/, { count: 2 });
    await sleep(200);  // the new worker asks the stopped keeper, and waits
    process.kill(keeper.pid, 'SIGCONT');
    const text = await sb.waitForLog(recoveryLine, { count: seen + 1, timeoutMs: 15000 });
    const [, continued, kept, ended] = recoveryLine.exec(text.match(new RegExp(recoveryLine.source, 'g')).pop());
    assert.equal(Number(kept), victims.length);
    assert.equal(Number(continued), victims.length, `every session continues from its latest record (ended: ${ended})`);
  } finally {
    if (processAlive(keeper.pid)) process.kill(keeper.pid, 'SIGCONT');
  }
  for (const [i, s] of all.entries()) await chat(s, `after-${i}`);
  for (const s of victims) assert.equal(s.conn.ended, false, 'the same server connection');
});

test('killed twice: the restarted worker keeps what it took up', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'twice', { workers: WORKERS, each: 2 });
  const victims = all.filter((s) => s.worker === 1);
  for (let round = 0; round < 2; round += 1) {
    const { continued, kept } = await killWorker(sb, 1);
    assert.equal(kept, victims.length, `round ${round}: kept`);
    assert.equal(continued, victims.length, `round ${round}: continued`);
    for (const [i, s] of victims.entries()) await chat(s, `r${round}-${i}`);
  }
  for (const s of all) await assertAlive(s, `worker ${s.worker}'s session`);
});

test('a hung worker killed by the hang watch: its sessions continue too', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info', worker_hang_timeout: 2 });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'hung', { workers: WORKERS, each: 2 });
  const victims = all.filter((s) => s.worker === 0);
  for (const [i, s] of all.entries()) await chat(s, `before-${i}`);
  // The end of the turn that answered the last chat records it: a worker
  // stopped between its answer and that record would end the session
  // (unrecorded-write), as docs/crash.md says of a death in mid-turn.
  await sleep(100);
  const pid = await workerPid(sb, 0);
  process.kill(pid, 'SIGSTOP');  // its loop no longer turns: the supervisor kills it
  try {
    await sb.waitForLog(/worker 0 \(pid \d+\) .*hung|killed by signal 9/, { timeoutMs: 15000 });
    const text = await sb.waitForLog(recoveryLine, { timeoutMs: 15000 });
    const [, continued, kept] = recoveryLine.exec(text.match(new RegExp(recoveryLine.source, 'g')).pop());
    assert.equal(Number(kept), victims.length);
    assert.equal(Number(continued), victims.length);
  } finally {
    if (processAlive(pid)) process.kill(pid, 'SIGCONT');
  }
  for (const [i, s] of all.entries()) await chat(s, `after-${i}`);
  for (const s of victims) assert.equal(s.conn.ended, false, 'the same server connection');
});

test('a session that ends is let go by the keeper: its connections close', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'end', { workers: WORKERS, each: 1 });
  for (const s of all) {
    const reply = await s.session.send({ attrs: { type: 'terminate' } });
    assert.equal(reply.status, 200);
    await s.conn.waitStreamClose(2000);
    await s.conn.waitEnd(2000);  // not held open by the keeper's copy of the socket
  }
  // WebSocket sessions closed by their clients: both connections close, though
  // the keeper held a copy of each socket.
  t.after(destroyWsSockets);
  const sockets = await wsSessionsOnEveryWorker(sb, upstream, 'wsend', 1);
  for (const [i, s] of sockets.entries()) await wsChat(s, `kept-${i}`);
  await sleep(50);  // the records (and the sockets' copies) reach the keepers
  for (const s of sockets) {
    s.ws.sendClose(1000);
    await s.ws.waitEnd(2000);
    await s.conn.waitEnd(2000);
  }
  // The keeper holds nothing for them now: a killed worker has none to take up.
  const { kept } = await killWorker(sb, 0);
  assert.equal(kept, 0);
  for (const s of all) await assertSessionGone(s.session);
});

test('keep_sessions = false: a killed worker\'s sessions end with it', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info', keep_sessions: false });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'off', { workers: WORKERS, each: 1 });
  assert.doesNotMatch(sb.stderr(), /keeper \d started/);
  const victim = all.find((s) => s.worker === 0);
  const pid = await workerPid(sb, 0);
  process.kill(pid, 'SIGKILL');
  await waitUntil('worker 0 gone', () => !processAlive(pid));
  await victim.conn.waitEnd(5000);  // the kernel closed its server connection
  await sb.waitForLog(/worker 0 started/, { count: 2 });
  await workerPid(sb, 0);
  await assertSessionGone(victim.session);
});
