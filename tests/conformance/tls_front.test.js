'use strict';
// The HTTPS listener (tls_listen) as a front door:
//
// - XEP-0156 discovery advertises the scheme the client used: host-meta(.json)
//   fetched over TLS names https:// and wss:// URLs, over the plain port http://
//   and ws://; a trusted proxy's X-Forwarded-Proto / Forwarded proto= (and host)
//   are believed, anyone else's ignored; public_*_url still win;
// - session tickets (tls_ticket_rotation): a ticket issued by one worker resumes
//   on the other (each TLS connection here carries a BOSH session creation, whose
//   sid names the worker that accepted it), over TLS 1.2 and 1.3; with a rotation
//   of 1 s a ticket is no good after two periods: the client gets a full
//   handshake, then a fresh ticket that resumes again; with 0 each worker has its
//   own keys.
//
// The certificate is a throwaway self-signed one made here by `openssl req`.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');

const { freePort } = require('../lib/ports');
const { BoshSession, bodyXml } = require('../lib/bosh');
const { request, destroyAllSockets } = require('../lib/raw_http');
const { uniqueDomain, sleep, startStackFor } = require('./lib/stack');
const { xrdLinks, jrdLinks } = require('./lib/host_meta_links');
const { makeCertificate, tlsExchange, CREATION_HEAD } = require('./lib/tls_client');

const XBOSH = 'urn:xmpp:alt-connections:xbosh';
const WEBSOCKET = 'urn:xmpp:alt-connections:websocket';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tls-front-'));
const { cert, key } = makeCertificate(dir);

