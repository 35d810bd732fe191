'use strict';
// Conformance: an upgrade in place with several workers (docs/upgrade.md,
// "Several workers"). SIGUSR2 to the supervisor starts a new supervisor beside
// it; each new worker takes the listener and the sessions of the old worker of
// its index, straight from it, and no old worker lets go before every new one
// holds its records. Clients keep their connections and rids; requests that
// land on the other worker are handed over as before; a new binary that cannot
// run, or a changed worker count, leaves the old daemon serving everything.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const {
  startStackFor, assertAlive, assertWrapper, stillPending, attrPattern, sleep, uniqueDomain,
  sessionsOnEveryWorker,
} = require('./lib/stack');
const { BoshSession } = require('../lib/bosh');
const { processGone } = require('../lib/switchboard');
const { waitUntil } = require('../lib/proc');
const { WsClient, destroyWsSockets } = require('./lib/ws_client');
const { makeCertificate, tlsExchange, CREATION_HEAD } = require('./lib/tls_client');
const { freePort, listenInodes } = require('../lib/ports');
const { scrape } = require(path.join(__dirname, '..', 'integration', 'lib', 'metrics.js'));
const { workerProcesses } = require(path.join(__dirname, '..', 'integration', 'lib', 'worker_procs.js'));
const { bodyXml } = require('../lib/bosh');
const { HttpConnection, requestBytes } = require('../lib/raw_http');

const WORKERS = 2;
const workerOf = (sid) => Number(/^w(\d+)\./.exec(sid)[1]);


const upgradeLine = /upgrade: (\d+) sessions moved, (\d+) ended \(([^)]*)\), [\d.]+ s/;

test('every worker\'s sessions move, held polls and all, and chat on', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'w', { workers: WORKERS, each: 2 });
  const held = all.map(({ session }) => session.send());
  for (const h of held) assert.ok(await stillPending(h, 50), 'held before the upgrade');

  const { oldPid, newPid, moved, line } = await sb.upgrade();
  assert.notEqual(newPid, oldPid);
  assert.equal(moved, all.length, line);
  assert.match(line, /0 ended \(none\)/);
  for (const h of held) assert.ok(await stillPending(h, 20), 'still held after the upgrade');
  // The server's next stanza reaches each held poll, through the new workers.
  all.forEach(({ conn }, i) => conn.send(`<message id='after-${i}' from='a@b'/>`));
  for (let i = 0; i < all.length; i += 1) {
    const reply = await held[i];
    assertWrapper(reply);
    assert.match(reply.payload, attrPattern('id', `after-${i}`));
  }
  for (const s of all) await assertAlive(s, `worker ${s.worker}'s session after the upgrade`);
});

test('a request on a connection to the other worker is handed over after the upgrade', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: process.env.SB_LOG_LEVEL || 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'hand', { workers: WORKERS, each: 1 });
  if (!process.env.SB_NO_UPGRADE) await sb.upgrade();
  // Every request below comes on a connection of its own (tests/lib/raw_http.js):
  // the kernel spreads them over both new workers, so about half must be
  // handed to the owner, as before any upgrade.
  for (let round = 0; round < 6; round += 1) {
    for (const s of all) {
      const pending = s.session.send({ payload: `<message id='r${round}-${s.worker}' to='p@x'/>` });
      await s.conn.waitStanza(attrPattern('id', `r${round}-${s.worker}`));
      s.conn.send(`<message id='a${round}-${s.worker}' from='p@x'/>`);
      assert.match((await pending).payload, attrPattern('id', `a${round}-${s.worker}`));
    }
  }
});

test('WebSocket sessions on every worker move with their connections', async (t) => {
  t.after(destroyWsSockets);
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const sockets = [];
  for (let i = 0; i < 6; i += 1) {
    const ws = await WsClient.open(sb.port);
    const to = uniqueDomain(`ws-${i}`);
    ws.sendOpen(to);
    const conn = await upstream.connection(to);
    await ws.frame(1);
    sockets.push({ ws, conn });
  }
  const { moved, line } = await sb.upgrade();
  assert.equal(moved, sockets.length, line);
  for (const [i, { ws, conn }] of sockets.entries()) {
    ws.sendText(`<message xmlns='jabber:client' id='ws-out-${i}' to='p@x'/>`);
    await conn.waitStanza(attrPattern('id', `ws-out-${i}`));
    conn.send(`<message id='ws-in-${i}' from='p@x'/>`);
    assert.match(await ws.waitText(`ws-in-${i}`), attrPattern('id', `ws-in-${i}`));
  }
});

