'use strict';
// TLS helpers for the tests of tls_listen: a throwaway self-signed certificate
// (made by `openssl req`) and one-request TLS connections with Node's own TLS
// client, which reports session resumption and hands back the server's ticket.

const { execFileSync } = require('node:child_process');
const path = require('node:path');
const tls = require('node:tls');

/** A self-signed certificate for localhost in `dir`: { cert, key } (paths). */
function makeCertificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'pipe' });
  return { cert, key };
}

/**
 * One TLS connection to `port` carrying one HTTP/1.1 request (`head` lines,
 * `body`), closed after the server's answer ("Connection: close"). `version`
 * ('TLSv1.2', 'TLSv1.3') pins the protocol; `session` is a ticket to resume.
 * Resolves with { reused, protocol, session (the last ticket the server gave),
 * status, text (the body) }; rejects on a connection error.
 */
function tlsExchange(port, { version, session, head, body = '', timeoutMs = 8000 }) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], session,
      minVersion: version, maxVersion: version,
    });
    let latest = null;
    let raw = '';
    let reused = false;
    let protocol = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('TLS exchange timed out')));
    socket.on('session', (s) => { latest = s; });
    socket.once('secureConnect', () => {
      reused = socket.isSessionReused();
      protocol = socket.getProtocol();
      socket.write(`${head.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    socket.setEncoding('utf8');
    socket.on('data', (d) => { raw += d; });
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number((/^HTTP\/1\.1 (\d{3})/.exec(raw) || [])[1] || 0);
      resolve({ reused, protocol, session: latest, status, text: raw.slice(raw.indexOf('\r\n\r\n') + 4), raw });
    });
  });
}

/** A BOSH creation request's head lines, for tlsExchange. */
const CREATION_HEAD = ['POST /http-bind HTTP/1.1', 'Host: localhost', 'Content-Type: text/xml; charset=utf-8'];

module.exports = { makeCertificate, tlsExchange, CREATION_HEAD };
