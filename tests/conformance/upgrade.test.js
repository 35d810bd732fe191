'use strict';
// Conformance: an upgrade in place (SIGUSR2, docs/upgrade.md). The daemon runs
// the binary at its path beside itself, hands it the listening socket and every
// BOSH session with its sockets (held requests on their client connections,
// early requests, the response cache, key sequencing, the server link with a
// stanza half read), and exits. The clients below keep their TCP connections
// and their rids and notice nothing; a failed upgrade leaves the old daemon
// serving everything.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const {
  useStack, startStackFor, openSession, assertAlive, assertWrapper, assertTerminate,
  stillPending, attrPattern, sleep, uniqueDomain,
} = require('./lib/stack');
const { BoshSession, bodyXml } = require('../lib/bosh');
const { freePort, listenInodes } = require('../lib/ports');
const { scrape } = require(path.join(__dirname, '..', 'integration', 'lib', 'metrics.js'));
const { makeCertificate, tlsExchange, CREATION_HEAD } = require('./lib/tls_client');
const { processGone, findBinary } = require('../lib/switchboard');
const { waitUntil } = require('../lib/proc');
const { WsClient, OP, frameBytes, destroyWsSockets } = require('./lib/ws_client');

const sha1 = (text) => crypto.createHash('sha1').update(text).digest('hex');
/** [K(1), ..., K(n)] for `seed` (XEP-0124 §15). */
function keyChain(seed, n) {
  const keys = [sha1(seed)];
  while (keys.length < n) keys.push(sha1(keys[keys.length - 1]));
  return keys;
}

const stack = useStack();

test('a held long poll moves with its connection and gets the server\'s next stanza', async () => {
  const { session, conn } = await openSession(stack, 'held');
  const held = session.send();
  assert.ok(await stillPending(held, 200), 'held before the upgrade');
  const { oldPid, newPid, moved } = await stack.sb.upgrade();
  assert.notEqual(newPid, oldPid);
  assert.ok(moved >= 1, `sessions moved: ${moved}`);
  assert.ok(await stillPending(held, 200), 'still held after the upgrade');
  conn.send("<message id='after-upgrade' from='a@b'><body>hi</body></message>");
  const reply = await held;
  assertWrapper(reply);
  assert.match(reply.payload, attrPattern('id', 'after-upgrade'));
  await assertAlive({ session, conn }, 'after the upgrade');
});

test('a stanza the client sends through the moved session reaches the server', async () => {
  const { session, conn } = await openSession(stack, 'outbound');
  await stack.sb.upgrade();
  const pending = session.send({ payload: "<message id='out-1' to='peer@x'/>" });
  await conn.waitStanza(attrPattern('id', 'out-1'));
  conn.send("<message id='in-1' from='peer@x'/>");
  const reply = await pending;
  assert.match(reply.payload, attrPattern('id', 'in-1'));
});

test('an early request waits across the upgrade and is answered in order', async () => {
  const { session, conn } = await openSession(stack, 'early', { attrs: { hold: '2' } });
  const base = session.rid;
  const early = session.send({ rid: base + 2, payload: "<message id='e2' to='p@x'/>" });
  assert.ok(await stillPending(early, 200), 'the early request waits for its predecessor');
  await stack.sb.upgrade();
  const first = session.send({ rid: base + 1, payload: "<message id='e1' to='p@x'/>" });
  await conn.waitStanza(attrPattern('id', 'e1'));
  await conn.waitStanza(attrPattern('id', 'e2'));
  conn.send("<message id='e-answer' from='p@x'/>");
  const replies = await Promise.all([first, early]);
  const all = replies.map((r) => r.payload).join('');
  assert.match(all, attrPattern('id', 'e-answer'));
});

test('a held request whose wait ends within 8 s is answered before the move, as its wait would', async () => {
  // The move holds the loop still for a moment; a client gives an answer little
  // more than its wait (Strophe.js: 1.1 times) before it calls it lost.
  const { session, conn } = await openSession(stack, 'due-soon');  // wait 10
  const held = session.send();
  await sleep(2500);  // 7.5 s of its wait left
  let answeredAt = 0;
  held.then(() => { answeredAt = Date.now(); });
  const asked = Date.now();
  await stack.sb.upgrade();
  const reply = await held;
  assertWrapper(reply);
  assert.equal(reply.payload, '', 'empty, as its wait would have answered it');
  assert.ok(answeredAt - asked < 5000, `answered at the move, not at its wait's end (${answeredAt - asked} ms)`);
  await assertAlive({ session, conn }, 'after the move');
});