test('metrics go on across the upgrade (no reset), and count what moved', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' }, { metrics: true });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'm', { workers: WORKERS, each: 1 });
  const before = (await scrape(sb.metricsUrl)).samples;
  assert.equal(before.switchboard_sessions_created_total, all.length);
  const sockets = { http: listenInodes(sb.port), metrics: listenInodes(sb.metricsPort) };
  assert.equal(sockets.http.length, WORKERS);
  const { moved } = await sb.upgrade();
  assert.deepEqual({ http: listenInodes(sb.port), metrics: listenInodes(sb.metricsPort) }, sockets,
    'the new daemon listens on the very sockets of the old (workers\' and metrics)');
  assert.equal(moved, all.length);
  const deadline = Date.now() + 5000;
  let after = (await scrape(sb.metricsUrl)).samples;
  while (after.switchboard_sessions !== all.length && Date.now() < deadline) {
    await sleep(100);
    after = (await scrape(sb.metricsUrl)).samples;
  }
  assert.equal(after.switchboard_sessions_created_total, all.length, 'the counter went on');
  assert.equal(after['switchboard_upgrade_sessions_total{outcome="moved",reason="none"}'], all.length);
  assert.equal(after.switchboard_sessions, all.length, 'the gauge counts them, once each');
  assert.equal(after.switchboard_workers, WORKERS);
});

test('a new binary that refuses its configuration, or a changed worker count: the old daemon keeps everything', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'keep', { workers: WORKERS, each: 1 });
  const held = all.map(({ session }) => session.send());
  const pid = sb.pid;

  fs.writeFileSync(sb.configFile, 'listen = 12\n');  // what the next binary would read
  process.kill(pid, 'SIGUSR2');
  await sb.waitForLog(/upgrade failed: [^\n]*every worker keeps its sessions/);

  sb.writeConfig({ workers: WORKERS + 1, log_level: 'info' });
  process.kill(pid, 'SIGUSR2');
  const text = await sb.waitForLog(/upgrade failed: [^\n]*every worker keeps its sessions/, { count: 2 });
  assert.match(text, /an upgrade in place keeps the count/);

  sb.writeConfig({ workers: WORKERS, log_level: 'info' });
  assert.equal(sb.pid, pid);
  for (const h of held) assert.ok(await stillPending(h, 20), 'every held request is still held');
  all.forEach(({ conn }, i) => conn.send(`<message id='kept-${i}' from='a@b'/>`));
  for (let i = 0; i < all.length; i += 1) assert.match((await held[i]).payload, attrPattern('id', `kept-${i}`));
  for (const s of all) await assertAlive(s, 'after the failed upgrades');
  // And then one that works.
  const { moved } = await sb.upgrade();
  assert.equal(moved, all.length);
  for (const s of all) await assertAlive(s, 'after the upgrade that worked');
});

test('switchboard upgrade with several workers: the pid file, the outcome line, two in a row', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-upgrade-workers-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pidFile = path.join(dir, 'switchboard.pid');
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, pid_file: pidFile });
  const all = await sessionsOnEveryWorker(sb, upstream, 'cmd', { workers: WORKERS, each: 1 });
  let oldPid = sb.pid;
  for (let round = 1; round <= 2; round += 1) {
    const run = spawnSync(sb.binary, ['upgrade', '--config', sb.configFile], { encoding: 'utf8', timeout: 60000 });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const last = run.stdout.trim().split('\n').pop();
    assert.match(last, new RegExp(`^switchboard upgrade: pid \\d+ took over from pid ${oldPid}; upgrade: ${all.length} sessions moved, 0 ended \\(none\\), [\\d.]+ s$`));
    const newPid = Number(/pid (\d+) took over/.exec(last)[1]);
    await waitUntil('the old daemon exits', () => processGone(oldPid));
    sb.upgradedPid = newPid;
    sb.upgrades = round;
    assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), newPid, 'the pid file names the new daemon');
    for (const s of all) await assertAlive(s, `after upgrade ${round}`);
    oldPid = newPid;
  }
});

