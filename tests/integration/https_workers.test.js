'use strict';
// HTTPS and wss:// (tls_listen) with several worker processes in front of a
// private Prosody, with a throwaway self-signed certificate made here by
// `openssl req`:
//
//   1. `openssl s_client` negotiates TLS 1.2 and TLS 1.3, each with ALPN
//      http/1.1, and resumes a session from its ticket (`Reused`) many times
//      over, so on every worker: the workers share the ticket keys;
//   2. garbage, plain HTTP and a handshake cut off halfway hit the TLS port;
//   3. Strophe clients log in over https:// BOSH and chat. One of them opens a
//      new TLS connection for every request, so most of its requests land on a
//      worker that does not own its session: their plaintext is relayed to the
//      owner (app/handover/tls_relay.hpp);
//   4. a Strophe client over wss:// chats with the BOSH ones;
//   5. the daemon still answers the plain port, and every process exits
//      cleanly on SIGTERM (stack.stop()).
//
// Steps depend on each other: after a failure the rest are skipped, and the
// failing step's error carries the Switchboard and Prosody logs.

const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { describe, before, after } = require('node:test');
const { startStack, direct } = require('./lib/stack');
const { XmppClient } = require('./lib/strophe_client');
const { freePort } = require('../lib/ports');
const { dependentSteps, exchangeMessages } = require('./lib/chat_checks');

const WORKERS = 3;
const WAIT = 10;

/** A self-signed certificate for localhost and 127.0.0.1 in `dir`: { cert, key }. */
function makeCertificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'pipe' });
  return { cert, key };
}

/** One `openssl s_client` run: its output (stdin gets nothing, then EOF after a moment). */
function sClient(port, args) {
  const result = spawnSync('sh', ['-c', `sleep 0.3 | openssl s_client -connect 127.0.0.1:${port} ${args.join(' ')}`],
    { encoding: 'utf8', timeout: 10000 });
  return `${result.stdout}\n${result.stderr}`;
}

/** Sends `bytes` to the port and resolves when the server closes (or after `ms`). */
function hostile(port, bytes, ms = 3000) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); resolve({ closed: false, got }); }, ms);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => { got = Buffer.concat([got, d]); });
    socket.on('close', () => { clearTimeout(timer); resolve({ closed: true, got }); });
    socket.on('error', () => {});
  });
}