test('the response cache moves: a resent rid gets the same answer', async () => {
  const { session, conn } = await openSession(stack, 'cache');
  const pending = session.send();
  conn.send("<message id='cached' from='a@b'/>");
  const reply = await pending;
  assert.match(reply.payload, attrPattern('id', 'cached'));
  await stack.sb.upgrade();
  const again = await session.send({ rid: session.rid });
  assert.equal(again.text, reply.text, 'the resend gets the kept response');
});

test('a stanza the server had half sent when the session moved arrives whole', async () => {
  const { session, conn } = await openSession(stack, 'half');
  conn.send("<message id='split' from='a@b'><body>first half, ");
  await sleep(100);
  await stack.sb.upgrade();
  const pending = session.send();
  conn.send('second half</body></message>');
  const reply = await pending;
  assert.match(reply.payload, attrPattern('id', 'split'));
  assert.match(reply.payload, /first half, second half/);
});

test('key sequencing carries over: the next key is checked, a wrong one refused', async () => {
  const keys = keyChain('upgrade-keys', 6);
  const { session, conn } = await openSession(stack, 'keys', { attrs: { newkey: keys[5] } });
  const first = session.send({ attrs: { key: keys[4] } });
  conn.send("<message id='k1' from='a@b'/>");
  assert.match((await first).payload, attrPattern('id', 'k1'));
  await stack.sb.upgrade();
  const good = session.send({ attrs: { key: keys[3] } });
  conn.send("<message id='k2' from='a@b'/>");
  assert.match((await good).payload, attrPattern('id', 'k2'));
  const bad = await session.send({ attrs: { key: keys[3] } });
  assertTerminate(bad, 'item-not-found');
});

test('a failed upgrade (the new binary refuses its configuration) leaves the old daemon serving', async (t) => {
  const { sb, upstream } = await startStackFor(t, {});
  const to = uniqueDomain('rollback');
  const session = await BoshSession.create(sb.port, to);
  const conn = await upstream.connection(to);
  const held = session.send();
  const pid = sb.pid;
  fs.writeFileSync(sb.configFile, 'listen = 12\n');  // what the next binary would read
  process.kill(pid, 'SIGUSR2');
  await sb.waitForLog(/upgrade failed: [^\n]*keeps every session/);
  sb.writeConfig({});
  assert.equal(sb.pid, pid);
  assert.ok(await stillPending(held, 200), 'the held request is still held');
  conn.send("<message id='kept' from='a@b'/>");
  assert.match((await held).payload, attrPattern('id', 'kept'));
  await assertAlive({ session, conn }, 'after a failed upgrade');
  // And the next upgrade, with a good configuration, goes through.
  const { moved } = await sb.upgrade();
  assert.equal(moved, 1);
  await assertAlive({ session, conn }, 'after the upgrade that worked');
});

test('two upgrades in a row: the session moves twice', async () => {
  const { session, conn } = await openSession(stack, 'twice');
  const held = session.send();
  await stack.sb.upgrade();
  await stack.sb.upgrade();
  conn.send("<message id='twice' from='a@b'/>");
  assert.match((await held).payload, attrPattern('id', 'twice'));
  await assertAlive({ session, conn }, 'after two upgrades');
});

/** A WebSocket with an open XMPP stream on `port`: { ws, conn, to }. */
async function openWs(port, upstream, label) {
  const ws = await WsClient.open(port);
  const to = uniqueDomain(label);
  ws.sendOpen(to);
  const conn = await upstream.connection(to);
  await ws.frame(1);  // <open/> and the features: the stream is up
  return { ws, conn, to };
}