test('requests keep coming on fresh connections through the upgrade: none is lost or refused', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'debug' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'busy', { workers: WORKERS, each: 4 });
  // Each session echoes a stanza through the server, one request after the
  // other, each on a connection of its own: about half of them land on the
  // other worker and are handed over, before, during and after the move.
  let stop = false;
  const counts = all.map(() => 0);
  const loops = all.map(async ({ session, conn }, i) => {
    while (!stop) {
      const id = `echo-${i}-${counts[i]}`;
      const pending = session.send({ payload: `<message id='${id}' to='p@x'/>` });
      await conn.waitStanza(attrPattern('id', id));
      conn.send(`<message id='${id}-back' from='p@x'/>`);
      const reply = await pending;
      assert.equal(reply.status, 200, `${id}: ${reply.describe()}`);
      assert.equal(reply.type, undefined, `${id}: ${reply.describe()}`);
      assert.match(reply.payload, attrPattern('id', `${id}-back`), reply.describe());
      counts[i] += 1;
    }
  });
  await sleep(500);
  const { moved, line } = await sb.upgrade();
  assert.equal(moved, all.length, line);
  await sleep(500);
  stop = true;
  await Promise.all(loops);
  for (const [i, n] of counts.entries()) assert.ok(n >= 3, `session ${i} went on: ${n} round trips`);
  const log = sb.stderr();
  const handed = (log.match(/connection adopted from another worker/g) || []).length;
  assert.ok(handed > 0, 'requests were handed between workers');
});

test('BOSH over HTTPS with two workers: held requests (relayed ones too) are answered early, every session moves', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-upgrade-workers-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { cert, key } = makeCertificate(dir);
  const tlsPort = await freePort();
  const { sb, upstream } = await startStackFor(t, {
    workers: WORKERS, log_level: 'info', tls_listen: `127.0.0.1:${tlsPort}`, tls_cert_file: cert, tls_key_file: key,
  });
  await sb.waitForLog(/all 2 workers listening/);
  // Sessions until both workers own some; each held request comes on a TLS
  // connection of its own, so about half reach the other worker and are
  // relayed to the owner (the relay's TLS stays in the worker that accepted it).
  const sessions = [];
  const per = new Array(WORKERS).fill(0);
  for (let n = 0; per.some((c) => c < 2); n += 1) {
    assert.ok(n < 60, `no sessions on both workers: ${per}`);
    const to = uniqueDomain(`tls-${n}`);
    const creation = await tlsExchange(tlsPort,
      { head: CREATION_HEAD, body: bodyXml(BoshSession.creationAttrs(to, { rid: '100', wait: '30' })) });
    assert.equal(creation.status, 200, creation.text);
    const sid = /sid=['"]([^'"]+)['"]/.exec(creation.text)[1];
    per[workerOf(sid)] += 1;
    const conn = await upstream.connection(to);
    const over = (rid, payload = '') => tlsExchange(tlsPort,
      { head: CREATION_HEAD, body: bodyXml({ rid: String(rid), sid }, payload) });
    sessions.push({ sid, conn, over, held: over(101) });
  }
  await sleep(300);
  const { moved, line } = await sb.upgrade();
  assert.equal(moved, sessions.length, line);
  assert.match(line, /0 ended \(none\)/);
  for (const [i, s] of sessions.entries()) {
    const early = await s.held;
    assert.equal(early.status, 200, early.text);
    assert.doesNotMatch(early.text, /terminate/, 'answered as its wait would have: empty');
    const next = s.over(102, `<message id='tls-out-${i}' to='p@x'/>`);
    await s.conn.waitStanza(attrPattern('id', `tls-out-${i}`));
    s.conn.send(`<message id='tls-in-${i}' from='p@x'/>`);
    const reply = await next;
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.text, attrPattern('id', `tls-in-${i}`));
  }
});

/**
 * A request half sent when the daemon moves: its head and half its body before
 * SIGUSR2, the rest after. The old process read the half, so the connection
 * stays there; when the request is whole it goes on, with its connection, to
 * the new daemon (successor_link.hpp), which answers it as if nothing happened.
 */
async function halfReadRequest(sb, upstream, label) {
  const to = uniqueDomain(label);
  const session = await BoshSession.create(sb.port, to);
  const conn = await upstream.connection(to);
  const raw = requestBytes({ headers: [['Host', 'x'], ['Content-Type', 'text/xml; charset=utf-8']],
    body: session.xml({ payload: `<message id='${label}-half' to='p@x'/>` }) });
  session.rid += 1;
  const cut = raw.length - 20;
  const http = await HttpConnection.open(sb.port);
  http.write(raw.subarray(0, cut));
  await sleep(300);  // read by the daemon: the request is half in
  // The rest comes while the old process still lives, as a client's would, a
  // moment after the move.
  const { line } = await sb.upgrade({ beforeOldExits: () => http.writeMore(raw.subarray(cut)) });
  await conn.waitStanza(attrPattern('id', `${label}-half`));
  conn.send(`<message id='${label}-answer' from='p@x'/>`);
  const reply = await http.next();
  assert.equal(reply.status, 200, reply.body);
  assert.match(reply.body, attrPattern('id', `${label}-answer`));
  assert.match(sb.stderr(), /client connections stay in this process \(a request half read 1\)/);
  await assertAlive({ session, conn }, 'after its request went on');
  return line;
}

