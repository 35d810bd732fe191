'use strict';
// An upgrade in place across versions (docs/upgrade.md): the session records are
// versioned, so the sessions of the previous release move to this one, and back
// again when the old binary is put back at the path (a rollback).
//
// Two binaries: OLD_SWITCHBOARD_BIN (an older commit's daemon) and the current
// one (SWITCHBOARD_BIN, else the harness's findBinary()). A lone daemon
// (workers = 1: the older commits move lone daemons only) is started from a copy
// of the old binary at a path P; it holds a BOSH session with a held long poll
// and an early request (rid out of order, waiting for its predecessor) and a
// WebSocket session with an open XMPP stream. Then, as a package upgrade does, a
// new file is renamed over P and SIGUSR2 runs it: old -> new, then new -> old.
// After each move: both sessions moved, none ended, the daemon runs the binary
// expected, the held poll is still held and gets the server's next stanza, the
// early request goes to the server after its predecessor and is answered, and
// both sessions chat both ways.
//
// scripts/upgrade_across_versions.sh builds the old binary and runs this file;
// without OLD_SWITCHBOARD_BIN it is skipped.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  startStackFor, assertAlive, assertWrapper, assertEmptyBody, stillPending, attrPattern, uniqueDomain,
} = require('../conformance/lib/stack');
const { BoshSession } = require('../lib/bosh');
const { findBinary } = require('../lib/switchboard');
const { WsClient, destroyWsSockets } = require('../conformance/lib/ws_client');

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/**
 * A held long poll (rid+1, empty) and an early request (rid+3, with a stanza)
 * that waits for rid+2: both still unanswered when this returns.
 */
async function armBosh(session, conn, label) {
  const base = session.rid;
  const held = session.send({ rid: base + 1 });
  const early = session.send({ rid: base + 3, payload: `<message id='${label}-early' to='peer@x'/>` });
  assert.ok(await stillPending(held, 200), `${label}: the long poll is held before the upgrade`);
  assert.ok(await stillPending(early, 0), `${label}: the early request waits before the upgrade`);
  assert.ok(!conn.stanzas.some((s) => attrPattern('id', `${label}-early`).test(s)),
    `${label}: the early request's stanza must not reach the server before rid+2`);
  return { base, held, early };
}

/** After the move: the poll is still held and answered, the early request goes in order. */
async function checkBosh(session, conn, { base, held, early }, label) {
  assert.ok(await stillPending(held, 200), `${label}: the long poll is still held after the upgrade`);
  conn.send(`<message id='${label}-to-held' from='peer@x'/>`);
  const heldReply = await held;
  assertWrapper(heldReply);
  assert.match(heldReply.payload, attrPattern('id', `${label}-to-held`), `${label}: the held poll gets the server's stanza`);
  assert.ok(await stillPending(early, 100), `${label}: the early request still waits for rid+2`);

  // rid+2 fills the gap: its stanza goes first, then the early one's.
  const from = conn.stanzas.length;
  const gap = session.send({ rid: base + 2, payload: `<message id='${label}-gap' to='peer@x'/>` });
  await conn.waitStanza(attrPattern('id', `${label}-early`));
  const order = conn.stanzas.slice(from).map((s) => /\sid=(['"])([^'"]+)\1/.exec(s)?.[2]);
  assert.deepEqual(order, [`${label}-gap`, `${label}-early`], `${label}: the server gets the stanzas in rid order`);
  // hold = 1 (max_hold's default): the early request, once processed, releases
  // rid+2 with an empty body and is held in its place until the server speaks.
  assertEmptyBody(await gap);
  assert.ok(await stillPending(early, 100), `${label}: the early request is held after rid+2 is answered`);
  conn.send(`<message id='${label}-answer' from='peer@x'/>`);
  const earlyReply = await early;
  assertWrapper(earlyReply);
  assert.match(earlyReply.payload, attrPattern('id', `${label}-answer`), earlyReply.describe());
  await assertAlive({ session, conn }, `(BOSH, ${label})`);
}

/** A WebSocket with an open XMPP stream: { ws, conn }. */
async function openWs(port, upstream) {
  const ws = await WsClient.open(port);
  const to = uniqueDomain('across-ws');
  ws.sendOpen(to);
  const conn = await upstream.connection(to);
  await ws.frame(1);  // <open/> and the features: the stream is up
  return { ws, conn };
}

/** A stanza each way over the WebSocket session. */
async function chatWs({ ws, conn }, label) {
  ws.sendText(`<message xmlns='jabber:client' id='${label}-ws-out' to='peer@x'/>`);
  await conn.waitStanza(attrPattern('id', `${label}-ws-out`));
  conn.send(`<message id='${label}-ws-in' from='peer@x'/>`);
  assert.match(await ws.waitText(`${label}-ws-in`), attrPattern('id', `${label}-ws-in`));
}

test('sessions move from the older commit\'s daemon to this one and back (old -> new -> old)', async (t) => {
  const oldBinary = process.env.OLD_SWITCHBOARD_BIN;
  if (!oldBinary) {
    t.skip('OLD_SWITCHBOARD_BIN is not set: scripts/upgrade_across_versions.sh builds an older commit and sets it');
    return;
  }
  const newBinary = findBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-across-versions-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  t.after(destroyWsSockets);
  // Copies of both, taken now: a build folder rebuilt meanwhile changes nothing here.
  const binaries = { old: path.join(dir, 'switchboard-old'), new: path.join(dir, 'switchboard-new') };
  fs.copyFileSync(oldBinary, binaries.old);
  fs.copyFileSync(newBinary, binaries.new);
  const hashes = { old: sha256(binaries.old), new: sha256(binaries.new) };
  if (hashes.old === hashes.new) t.diagnostic('the old and the current binary are the same file: this proves little');

  // The daemon's path; a new file renamed over it is what SIGUSR2 runs.
  const daemonPath = path.join(dir, 'switchboard');
  const install = (which) => {
    fs.copyFileSync(binaries[which], `${daemonPath}.new`);
    fs.chmodSync(`${daemonPath}.new`, 0o755);
    fs.renameSync(`${daemonPath}.new`, daemonPath);
  };
  install('old');

  const { sb, upstream } = await startStackFor(t, { workers: 1, log_level: 'info' }, { binary: daemonPath });
  const runs = (which) => assert.equal(sha256(`/proc/${sb.pid}/exe`), hashes[which],
    `pid ${sb.pid} should run the ${which} binary`);
  runs('old');

  const to = uniqueDomain('across-bosh');
  const session = await BoshSession.create(sb.port, to);  // hold = 1, requests = 2, as Strophe
  const conn = await upstream.connection(to);
  const ws = await openWs(sb.port, upstream);
  await assertAlive({ session, conn }, '(BOSH, before any upgrade)');
  await chatWs(ws, 'before');

  for (const [step, which] of [['old-to-new', 'new'], ['new-to-old', 'old']]) {
    const armed = await armBosh(session, conn, step);
    install(which);
    const { oldPid, newPid, moved, line } = await sb.upgrade();
    t.diagnostic(`${step}: pid ${oldPid} -> ${newPid}: ${line}`);
    assert.notEqual(newPid, oldPid);
    assert.equal(moved, 2, `${step}: the BOSH and the WebSocket session move: ${line}`);
    assert.match(line, /, 0 ended\b/, `${step}: nothing ends: ${line}`);
    runs(which);
    await checkBosh(session, conn, armed, step);
    await chatWs(ws, step);
  }
});