test('metrics carry over, and count what moved', async (t) => {
  t.after(destroyWsSockets);
  const { sb, upstream } = await startStackFor(t, {}, { metrics: true });
  const to = uniqueDomain('metrics');
  const session = await BoshSession.create(sb.port, to);
  const conn = await upstream.connection(to);
  await openWs(sb.port, upstream, 'ws-metrics');
  const before = (await scrape(sb.metricsUrl)).samples;
  assert.equal(before.switchboard_sessions_created_total, 2);
  const sockets = { http: listenInodes(sb.port), metrics: listenInodes(sb.metricsPort) };

  const { moved } = await sb.upgrade();
  assert.deepEqual({ http: listenInodes(sb.port), metrics: listenInodes(sb.metricsPort) }, sockets,
    'the new daemon listens on the very sockets of the old (BOSH and metrics)');
  assert.equal(moved, 2);
  await assertAlive({ session, conn }, 'after the upgrade');
  const after = (await scrape(sb.metricsUrl)).samples;
  assert.equal(after.switchboard_sessions_created_total, 2, 'the counter went on, no reset');
  assert.equal(after['switchboard_upgrade_sessions_total{outcome="moved",reason="none"}'], 2);
  assert.equal(after['switchboard_upgrade_sessions_total{outcome="ended",reason="websocket"}'], 0);
  // The gauges are sampled once a second.
  const deadline = Date.now() + 3000;
  while ((await scrape(sb.metricsUrl)).samples.switchboard_sessions !== 2 && Date.now() < deadline) await sleep(100);
  const last = (await scrape(sb.metricsUrl)).samples;
  assert.equal(last.switchboard_sessions, 2);
  assert.equal(last.switchboard_websocket_connections, 1);
});

test('a WebSocket session moves with its connection: stanzas both ways after it', async () => {
  const { ws, conn } = await openWs(stack.port, stack.upstream, 'ws-moves');
  await stack.sb.upgrade();
  ws.sendText("<message xmlns='jabber:client' id='ws-out' to='p@x'/>");
  await conn.waitStanza(attrPattern('id', 'ws-out'));
  conn.send("<message id='ws-in' from='p@x'/>");
  assert.match(await ws.waitText('ws-in'), attrPattern('id', 'ws-in'));
});

test('a WebSocket message half sent (a fragment, then a frame cut in two) arrives whole after the move', async () => {
  const { ws, conn } = await openWs(stack.port, stack.upstream, 'ws-fragment');
  const stanza = "<message xmlns='jabber:client' id='ws-frag' to='p@x'><body>one two three</body></message>";
  ws.sendFrame(OP.text, stanza.slice(0, 30), { fin: false });
  const last = frameBytes(OP.continuation, stanza.slice(30), { fin: true });
  ws.sendRaw(last.subarray(0, 9));  // its header and a little of its payload
  await sleep(100);
  await stack.sb.upgrade();
  ws.sendRaw(last.subarray(9));
  await conn.waitStanza(attrPattern('id', 'ws-frag'));
  conn.send("<message id='ws-frag-answer' from='p@x'/>");
  await ws.waitText('ws-frag-answer');
});

test('switchboard upgrade: finds the daemon by pid_file, says how it went, refuses a bad configuration', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-upgrade-cmd-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pidFile = path.join(dir, 'switchboard.pid');
  const { sb, upstream } = await startStackFor(t, { pid_file: pidFile });
  const to = uniqueDomain('command');
  const session = await BoshSession.create(sb.port, to);
  const conn = await upstream.connection(to);
  assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), sb.pid);

  const run = (args) => spawnSync(sb.binary, ['upgrade', ...args], { encoding: 'utf8', timeout: 60000 });
  const ok = run(['--config', sb.configFile]);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const last = ok.stdout.trim().split('\n').pop();
  assert.match(last, /^switchboard upgrade: pid \d+ took over from pid \d+; upgrade: 1 sessions moved, 0 ended \(none\), [\d.]+ s$/);
  const newPid = Number(/pid (\d+) took over/.exec(last)[1]);
  await waitUntil('the old daemon exits', () => processGone(sb.child.pid));
  sb.upgradedPid = newPid;
  sb.upgrades = 1;
  assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), newPid, 'the pid file names the new daemon');
  await assertAlive({ session, conn }, 'after switchboard upgrade');

  // A configuration the new daemon would refuse: nothing is asked.
  fs.writeFileSync(sb.configFile, `pid_file = "${pidFile}"\nlisten = 12\n`);
  const refused = run(['--config', sb.configFile]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /not asked/);
  sb.writeConfig({ pid_file: pidFile });
  await assertAlive({ session, conn }, 'after a refused upgrade command');

  // No pid_file: it cannot find the daemon.
  const lost = run(['--listen', '127.0.0.1:1', '--upstream', '127.0.0.1:1']);
  assert.equal(lost.status, 1);
  assert.match(lost.stderr, /pid_file is not set/);
});