test('a request half read when the workers move goes on to the new one whole, and is answered', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  await halfReadRequest(sb, upstream, 'half-workers');
});

test('a request half read when the lone daemon moves goes on to the new one whole, and is answered', async (t) => {
  const { sb, upstream } = await startStackFor(t, { log_level: 'info' });
  await halfReadRequest(sb, upstream, 'half-alone');
});

test('while a worker restarts, or a reload runs, SIGUSR2 is refused cleanly; then it goes through', async (t) => {
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'restart', { workers: WORKERS, each: 1 });
  const survivor = all.find((s) => s.worker === 0);
  // Worker 1 dies; SIGUSR2 before its next process listens is refused.
  const started = [...sb.stderr().matchAll(/worker 1 started \(pid (\d+)\)/g)];
  process.kill(Number(started[started.length - 1][1]), 'SIGKILL');
  await sb.waitForLog(/worker 1 \(pid \d+\) killed by signal 9/);
  process.kill(sb.pid, 'SIGUSR2');
  await sb.waitForLog(/upgrade refused: worker 1 is not up/);
  await sb.waitForLog(/\[worker 1\] listening on http/, { count: 2 });  // its next process listens
  // SIGUSR2 while the workers apply a reload is refused. Worker 0 is stopped
  // for that moment, so the reload cannot finish before the second signal
  // (two signals sent back to back may be read one loop turn apart, and the
  // workers answer a reload within a millisecond).
  const worker0 = workerProcesses(sb.pid).find((w) => w.index === 0).pid;
  process.kill(worker0, 'SIGSTOP');
  try {
    sb.reload();
    await sb.waitForLog(/reload 1: /);
    process.kill(sb.pid, 'SIGUSR2');
    await sb.waitForLog(/upgrade refused: a reload is under way/);
  } finally {
    process.kill(worker0, 'SIGCONT');
  }
  await sb.waitForLog(/reload 1 done/);
  await assertAlive(survivor, 'after the refusals');
  const { moved, line } = await sb.upgrade();
  assert.ok(moved >= 1, line);
  await assertAlive(survivor, 'after the upgrade that went through');
});

test('a new worker killed just after taking its sessions over: its keeper has them, they continue', async (t) => {
  // docs/crash.md: a worker that took sessions over in an upgrade gives them to
  // its slot's keeper before its loop runs, so its death right after (here, the
  // moment it says it took them over) ends none of them.
  const { sb, upstream } = await startStackFor(t, { workers: WORKERS, log_level: 'info' });
  await sb.waitForLog(/all 2 workers listening/);
  const all = await sessionsOnEveryWorker(sb, upstream, 'tk', { workers: WORKERS, each: 2 });
  const upgrading = sb.upgrade();
  const started = await sb.waitForLog(/upgrade: started \S+ \(pid (\d+)\)/);
  const newPid = Number(/upgrade: started \S+ \(pid (\d+)\)/.exec(started)[1]);
  await sb.waitForLog(/\[worker 0\] upgrade: this worker took over \d+ sessions/);
  const victim = workerProcesses(newPid).find((w) => w.index === 0);
  assert.ok(victim, 'the new worker 0');
  process.kill(victim.pid, 'SIGKILL');
  const { moved } = await upgrading;
  assert.equal(moved, all.length);
  const text = await sb.waitForLog(/\[worker 0\] keeper: (\d+) of (\d+) sessions continue after the last process of this worker/);
  const [, continued, kept] = /\[worker 0\] keeper: (\d+) of (\d+) sessions continue/.exec(text);
  const mine = all.filter((s) => s.worker === 0).length;
  assert.equal(Number(kept), mine, 'the keeper had every session worker 0 took over');
  assert.equal(Number(continued), mine);
  for (const s of all) await assertAlive(s, `worker ${s.worker}'s session after the upgrade and the kill`);
});
