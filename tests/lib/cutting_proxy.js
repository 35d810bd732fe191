'use strict';
// CuttingProxy: a TCP proxy in front of a BOSH endpoint that cuts a fraction of
// the HTTP requests passing through it, the way a flaky mobile link cuts a
// browser's requests. It is the "real link" of bench/flaky_strophe.js and of the
// soak's Strophe-profile test: real Strophe.js clients (or switchboard-soak with
// no --drop of its own) go through it, so the client under test meets cuts it did
// not choose itself.
//
// It reads just enough HTTP to know where each request starts and ends (the head
// up to the blank line, then Content-Length bytes; browsers and xhr2 never
// pipeline, so every byte the server sends between two requests is the answer to
// the first). Each request is cut with probability `fraction` (a seeded PRNG, so
// runs repeat); `where` says at which moment of its life:
//
//   before  the request is not forwarded: the server never sees it;
//   held    the request is forwarded whole, then cut at a uniform moment within
//           `waitMs` (the BOSH wait); if the answer comes first, it is forwarded
//           and the next request is cut right after it is forwarded instead (so the
//           fraction stays as asked, as the soak's --drop does);
//   answer  the request is forwarded and the server's answer is swallowed: the
//           server wrote it, the client never gets it (lost in transit);
//   mix     each cut picks one of the three above, uniformly.
//
// With `spareLogins` a session creation (a <body/> with no sid) is never cut.
//
// and `how` what each side sees at the cut:
//
//   rst     both sides get a TCP RST at once;
//   fin     both sides get a FIN at once (an orderly close);
//   silent  the client gets an RST (its OS noticed the link went down) but the
//           server sees nothing at all: its socket stays open and deaf (nothing
//           forwarded either way, nothing closed) until the proxy stops, as over a
//           link that died, where only the server's own TCP timeouts (minutes)
//           would tell it.
//
// stats: connections, requests, cuts by moment (before, held, answer), answers
// swallowed, held cuts pre-empted by an answer.

const net = require('node:net');

