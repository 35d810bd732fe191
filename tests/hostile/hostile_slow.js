'use strict';
// The long-lived hostile connections of the soak (hostile_soak.js): pools
// of connections that cost switchboard a file descriptor for as long as it lets
// them, each kept at a fixed size for the whole run and each connection bounded
// in time by us too. Expected answers (docs/configuration.md, "Limits"):
//
//   slowloris: a request head trickling in,   HTTP 408 once http_header_timeout
//   one byte every 2-4 s                      (10 s) has passed since the first byte
//   a body trickling in (1 byte / 5 s)        HTTP 408 after http_idle_timeout (120 s)
//   connect and say nothing                   closed without a word after 10 s
//   own session, 8 pipelined requests, then
//   not reading for 20-60 s                   all 8 answered, in order, once we read
//   pipelined GETs, never reading a byte      closed by switchboard once more than
//                                             1 MiB of answers is queued unsent
//
// "cut at the end of the run" is what a connection still waiting when the hostile
// phase ends is recorded as: not an answer, and never counted as unexpected.

const { openConnection, nextAnswer, randomInt, sleep, bodyXml, postBytes } = require('./hostile_wire');
const { createOn } = require('./hostile_sessions');

const CUT = 'cut at the end of the run';

/**
 * Waits until `conn` has an answer, is closed, `deadlineMs` passed or the run
 * stops, calling `tick()` every `everyMs` meanwhile. Returns the answer's name.
 */
async function waitWhileTrickling(conn, { ctx, deadlineMs, everyMs, tick }) {
  const answering = nextAnswer(conn, deadlineMs);
  let settled = null;
  answering.then((a) => { settled = a; });
  const end = Date.now() + deadlineMs;
  while (!settled && Date.now() < end) {
    if (!ctx.running()) return CUT;
    await sleep(Math.min(everyMs(), 500 + Math.random() * 200));
    if (settled || conn.gone) break;
    if (tick && Date.now() >= (conn.nextTickAt || 0)) {
      conn.nextTickAt = Date.now() + everyMs();
      await tick();
    }
  }
  return (await answering).name;
}

/** Opens a connection for a pool action or records why not (returns null). */
async function open(ctx, action, expected) {
  try {
    return await openConnection(ctx.port, ctx.address());
  } catch (err) {
    ctx.tally.record(action, `connect failed (${err.code || err.message})`, { expected });
    return null;
  }
}

/** Slowloris: the head of a request, one byte every 2-4 s. */
async function slowHead(ctx) {
  const action = 'slowloris: request head 1 byte / 2-4 s (our bound 30 s)';
  const expected = ['HTTP 408', CUT];
  const conn = await open(ctx, action, expected);
  if (!conn) return;
  const started = Date.now();
  try {
    await conn.sendMore('POST /http-bind HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const name = await waitWhileTrickling(conn, {
      ctx, deadlineMs: 30000, everyMs: () => randomInt(2000, 4000), tick: () => conn.sendMore('a'),
    });
    ctx.tally.record(action, name, { expected, ms: name === CUT ? null : Date.now() - started });
  } finally {
    conn.close();
  }
}

/** A complete head, then the body one byte every 5 s. */
async function slowBody(ctx) {
  const action = 'slow body: 1 byte / 5 s after a complete head (our bound 150 s)';
  const expected = ['HTTP 408', CUT];
  const conn = await open(ctx, action, expected);
  if (!conn) return;
  const started = Date.now();
  try {
    await conn.send('POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 2000\r\n\r\n<');
    const name = await waitWhileTrickling(conn, { ctx, deadlineMs: 150000, everyMs: () => 5000, tick: () => conn.sendMore('b') });
    ctx.tally.record(action, name, { expected, ms: name === CUT ? null : Date.now() - started });
  } finally {
    conn.close();
  }
}

/** Connects and says nothing. */
async function silentConnect(ctx) {
  const action = 'connect and say nothing (our bound 30 s)';
  const expected = ['closed, no answer', CUT];
  const conn = await open(ctx, action, expected);
  if (!conn) return;
  const started = Date.now();
  try {
    const name = await waitWhileTrickling(conn, { ctx, deadlineMs: 30000, everyMs: () => 1000 });
    ctx.tally.record(action, name, { expected, ms: name === CUT ? null : Date.now() - started });
  } finally {
    conn.close();
  }
}

