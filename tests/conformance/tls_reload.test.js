'use strict';
// Operation: SIGHUP loads the HTTPS certificate again (docs/operations.md,
// "Reloading", TLS certificates). A switchboard with tls_listen, started from a
// TOML file, alone (workers = 1) and as a supervisor with two workers:
//
// - the certificate is renewed in place (new files at the same paths), then
//   SIGHUP: new TLS connections get the new certificate, in every worker;
// - a BOSH session whose request was held over a TLS connection opened before
//   the reload stays up: the held request answers after it, on that connection,
//   which still speaks with the old certificate, and a further request reuses it;
// - a key that does not match the certificate refuses the reload, and the new
//   certificate of before keeps serving.
//
// The certificates are throwaway self-signed ones made here by `openssl req`.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');

const { Switchboard } = require('../lib/switchboard');
const { freePort } = require('../lib/ports');
const { ScriptedUpstream } = require('../lib/scripted_upstream');
const { BoshSession, bodyXml } = require('../lib/bosh');
const { destroyAllSockets } = require('../lib/raw_http');
const { attrPattern, uniqueDomain, stillPending } = require('./lib/stack');

after(() => destroyAllSockets());

/** A self-signed certificate for `name` in `dir`/`label`.{cert,key}.pem. */
function makeCertificate(dir, label, name) {
  const cert = path.join(dir, `${label}.cert.pem`);
  const key = path.join(dir, `${label}.key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`], { stdio: 'pipe' });
  return { cert, key };
}

/** The common name of the certificate a new TLS connection to `port` is shown. */
function servedName(port) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.once('secureConnect', () => {
      const name = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(name);
    });
    socket.once('error', reject);
  });
}

/** The names shown to `count` new connections (spread over the workers by the kernel). */
async function servedNames(port, count) {
  const names = new Set();
  for (let i = 0; i < count; i += 1) names.add(await servedName(port));
  return [...names].sort();
}

/**
 * POSTs a BOSH body over `agent` (one kept-alive TLS connection); resolves with
 * { status, text, name (the connection's certificate), reused }.
 */
function post(agent, port, xml) {
  const promise = new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, path: '/http-bind', method: 'POST', agent, rejectUnauthorized: false,
      headers: { 'Content-Type': 'text/xml; charset=utf-8' }, timeout: 15000,
    }, (res) => {
      // Read now: the agent takes the socket back once the body has ended.
      const name = res.socket.getPeerCertificate().subject.CN;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, text, name, reused: req.reusedSocket }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(xml);
  });
  promise.catch(() => {});
  return promise;
}

for (const workers of [1, 2]) {
  test(`SIGHUP with ${workers} worker(s) serves a renewed certificate to new TLS connections, sessions stay`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tls-reload-'));
    const first = makeCertificate(dir, 'first', 'first.test');
    const second = makeCertificate(dir, 'second', 'second.test');
    const other = makeCertificate(dir, 'other', 'other.test');
    // The paths the daemon is given; renewing = new contents at these paths.
    const live = { cert: path.join(dir, 'live.cert.pem'), key: path.join(dir, 'live.key.pem') };
    fs.copyFileSync(first.cert, live.cert);
    fs.copyFileSync(first.key, live.key);

    const upstream = await new ScriptedUpstream().start();
    const tlsPort = await freePort();
    const config = { workers, tls_listen: `127.0.0.1:${tlsPort}`, tls_cert_file: live.cert, tls_key_file: live.key };
    const sb = new Switchboard({ upstreamPort: upstream.port, config });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(async () => {
      agent.destroy();
      destroyAllSockets();
      const problem = await sb.stop();
      await upstream.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      if (problem) throw new Error(problem);
    });
    await sb.start();
    if (workers > 1) await sb.waitForLog(/all 2 workers listening/);
    assert.deepEqual(await servedNames(tlsPort, 12), ['first.test'], 'the first certificate before the reload');

    // A session over HTTPS, with a request held on its TLS connection.
    const to = uniqueDomain('tlsreload');
    const rid = 2000000 + Math.floor(Math.random() * 1000000);
    const created = await post(agent, tlsPort, bodyXml(BoshSession.creationAttrs(to, {}, rid)));
    assert.equal(created.status, 200, created.text);
    const sid = /sid=['"]([^'"]+)['"]/.exec(created.text)[1];
    const conn = await upstream.connection(to);
    const held = post(agent, tlsPort, bodyXml({ rid: String(rid + 1), sid }));
    assert.ok(await stillPending(held, 300), 'the empty request should be held');

    // Renewed in place, then SIGHUP.
    fs.copyFileSync(second.cert, live.cert);
    fs.copyFileSync(second.key, live.key);
    sb.reload();
    const log = await sb.waitForLog(/reload (\d+ )?done/);
    assert.equal((log.match(/TLS certificate reloaded from /g) || []).length, workers,
      'every worker loaded the certificate again');
    assert.deepEqual(await servedNames(tlsPort, 12), ['second.test'], 'new connections get the renewed certificate');

    // The held request answers after the reload, on the connection of before.
    assert.ok(await stillPending(held, 100), 'the held request survives the reload');
    conn.send("<message id='after-tls-reload' from='peer@example.net'><body>still here</body></message>");
    const answer = await held;
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, attrPattern('id', 'after-tls-reload'));
    assert.equal(answer.name, 'first.test', 'the open connection keeps its certificate');

    // The same connection carries the session on.
    const ping = post(agent, tlsPort, bodyXml({ rid: String(rid + 2), sid },
      "<message id='ping-tls' to='peer@example.net' xmlns='jabber:client'><body>ping</body></message>"));
    await conn.waitStanza(attrPattern('id', 'ping-tls'));
    conn.send("<message id='pong-tls' from='peer@example.net'><body>pong</body></message>");
    const pong = await ping;
    assert.equal(pong.status, 200, pong.text);
    assert.match(pong.text, attrPattern('id', 'pong-tls'));
    assert.ok(pong.reused, 'the request went over the kept-alive connection of before');
    assert.equal(pong.name, 'first.test');

    // A key of another certificate: refused whole, the renewed one keeps serving.
    fs.copyFileSync(other.key, live.key);
    sb.reload();
    const refused = await sb.waitForLog(/reload refused \(1 problem\): the running configuration stays/);
    assert.match(refused, /reload refused: 'tls_listen': /);
    assert.deepEqual(await servedNames(tlsPort, 12), ['second.test'], 'the refused reload changed nothing');
  });
}