describe(`HTTPS and wss:// with ${WORKERS} workers and Prosody`, { timeout: 150000, skip: direct && 'switchboard only' }, () => {
  let stack;
  let dir;
  let files;
  let tlsPort;
  const clients = {};
  const jid = (user) => `${user}@localhost`;
  const step = dependentSteps(() => stack, () => `https://127.0.0.1:${tlsPort}`);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-https-'));
    files = makeCertificate(dir);
    tlsPort = await freePort();
    stack = await startStack({
      server: 'prosody',
      users: { alice: 'alice', bob: 'bob', carol: 'carol' },
      friends: ['alice', 'bob', 'carol'],
      settings: { workers: WORKERS, log_level: 'debug', tls_listen: `127.0.0.1:${tlsPort}`, tls_cert_file: files.cert, tls_key_file: files.key },
    });
    // Strophe makes its WebSocket with the global constructor (the `ws` package):
    // this one trusts our certificate too.
    const Base = globalThis.WebSocket;
    const ca = fs.readFileSync(files.cert);
    globalThis.WebSocket = class extends Base {
      constructor(url, protocols) { super(url, protocols, { ca }); }
    };
  });

  after(async () => {
    for (const client of Object.values(clients)) await client.close();
    if (stack) await stack.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  step('TLS 1.2 and 1.3, ALPN http/1.1, tickets resume on every worker', async (t) => {
    for (const version of ['-tls1_2', '-tls1_3']) {
      const session = path.join(dir, `session${version}`);
      const first = sClient(tlsPort, [version, '-alpn', 'http/1.1', '-sess_out', session]);
      assert.match(first, version === '-tls1_2' ? /New, TLSv1\.2/ : /New, TLSv1\.3/, first);
      assert.match(first, /ALPN protocol: http\/1\.1/, first);
      // The kernel spreads connections over the workers: a dozen resumptions
      // reach each of the three with near certainty (1 - 3 * (2/3)^12 > 97%),
      // and every one must resume.
      for (let i = 0; i < 12; i++) {
        const again = sClient(tlsPort, [version, '-alpn', 'http/1.1', '-sess_in', session]);
        assert.match(again, /Reused, TLSv1\.[23]/, `resumption ${i + 1} ${version}:\n${again}`);
      }
    }
    const h2 = sClient(tlsPort, ['-alpn', 'h2']);
    assert.match(h2, /no application protocol|alert/i, `ALPN without http/1.1 is refused:\n${h2}`);
    t.diagnostic('TLS 1.2 and 1.3 negotiated, 24 resumptions, ALPN h2 alone refused');
  });

  step('garbage, plain HTTP and a cut-off handshake are closed, nothing else is disturbed', async () => {
    const plain = await hostile(tlsPort, 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.ok(plain.closed, 'plain HTTP on the TLS port is closed');
    assert.ok(!plain.got.toString('latin1').includes('HTTP/1.1'), 'and gets no HTTP answer');
    assert.ok((await hostile(tlsPort, Buffer.alloc(4096, 0xff))).closed, 'garbage is closed');
    // A real ClientHello's first half, then silence: closed by http_header_timeout
    // at the latest; here we only check the daemon carries on meanwhile.
    const half = net.connect(tlsPort, '127.0.0.1');
    half.on('error', () => {});
    half.write(Buffer.from('16030100c8010000c40303', 'hex'));
    const ok = sClient(tlsPort, ['-tls1_3']);
    assert.match(ok, /New, TLSv1\.3/, 'a good handshake beside a stuck one');
    half.destroy();
  });

  step('Strophe logs in and chats over https:// BOSH, across workers', async (t) => {
    const ca = fs.readFileSync(files.cert);
    const url = `https://127.0.0.1:${tlsPort}/http-bind`;
    clients.alice = new XmppClient(url, { name: 'alice', wait: WAIT, ca });
    // A new TLS connection for every request: most land on another worker.
    clients.bob = new XmppClient(url, { name: 'bob', wait: WAIT, ca, keepAlive: false });
    await Promise.all([clients.alice.connect(jid('alice'), 'alice'), clients.bob.connect(jid('bob'), 'bob')]);
    clients.alice.sendPresence();
    clients.bob.sendPresence();
    await clients.alice.waitForPresence({ from: jid('bob') });
    await exchangeMessages(clients.alice, clients.bob, jid);
    assert.equal(await clients.bob.ping(clients.alice.jid), 'result');
    const relayed = (fs.readFileSync(stack.switchboard.logFile, 'utf8').match(/TLS connection from \S+ relayed to worker/g) || []).length;
    assert.ok(relayed > 0, 'some requests reached their session\'s owner through a relay');
    t.diagnostic(`alice ${clients.alice.jid}, bob ${clients.bob.jid}; ${relayed} TLS connections relayed`);
  });

  step('Strophe over wss:// chats with the BOSH clients', async () => {
    clients.carol = new XmppClient(`wss://127.0.0.1:${tlsPort}/xmpp-websocket`, { name: 'carol', wait: WAIT });
    await clients.carol.connect(jid('carol'), 'carol');
    clients.carol.sendPresence();
    await clients.carol.waitForPresence({ from: jid('alice') });
    const { bob, carol } = clients;
    const toBob = `over wss ü ${Date.now()}`;
    carol.sendMessage(jid('bob'), toBob);
    await bob.waitForMessage({ from: jid('carol'), body: toBob });
    const toCarol = `over https <&> ${Date.now()}`;
    bob.sendMessage(jid('carol'), toCarol);
    await carol.waitForMessage({ from: jid('bob'), body: toCarol });
  });

  step('the plain port still answers', async () => {
    const res = await fetch(`http://127.0.0.1:${stack.switchboard.port}/.well-known/host-meta`);
    assert.equal(res.status, 200);
  });
});