/** Own session, 8 pipelined requests with payload, then not reading for 20-60 s. */
async function pipelineThenStopReading(ctx) {
  const action = 'own session: 8 pipelined requests, then not reading for 20-60 s';
  const expected = ['8/8 answered, all 200 body', CUT];
  const conn = await open(ctx, 'own session: create (pipelining non-reader)', []);
  if (!conn) return;
  try {
    const s = await createOn(ctx, conn, 'own session: create (pipelining non-reader)');
    if (!s) return;
    conn.socket.pause();
    const answers = Array.from({ length: 8 }, () => nextAnswer(conn, 90000));
    for (let i = 1; i <= 8; i++) {
      await conn.send(postBytes(ctx.port, bodyXml({ rid: s.rid + i, sid: s.sid },
        `<message to='nobody${i}@localhost' type='chat' xmlns='jabber:client'><body>unread ${i}</body></message>`)));
    }
    const holdUntil = Date.now() + randomInt(20000, 60000);
    while (Date.now() < holdUntil) {
      if (!ctx.running()) {
        ctx.tally.record(action, CUT, { expected });
        return;
      }
      await sleep(500);
    }
    conn.socket.resume();
    const names = [];
    for (const a of answers) names.push((await Promise.race([a, sleep(5000).then(() => ({ name: 'none' }))])).name);
    const answered = names.filter((n) => n !== 'none' && !/closed|reset|deadline/.test(n));
    const others = [...new Set(names.filter((n) => n !== '200 body'))];
    ctx.tally.record(action, `${answered.length}/8 answered, ${others.length ? others.join(' + ') : 'all 200 body'}`, { expected });
  } finally {
    conn.close();
  }
}

/**
 * Pipelined GETs (the info page, a few hundred bytes each) written as fast as
 * switchboard takes them, never reading an answer. Once more than 1 MiB of
 * answers waits unsent in switchboard (on top of what the kernel buffers),
 * switchboard must let the connection go. We cannot see that from the client
 * side: the FIN waits in the kernel behind the unread answers. So we look for
 * switchboard's fd of the connection in /proc (`ctx.switchboardHolds`).
 * Bounded by 16 MiB written and 60 s.
 */
async function getFloodNoRead(ctx) {
  const action = 'pipelined GETs, never reading (our bound 16 MiB written or 60 s)';
  const expected = ['switchboard closed it', CUT];
  const conn = await open(ctx, action, expected);
  if (!conn) return;
  const started = Date.now();
  const { address, port } = conn.socket.address();
  // Closed = switchboard held an fd for it once and holds none now (before it
  // accepted the connection it held none either).
  let lookedAt = 0;
  let seenHeld = false;
  let held = false;
  const closed = () => {
    if (conn.socket.destroyed || conn.transportError !== null) return true;
    if (Date.now() - lookedAt >= 1000) { // reading /proc/net/tcp is not free
      lookedAt = Date.now();
      held = ctx.switchboardHolds(address, port);
      seenHeld = seenHeld || held;
    }
    return seenHeld && !held;
  };
  try {
    conn.socket.pause();
    for (let i = 0; i < 20 && !seenHeld; i++) { // until switchboard has accepted it
      lookedAt = 0;
      closed();
      if (!seenHeld) await sleep(100);
    }
    const batch = Buffer.from('GET /http-bind HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(1700)); // ~64 KB
    let written = 0;
    while (written < 16 * 1048576 && Date.now() - started < 60000 && !closed()) {
      if (!ctx.running()) {
        ctx.tally.record(action, CUT, { expected });
        return;
      }
      // A write that does not complete means nobody reads: wait for switchboard to let go.
      const flushed = await Promise.race([conn.sendMore(batch), sleep(1000).then(() => 'stuck')]);
      if (flushed !== true) break;
      written += batch.length;
    }
    while (!closed() && Date.now() - started < 60000 && ctx.running()) await sleep(500);
    if (!closed() && !ctx.running()) {
      ctx.tally.record(action, CUT, { expected });
      return;
    }
    const name = closed() ? 'switchboard closed it' : `still held by switchboard after ${(written / 1048576).toFixed(1)} MiB written`;
    ctx.tally.record(action, name, { expected, ms: Date.now() - started });
  } finally {
    conn.close();
  }
}

/**
 * Keeps `size` copies of `make(ctx)` running until `ctx.running()` is false,
 * each started again shortly after it ends. Starts are spread over the first
 * `rampMs` so as not to open hundreds of connections in one instant.
 */
async function runPool(ctx, size, make, rampMs = 10000) {
  const slot = async (i) => {
    await sleep((rampMs * i) / size);
    while (ctx.running()) {
      try {
        await make(ctx);
      } catch (err) {
        ctx.tally.record(`script error in ${make.name}`, err.message.slice(0, 80));
      }
      await sleep(randomInt(100, 1000));
    }
  };
  await Promise.all(Array.from({ length: size }, (_, i) => slot(i)));
}

/**
 * The pools: [make, connections held at once, needs an own session]. Pools
 * that create sessions must use addresses away from the flood's, or they
 * would eat into its per-address cap.
 */
const POOLS = [
  [slowHead, 700, false], [slowBody, 150, false], [silentConnect, 100, false],
  [pipelineThenStopReading, 30, true], [getFloodNoRead, 4, false],
];

module.exports = { POOLS, runPool, CUT };