after(() => {
  destroyAllSockets();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A switchboard with tls_listen and `config`, and its scripted upstream. */
async function startDaemon(t, config) {
  const tlsPort = await freePort();
  const { sb, upstream } = await startStackFor(t,
    { tls_listen: `127.0.0.1:${tlsPort}`, tls_cert_file: cert, tls_key_file: key, ...config });
  const workers = config.workers || 1;
  if (workers > 1) await sb.waitForLog(new RegExp(`all ${workers} workers listening`));
  await sb.waitForLog(/listening on https:\/\//, { count: workers });
  return { sb, upstream, tlsPort };
}

function hostMeta(port, pathName, extraHead = []) {
  return tlsExchange(port, { head: [`GET ${pathName} HTTP/1.1`, 'Host: chat.example.test:5281', ...extraHead] });
}

/** A BOSH session creation over TLS: { reused, worker (from the sid), session, protocol }. */
async function createOverTls(port, version, session) {
  const xml = bodyXml(BoshSession.creationAttrs(uniqueDomain('tickets'), { wait: '1' }));
  const res = await tlsExchange(port, {
    version, session,
    head: CREATION_HEAD, body: xml,
  });
  assert.equal(res.status, 200, res.text);
  const sid = /sid=['"]([^'"]+)['"]/.exec(res.text);
  assert.ok(sid, res.text);
  const worker = /^w(\d+)\./.exec(sid[1]);
  return { ...res, worker: worker ? Number(worker[1]) : 0 };
}

test('XEP-0156 over the TLS listener: host-meta and host-meta.json advertise https:// and wss://', async (t) => {
  const { sb, tlsPort } = await startDaemon(t, { trusted_proxies: ['127.0.0.2'] });
  const xrd = await hostMeta(tlsPort, '/.well-known/host-meta');
  assert.equal(xrd.status, 200, xrd.text);
  assert.deepEqual(xrdLinks(xrd.text), {
    [XBOSH]: 'https://chat.example.test:5281/http-bind',
    [WEBSOCKET]: 'wss://chat.example.test:5281/xmpp-websocket',
  });
  const jrd = await hostMeta(tlsPort, '/.well-known/host-meta.json');
  assert.equal(jrd.status, 200, jrd.text);
  assert.deepEqual(jrdLinks(jrd.text), {
    [XBOSH]: 'https://chat.example.test:5281/http-bind',
    [WEBSOCKET]: 'wss://chat.example.test:5281/xmpp-websocket',
  });
  // Without a usable Host: the TLS listen address, still https.
  const noHost = await tlsExchange(tlsPort, { head: ['GET /.well-known/host-meta.json HTTP/1.0'] });
  assert.deepEqual(jrdLinks(noHost.text), {
    [XBOSH]: `https://127.0.0.1:${tlsPort}/http-bind`,
    [WEBSOCKET]: `wss://127.0.0.1:${tlsPort}/xmpp-websocket`,
  });
  // The plain port of the same daemon says http:// and ws://, and a peer that is
  // not a trusted proxy (127.0.0.1 here) cannot make it say otherwise.
  const plain = await request(sb.port, {
    method: 'GET', path: '/.well-known/host-meta.json',
    headers: [['Host', 'chat.example.test:5280'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'evil.example'],
      ['Forwarded', 'proto=https;host=evil.example']],
  });
  assert.deepEqual(jrdLinks(plain.body), {
    [XBOSH]: 'http://chat.example.test:5280/http-bind',
    [WEBSOCKET]: 'ws://chat.example.test:5280/xmpp-websocket',
  });
});

test('XEP-0156 behind a trusted proxy: X-Forwarded-Proto/Host and Forwarded proto=/host= name the URLs', async (t) => {
  const { sb } = await startDaemon(t, { trusted_proxies: ['127.0.0.1'] });
  const xfp = await request(sb.port, {
    method: 'GET', path: '/.well-known/host-meta',
    headers: [['Host', 'internal:5280'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'chat.example.com']],
  });
  assert.deepEqual(xrdLinks(xfp.body), {
    [XBOSH]: 'https://chat.example.com/http-bind',
    [WEBSOCKET]: 'wss://chat.example.com/xmpp-websocket',
  });
  const forwarded = await request(sb.port, {
    method: 'GET', path: '/.well-known/host-meta.json',
    headers: [['Host', 'internal:5280'], ['Forwarded', 'for=192.0.2.7;proto=https;host="chat.example.org:8443"']],
  });
  assert.deepEqual(jrdLinks(forwarded.body), {
    [XBOSH]: 'https://chat.example.org:8443/http-bind',
    [WEBSOCKET]: 'wss://chat.example.org:8443/xmpp-websocket',
  });
  // A host that is not a plain host[:port] is not echoed; the scheme still counts.
  const bad = await request(sb.port, {
    method: 'GET', path: '/.well-known/host-meta',
    headers: [['Host', 'internal:5280'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', "x'/><Link rel='y"]],
  });
  assert.deepEqual(xrdLinks(bad.body), {
    [XBOSH]: 'https://internal:5280/http-bind',
    [WEBSOCKET]: 'wss://internal:5280/xmpp-websocket',
  });
});

/**
 * A kept-alive TLS connection to `port`: send(headLines, body) resolves with the
 * next answer { status, text }; close() ends it.
 */
async function keptAliveTls(port) {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  await new Promise((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject); });
  let buffer = '';
  let waiting = null;
  const settle = () => {
    const end = buffer.indexOf('\r\n\r\n');
    if (!waiting || end < 0) return;
    const length = Number((/\r\ncontent-length: *(\d+)/i.exec(buffer.slice(0, end)) || [])[1] || 0);
    if (buffer.length < end + 4 + length) return;
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buffer)[1]);
    const text = buffer.slice(end + 4, end + 4 + length);
    buffer = buffer.slice(end + 4 + length);
    const { resolve } = waiting;
    waiting = null;
    resolve({ status, text });
  };
  socket.setEncoding('utf8');
  socket.on('data', (d) => { buffer += d; settle(); });
  socket.on('error', () => {});
  return {
    send(head, body = '') {
      const answer = new Promise((resolve, reject) => {
        waiting = { resolve };
        setTimeout(() => reject(new Error('no answer')), 8000);
      });
      socket.write(`${head.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return answer;
    },
    close() { socket.destroy(); },
  };
}

test('XEP-0156 on a TLS connection relayed to another worker: still https:// and wss://', async (t) => {
  // The relay is logged at debug level.
  const { sb, tlsPort } = await startDaemon(t, { workers: 2, log_level: 'debug' });
  const to = uniqueDomain('relayed');
  const rid = 3000000 + Math.floor(Math.random() * 1000000);
  const created = await tlsExchange(tlsPort, { head: CREATION_HEAD, body: bodyXml(BoshSession.creationAttrs(to, { wait: '1' }, rid)) });
  assert.equal(created.status, 200, created.text);
  const sid = /sid=['"]([^'"]+)['"]/.exec(created.text)[1];
  const relayed = () => (sb.stderr().match(/TLS connection from \S+ relayed to worker/g) || []).length;
  // New connections land on either worker: on the one that does not own the
  // session, the empty request is relayed, and the connection with it.
  let next = rid + 1;
  let checked = 0;
  for (let i = 0; i < 16 && checked === 0; i += 1) {
    const before = relayed();
    const conn = await keptAliveTls(tlsPort);
    const poll = await conn.send(CREATION_HEAD, bodyXml({ rid: String(next), sid }));
    next += 1;
    assert.equal(poll.status, 200, poll.text);
    if (relayed() > before) {
      const meta = await conn.send(['GET /.well-known/host-meta.json HTTP/1.1', 'Host: chat.example.test:5281']);
      assert.deepEqual(jrdLinks(meta.text), {
        [XBOSH]: 'https://chat.example.test:5281/http-bind',
        [WEBSOCKET]: 'wss://chat.example.test:5281/xmpp-websocket',
      });
      checked += 1;
    }
    conn.close();
  }
  assert.equal(checked, 1, `a connection was relayed (16 tries)\n${sb.logs()}`);
});

test('XEP-0156 public_bosh_url and public_websocket_url still win over TLS', async (t) => {
  const { tlsPort } = await startDaemon(t, {
    public_bosh_url: 'http://configured.example/b', public_websocket_url: 'ws://configured.example/w',
  });
  const res = await hostMeta(tlsPort, '/.well-known/host-meta.json');
  assert.deepEqual(jrdLinks(res.text), { [XBOSH]: 'http://configured.example/b', [WEBSOCKET]: 'ws://configured.example/w' });
});

test('tickets resume on every worker, TLS 1.2 and 1.3 (tls_ticket_rotation default)', async (t) => {
  const { sb, tlsPort } = await startDaemon(t, { workers: 2 });
  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    const first = await createOverTls(tlsPort, version, undefined);
    assert.equal(first.protocol, version);
    assert.equal(first.reused, false);
    assert.ok(first.session, 'a ticket');
    const byWorker = { 0: 0, 1: 0 };
    // The kernel spreads connections over the two workers: until each of them
    // has resumed the first worker's ticket (or 40 tries).
    for (let i = 0; i < 40 && (byWorker[0] < 2 || byWorker[1] < 2); i += 1) {
      const again = await createOverTls(tlsPort, version, first.session);
      assert.ok(again.reused, `resumption ${i + 1} over ${version} on worker ${again.worker}`);
      byWorker[again.worker] += 1;
    }
    assert.ok(byWorker[0] >= 2 && byWorker[1] >= 2,
      `both workers resumed worker ${first.worker}'s ticket over ${version}: ${JSON.stringify(byWorker)}\n${sb.logs()}`);
  }
});

test('tls_ticket_rotation = 1: a ticket older than two periods gets a full handshake, then a new ticket', async (t) => {
  const { tlsPort } = await startDaemon(t, { workers: 2, tls_ticket_rotation: 1 });
  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    const first = await createOverTls(tlsPort, version, undefined);
    // Within its own period or the next: it resumes.
    const soon = await createOverTls(tlsPort, version, first.session);
    assert.ok(soon.reused, `a fresh ticket resumes over ${version}`);
    // Issued in period p (at most 1 s ago), refused from period p + 2 on.
    await sleep(2300);
    const late = await createOverTls(tlsPort, version, first.session);
    assert.equal(late.reused, false, `an expired ticket over ${version} is not resumed`);
    assert.ok(late.session, 'the full handshake gives a new ticket');
    const renewed = await createOverTls(tlsPort, version, late.session);
    assert.ok(renewed.reused, `the new ticket resumes over ${version}`);
  }
});

test('tls_ticket_rotation = 0: each worker keeps OpenSSL\'s own keys, a ticket resumes only where it was issued', async (t) => {
  const { tlsPort } = await startDaemon(t, { workers: 2, tls_ticket_rotation: 0 });
  const first = await createOverTls(tlsPort, 'TLSv1.3', undefined);
  const seen = { same: 0, other: 0 };
  for (let i = 0; i < 40 && (seen.same < 1 || seen.other < 1); i += 1) {
    const again = await createOverTls(tlsPort, 'TLSv1.3', first.session);
    if (again.worker === first.worker) {
      assert.ok(again.reused, 'the issuing worker resumes its own ticket');
      seen.same += 1;
    } else {
      assert.equal(again.reused, false, 'another worker cannot open it');
      seen.other += 1;
    }
  }
  assert.ok(seen.same >= 1 && seen.other >= 1, JSON.stringify(seen));
});