/** Mulberry32: a small seeded PRNG, so a run's cuts can be repeated. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WHERE = ['before', 'held', 'answer'];

class CuttingProxy {
  /**
   * @param opts.targetPort  the endpoint's port on targetHost (127.0.0.1)
   * @param opts.fraction    the share of requests cut (0 = a plain proxy)
   * @param opts.where       before | held | answer | mix
   * @param opts.how         rst | fin | silent
   * @param opts.waitMs      the BOSH wait, for `held` cuts (default 10 s)
   * @param opts.seed        PRNG seed
   */
  constructor({ targetPort, targetHost = '127.0.0.1', fraction = 0.1, where = 'mix', how = 'rst', waitMs = 10000, seed = 1,
    spareLogins = false }) {
    if (![...WHERE, 'mix'].includes(where)) throw new Error(`CuttingProxy: where must be before|held|answer|mix, got ${where}`);
    if (!['rst', 'fin', 'silent'].includes(how)) throw new Error(`CuttingProxy: how must be rst|fin|silent, got ${how}`);
    Object.assign(this, { targetPort, targetHost, fraction, where, how, waitMs, spareLogins });
    this.random = prng(seed);
    this.debt = 0;  // held cuts pre-empted by an answer, owed to the next requests
    this.sockets = new Set();
    this.stats = { connections: 0, requests: 0, cuts: { before: 0, held: 0, answer: 0 }, swallowed: 0, preempted: 0 };
  }

  async start() {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port: 0 }, resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The fraction of requests cut so far (what the run got, not what was asked). */
  cutShare() {
    const { before, held, answer } = this.stats.cuts;
    return this.stats.requests ? (before + held + answer) / this.stats.requests : 0;
  }

  /** Where the next cut happens, or null for no cut. */
  decide() {
    if (this.debt > 0) {
      this.debt--;
      return 'at-once';
    }
    if (this.fraction <= 0 || this.random() >= this.fraction) return null;
    return this.where === 'mix' ? WHERE[Math.floor(this.random() * 3)] : this.where;
  }

  accept(client) {
    this.stats.connections++;
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {});
      s.setNoDelay(true);
    }
    const conn = {
      client, upstream, buf: Buffer.alloc(0),
      cut: null, // the current request's planned cut: before | held | answer | at-once
      inFlight: false, timer: null, dead: false,
    };
    client.on('data', (chunk) => this.fromClient(conn, chunk));
    upstream.on('data', (chunk) => this.fromServer(conn, chunk));
    client.on('end', () => { if (!conn.dead) upstream.end(); });
    upstream.on('end', () => { if (!conn.dead) client.end(); });
    client.on('close', () => { if (!conn.dead) upstream.destroy(); });
    upstream.on('close', () => { if (!conn.dead) client.destroy(); });
  }

  // Client bytes: split into whole requests (head, then Content-Length bytes);
  // each whole request is decided on, then forwarded (or not) in one write.
  fromClient(conn, chunk) {
    if (conn.dead) return;
    conn.buf = Buffer.concat([conn.buf, chunk]);
    while (!conn.dead) {
      const end = conn.buf.indexOf('\r\n\r\n');
      if (end < 0) return;  // the head is not complete yet
      const head = conn.buf.subarray(0, end).toString('latin1');
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (conn.buf.length < total) return;  // the body is not complete yet
      const request = conn.buf.subarray(0, total);
      conn.buf = conn.buf.subarray(total);
      this.stats.requests++;
      // A session creation (a <body/> without sid) is spared with spareLogins.
      const creation = !/\ssid=['"]/.test(request.subarray(end + 4).toString('utf8'));
      conn.cut = this.spareLogins && creation ? null : this.decide();
      if (conn.cut === 'before') {
        this.stats.cuts.before++;
        this.cut(conn);
        return;
      }
      this.forward(conn, request);
      conn.inFlight = true;
      this.requestForwarded(conn);
    }
  }

  forward(conn, bytes) {
    conn.upstream.write(Buffer.from(bytes));
  }

  requestForwarded(conn) {
    if (conn.cut === 'at-once') {
      this.stats.cuts.held++;
      this.cut(conn);
    } else if (conn.cut === 'held') {
      const ms = Math.floor(this.random() * this.waitMs);
      conn.timer = setTimeout(() => {
        conn.timer = null;
        if (conn.dead || !conn.inFlight) return;
        this.stats.cuts.held++;
        this.cut(conn);
      }, ms);
    }
  }

  // Server bytes: the answer to the request in flight (no pipelining).
  fromServer(conn, chunk) {
    if (conn.dead) return;
    if (conn.inFlight) {
      conn.inFlight = false;
      if (conn.cut === 'answer') {
        this.stats.cuts.answer++;
        this.stats.swallowed++;
        this.cut(conn);
        return;
      }
      if (conn.cut === 'held' && conn.timer) {
        clearTimeout(conn.timer);
        conn.timer = null;
        this.stats.preempted++;
        this.debt++;
      }
      conn.cut = null;
    }
    conn.client.write(chunk);
  }

  cut(conn) {
    conn.dead = true;
    if (conn.timer) clearTimeout(conn.timer);
    conn.timer = null;
    const { client, upstream } = conn;
    if (this.how === 'fin') {
      client.destroy();
      upstream.destroy();
      return;
    }
    if (typeof client.resetAndDestroy === 'function') client.resetAndDestroy();
    else client.destroy();
    if (this.how === 'rst') {
      if (typeof upstream.resetAndDestroy === 'function') upstream.resetAndDestroy();
      else upstream.destroy();
      return;
    }
    // silent: the server's side stays open and deaf; its bytes are read and dropped.
    upstream.removeAllListeners('data');
    upstream.on('data', () => {});
  }

  /** Closes the listener and every socket it still holds (the deaf ones too). */
  async stop() {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(() => resolve()));
    this.server = null;
  }
}

module.exports = { CuttingProxy };