test('BOSH over the HTTPS listener: the held request is answered early, and the session moves', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-upgrade-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { cert, key } = makeCertificate(dir);
  const tlsPort = await freePort();
  const { sb, upstream } = await startStackFor(t,
    { tls_listen: `127.0.0.1:${tlsPort}`, tls_cert_file: cert, tls_key_file: key });
  await sb.waitForLog(/listening on https:\/\//);
  const to = uniqueDomain('https');
  const creation = await tlsExchange(tlsPort,
    { head: CREATION_HEAD, body: bodyXml(BoshSession.creationAttrs(to, { rid: '100', wait: '30' })) });
  assert.equal(creation.status, 200, creation.text);
  const sid = /sid=['"]([^'"]+)['"]/.exec(creation.text)[1];
  const conn = await upstream.connection(to);
  const over = (rid, payload = '', session) => tlsExchange(tlsPort,
    { head: CREATION_HEAD, body: bodyXml({ rid: String(rid), sid }, payload), session });

  const held = over(101);
  await sleep(200);
  const { moved, line } = await sb.upgrade();
  assert.equal(moved, 1, line);
  const early = await held;
  assert.equal(early.status, 200, early.text);
  assert.doesNotMatch(early.text, /terminate/, 'answered as its wait would have: empty');
  // The client's next request comes on a new TLS connection, to the new daemon,
  // which resumes the old daemon's ticket (the ticket secret carried over).
  const next = over(102, "<message id='tls-out' to='p@x'/>", early.session || creation.session);
  await conn.waitStanza(attrPattern('id', 'tls-out'));
  conn.send("<message id='tls-in' from='p@x'/>");
  const reply = await next;
  assert.equal(reply.status, 200, reply.text);
  assert.match(reply.text, attrPattern('id', 'tls-in'));
  assert.ok(reply.reused, 'the TLS session resumed with a ticket from before the upgrade');
});

test('a binary at the path that cannot run (or SIGHUP at the same moment) leaves the daemon serving', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-upgrade-binary-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const real = findBinary();
  const copy = path.join(dir, 'switchboard');
  fs.copyFileSync(real, copy);
  fs.chmodSync(copy, 0o755);
  const { sb, upstream } = await startStackFor(t, {}, { binary: copy });
  const to = uniqueDomain('binary');
  const session = await BoshSession.create(sb.port, to);
  const conn = await upstream.connection(to);
  const held = session.send();

  // A package upgrade put a broken file at the path (a new file, renamed over).
  const replace = (from) => {
    fs.copyFileSync(from, `${copy}.new`);
    fs.chmodSync(`${copy}.new`, 0o755);
    fs.renameSync(`${copy}.new`, copy);
  };
  const broken = path.join(dir, 'broken.sh');
  fs.writeFileSync(broken, '#!/bin/sh\nexit 3\n');
  replace(broken);
  process.kill(sb.pid, 'SIGUSR2');
  await sb.waitForLog(/upgrade failed: the new binary exited with status 3; this daemon keeps every session/);
  conn.send("<message id='still-here' from='a@b'/>");
  assert.match((await held).payload, attrPattern('id', 'still-here'));
  await assertAlive({ session, conn }, 'after a binary that would not run');

  // The good binary back, and a reload asked at the same moment: both are done.
  replace(real);
  process.kill(sb.pid, 'SIGHUP');
  const { moved } = await sb.upgrade();
  assert.equal(moved, 1);
  await assertAlive({ session, conn }, 'after the upgrade');
});
