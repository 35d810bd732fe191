'use strict';
// The client address behind a trusted front proxy, as the XMPP server learns it
// (docs/front-proxies.md): with trusted_proxies = 127.0.0.1, a request's
// X-Forwarded-For names the client; upstream_proxy_protocol = v2 starts each
// upstream connection with a binary PROXY header naming that client and the
// server's own address; and max_sessions_per_ip counts the named clients.
// The scripted server here reads the PROXY header off each connection first.

const assert = require('node:assert/strict');
const { test } = require('node:test');

const { useStack, uniqueDomain, assertAlive, assertTerminate } = require('./lib/stack');
const { BoshSession, sendBody, bodyXml } = require('./lib/bosh');

const stack = useStack(
  { trusted_proxies: '127.0.0.1', upstream_proxy_protocol: 'v2', max_sessions_per_ip: 1 },
  { upstream: { proxyProtocol: true } });

const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'binary');

async function create(label, forwardedFor) {
  const to = uniqueDomain(label);
  const headers = forwardedFor ? [['X-Forwarded-For', forwardedFor]] : [];
  const session = await BoshSession.create(stack.port, to, {}, { headers });
  const conn = await stack.upstream.connection(to);
  return { session, conn, to };
}

test('without X-Forwarded-For the upstream PROXY v2 header names the peer itself', async () => {
  const s = await create('plain');
  const header = s.conn.proxyHeader;
  assert.ok(header && header.subarray(0, 12).equals(V2_SIGNATURE), 'a v2 header first');
  assert.equal(header[12], 0x21, 'version 2, PROXY');
  assert.equal(header[13], 0x11, 'TCP over IPv4');
  assert.equal(header.readUInt16BE(14), 12);
  assert.equal(s.conn.proxySource, '127.0.0.1');
  assert.equal(header.readUInt16BE(26), stack.upstream.port, 'the destination is the server');
  await assertAlive(s);
});

test('X-Forwarded-For from the trusted proxy names the client towards the server', async () => {
  const s = await create('xff', '6.6.6.6, 198.51.100.7');
  assert.equal(s.conn.proxySource, '198.51.100.7');
  await assertAlive(s);
  const six = await create('xff6', '2001:db8::5');
  assert.equal(six.conn.proxyHeader[13], 0x21, 'TCP over IPv6 (the server address mapped)');
  assert.equal(six.conn.proxySource, '2001:db8:0:0:0:0:0:5');
});

test('max_sessions_per_ip counts the forwarded clients, not the proxy', async () => {
  await create('cap-a', '198.51.100.20');
  const to = uniqueDomain('cap-a2');
  const refused = await sendBody(stack.port, bodyXml(BoshSession.creationAttrs(to)),
    { headers: [['X-Forwarded-For', '198.51.100.20']] });
  assertTerminate(refused, 'policy-violation');
  const other = await create('cap-b', '198.51.100.21');
  await assertAlive(other);
});
