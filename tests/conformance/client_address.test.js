'use strict';
// The client address behind a trusted front proxy, as the XMPP server learns it
// (docs/front-proxies.md): with trusted_proxies = 127.0.0.1, a request's
// X-Forwarded-For names the client; upstream_proxy_protocol = v2 starts each
// upstream connection with a binary PROXY header naming that client and the
// server's own address; and max_sessions_per_ip counts the named clients.
// The scripted server here reads the PROXY header off each connection first.
// The same holds for XMPP over WebSocket: the upgrade request's X-Forwarded-For
// names the client of the whole WebSocket connection, for the upstream header,
// the shared per-address cap and the log (a second switchboard, with neither
// a cap nor upstream PROXY headers, so that the address is kept for the log alone).

const assert = require('node:assert/strict');
const { test, after } = require('node:test');

const { useStack, uniqueDomain, assertAlive, assertTerminate } = require('./lib/stack');
const { BoshSession, sendBody, bodyXml } = require('../lib/bosh');
const { WsClient, destroyWsSockets } = require('./lib/ws_client');

after(() => destroyWsSockets());

const stack = useStack(
  { trusted_proxies: '127.0.0.1', upstream_proxy_protocol: 'v2', max_sessions_per_ip: 1 },
  { upstream: { proxyProtocol: true } });
const logOnly = useStack({ trusted_proxies: '127.0.0.1' });

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

/** A WebSocket connection through `on` whose upgrade names `forwardedFor`. */
async function wsUpgrade(on, forwardedFor) {
  const extra = forwardedFor ? [`X-Forwarded-For: ${forwardedFor}`] : [];
  const c = await WsClient.open(on.port, { extra });
  assert.equal(c.status, 101, c.head);
  return c;
}

async function wsStream(label, forwardedFor) {
  const to = uniqueDomain(label);
  const c = await wsUpgrade(stack, forwardedFor);
  c.sendOpen(to);
  const conn = await stack.upstream.connection(to);
  await c.frame(1);  // <open/> and features
  return { c, conn, to };
}

test('WebSocket: X-Forwarded-For of the upgrade names the client towards the server', async () => {
  const s = await wsStream('ws-xff', '6.6.6.6, 198.51.100.8');
  assert.ok(s.conn.proxyHeader.subarray(0, 12).equals(V2_SIGNATURE), 'a v2 header first');
  assert.equal(s.conn.proxySource, '198.51.100.8');
  // An IPv6 client: the header's address family follows the client's.
  const six = await wsStream('ws-xff6', '2001:db8::9');
  assert.equal(six.conn.proxyHeader[13], 0x21, 'TCP over IPv6');
  assert.equal(six.conn.proxySource, '2001:db8:0:0:0:0:0:9');
  s.c.destroy();
  six.c.destroy();
});

test('WebSocket: max_sessions_per_ip counts the forwarded client, with its BOSH sessions', async () => {
  await create('ws-cap-bosh', '198.51.100.30');
  const over = await wsUpgrade(stack, '198.51.100.30');
  over.sendOpen(uniqueDomain('ws-cap-over'));
  await over.waitCloseFrame();
  const texts = over.texts();
  assert.match(texts[1], /<policy-violation /, 'the second session of 198.51.100.30 is refused');
  const other = await wsStream('ws-cap-other', '198.51.100.31');
  assert.equal(other.conn.proxySource, '198.51.100.31', 'another client has its own place');
  other.c.destroy();
});

test('WebSocket: the log names the forwarded client, not the proxy', async () => {
  const to = uniqueDomain('ws-log');
  const c = await wsUpgrade(logOnly, '198.51.100.50');
  c.sendOpen(to);
  await logOnly.upstream.connection(to);
  await c.frame(1);
  assert.match(logOnly.sb.logs(), new RegExp(`created for ${to.replace(/\./g, '\\.')} from 198\\.51\\.100\\.50`));
  // An untrusted-looking forwarded value that is not an address leaves the peer.
  const to2 = uniqueDomain('ws-log-bad');
  const bad = await wsUpgrade(logOnly, 'not-an-address');
  bad.sendOpen(to2);
  await logOnly.upstream.connection(to2);
  await bad.frame(1);
  assert.match(logOnly.sb.logs(), new RegExp(`created for ${to2.replace(/\./g, '\\.')} from 127\\.0\\.0\\.1`));
  c.destroy();
  bad.destroy();
});
