'use strict';
// Conformance: XMPP over WebSocket (RFC 7395) on switchboard's HTTP listener, and
// the RFC 6455 handshake and framing rules switchboard enforces as a server. Raw
// handshakes and raw frames (lib/ws_client.js) against a switchboard in front of
// the scripted XMPP server, so every byte both sides see can be checked: what the
// client gets (the 101 head, each frame's opcode, payload and close code) and what
// the server gets (stream headers, stanzas, </stream:stream>). docs/conformance.md
// maps each rule to its test by the name before the colon.
//
// This file's switchboard allows one origin (cors_origins) so that a foreign
// Origin can be refused, and takes client messages of at most 4 KiB
// (max_stanza_bytes) so that an oversized one is cheap to send.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  useStack, uniqueDomain, openBystander, assertAlive, sleep,
} = require('./lib/stack');
const {
  WsClient, OP, FRAMING_NS, acceptFor, frameBytes, closePayload, destroyWsSockets,
} = require('./lib/ws_client');
const { parseOpenTag, firstTag } = require('../lib/xml_bits');

const GOOD_ORIGIN = 'http://chat.example.test';
const MAX_MESSAGE = 4096;
const stack = useStack({ cors_origins: GOOD_ORIGIN, max_stanza_bytes: '4k' });
after(() => destroyWsSockets());

const SASL_NS = 'urn:ietf:params:xml:ns:xmpp-sasl';
const STREAM_NS = 'http://etherx.jabber.org/streams';
const STREAMS_NS = 'urn:ietf:params:xml:ns:xmpp-streams';

/** A WebSocket with an open XMPP stream: { c, conn, to, open, features }. */
async function openStream(label, { plan, options } = {}) {
  const to = uniqueDomain(label);
  if (plan) stack.upstream.plan(to, plan);
  const c = await WsClient.open(stack.port, options);
  assert.equal(c.status, 101, c.head);
  c.sendOpen(to);
  const conn = await stack.upstream.connection(to);
  const open = await c.frame(0);
  const features = await c.frame(1);
  return { c, conn, to, open, features };
}

/** Asserts the server's end of an XMPP stream: [error], <close/>, close frame `code`. */
async function assertStreamEnd(c, { error, code = 1000 } = {}) {
  const close = await c.waitCloseFrame();
  assert.equal(close.closeCode, code, close.describe());
  const texts = c.texts();
  assert.match(texts[texts.length - 1], new RegExp(`^<close xmlns=(['"])${FRAMING_NS}\\1/>$`),
    `the last text frame is <close/>: ${texts.slice(-3).join(' | ')}`);
  if (error) {
    const element = texts[texts.length - 2];
    assert.match(element, /^<stream:error /, `a stream error before <close/>: ${element}`);
    assert.match(element, new RegExp(`xmlns:stream=(['"])${STREAM_NS}\\1`), element);
    assert.match(element, new RegExp(`<${error}[ /]`), element);
  }
  return close;
}

/** The client answers the close frame; the server then closes the TCP connection. */
async function finishClose(c, code = 1000) {
  c.sendClose(code);
  await c.waitEnd();
}

// ---------------------------------------------------------------------------
// The opening handshake (RFC 6455 §4, RFC 7395 §3.1)

test('WS-H1 handshake: 101 with Sec-WebSocket-Accept and the xmpp subprotocol', async () => {
  const c = await WsClient.open(stack.port, { protocols: 'chat, xmpp' });
  assert.equal(c.status, 101, c.head);
  assert.match(c.head, /^HTTP\/1\.1 101 /);
  assert.equal(c.headers.upgrade.toLowerCase(), 'websocket');
  assert.equal(c.headers.connection.toLowerCase(), 'upgrade');
  assert.equal(c.headers['sec-websocket-accept'], acceptFor(c.key));
  assert.equal(c.headers['sec-websocket-protocol'], 'xmpp');
  assert.equal(c.headers['content-length'], undefined, 'a 101 has no Content-Length');
  c.destroy();
});

test('WS-H1 handshake: the RFC 6455 sample key gets the RFC\'s accept value', async () => {
  const c = await WsClient.open(stack.port, { key: 'dGhlIHNhbXBsZSBub25jZQ==' });
  assert.equal(c.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  c.destroy();
});

test('WS-H2 handshake without the xmpp subprotocol: 400, no upgrade', async () => {
  for (const protocols of [null, 'chat', 'XMPP']) {
    const c = await WsClient.open(stack.port, { protocols });
    assert.equal(c.status, 400, `${protocols}: ${c.head}`);
    assert.equal(c.headers['sec-websocket-accept'], undefined);
    await c.waitEnd();
  }
});

test('WS-H3 bad Origin: 403; the allowed Origin is upgraded', async () => {
  const bad = await WsClient.open(stack.port, { origin: 'http://evil.example.test' });
  assert.equal(bad.status, 403, bad.head);
  await bad.waitEnd();
  const good = await WsClient.open(stack.port, { origin: GOOD_ORIGIN });
  assert.equal(good.status, 101, good.head);
  good.destroy();
});

test('WS-H4 handshake checks: version, key, method, Upgrade header', async () => {
  const version = await WsClient.open(stack.port, { version: '8' });
  assert.equal(version.status, 426, version.head);
  assert.equal(version.headers['sec-websocket-version'], '13');
  const key = await WsClient.open(stack.port, { key: 'c2hvcnQ=' });
  assert.equal(key.status, 400, key.head);
  const post = await WsClient.open(stack.port, {
    raw: Buffer.from('POST /xmpp-websocket HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'),
  });
  assert.equal(post.status, 405, post.head);
  const plain = await WsClient.open(stack.port, {
    raw: Buffer.from('GET /xmpp-websocket HTTP/1.1\r\nHost: x\r\n\r\n'),
  });
  assert.equal(plain.status, 426, plain.head);
  assert.equal(plain.headers.upgrade, 'websocket');
  const old = await WsClient.open(stack.port, {
    raw: Buffer.from('GET /xmpp-websocket HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n'),
  });
  assert.equal(old.status, 400, old.head);
});

test('WS-H5 an upgrade after pipelined requests: their answers first, then the 101', async () => {
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const to = uniqueDomain('pipelined');
  const raw = Buffer.concat([
    Buffer.from('GET /http-bind HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from('GET /.well-known/host-meta HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from(`GET /xmpp-websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n`),
    // A client should wait for the 101; one that does not still has its frame read.
    frameBytes(OP.text, `<open xmlns='${FRAMING_NS}' to='${to}' version='1.0'/>`),
  ]);
  const c = await WsClient.open(stack.port, { raw });
  assert.equal(c.status, 200, 'the first answer is the BOSH info page');
  // The rest of the bytes: the host-meta answer, then the 101, then frames.
  await c.waitFor(() => c.buffer.includes('\r\n\r\n<open') || c.buffer.includes('Switching Protocols\r\n'),
    'the 101 after the pipelined answers');
  const text = c.buffer.toString('latin1');
  const hostMeta = text.indexOf('HTTP/1.1 200');
  const switching = text.indexOf('HTTP/1.1 101 Switching Protocols');
  assert.ok(hostMeta >= 0 && switching > hostMeta, `host-meta answer, then the 101: ${text.slice(0, 400)}`);
  await stack.upstream.connection(to);
  await c.waitFor(() => c.buffer.includes('<open xmlns'), 'our <open/> after the 101');
  c.destroy();
});

// ---------------------------------------------------------------------------
// Opening, framing and closing the XMPP stream (RFC 7395 §3.3-3.6)

test('WS-O1 open: <open/> opens the server stream; our <open/> and the features come one per frame', async () => {
  const { c, conn, to, open, features } = await openStream('open');
  assert.equal(conn.headers.length, 1);
  assert.equal(conn.headers[0].attrs.to, to);
  assert.equal(open.opcode, OP.text);
  assert.equal(open.fin, true);
  assert.equal(open.masked, false, 'server frames are never masked');
  const tag = parseOpenTag(firstTag(open.text));
  assert.equal(tag.name, 'open');
  assert.equal(tag.attrs.xmlns, FRAMING_NS);
  assert.equal(tag.attrs.from, to);
  assert.equal(tag.attrs.version, '1.0');
  assert.equal(tag.attrs.id, conn.streamId, 'the stream id is the server\'s');
  assert.match(open.text, /\/>$/, '<open/> is a complete, empty element');
  const f = parseOpenTag(firstTag(features.text));
  assert.equal(f.name, 'stream:features');
  assert.equal(f.attrs['xmlns:stream'], STREAM_NS, 'the stream prefix is declared in the frame');
  c.destroy();
});

test('WS-O2 stanzas both ways, one complete element per frame, jabber:client declared', async () => {
  const { c, conn } = await openStream('stanzas');
  c.sendText("<message to='juliet@example.com' id='m1'><body>to the server</body></message>");
  const up = await conn.waitStanza(/id="m1"|id='m1'/);
  assert.match(up, /xmlns=(['"])jabber:client\1/, up);
  conn.send("<message from='juliet@example.com' id='s1'><body>one</body></message><presence from='j@e' id='s2'/>");
  await c.waitText(/id='s2'/);
  const texts = c.texts().slice(2);
  assert.equal(texts.length, 2, 'two stanzas, two frames');
  for (const t of texts) assert.equal(parseOpenTag(firstTag(t)).attrs.xmlns, 'jabber:client', t);
  c.destroy();
});

test('WS-O3 <starttls/> is removed from the features the client sees', async () => {
  const features = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" +
    `<mechanisms xmlns='${SASL_NS}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
  const { c, features: got } = await openStream('starttls', { plan: { features } });
  assert.doesNotMatch(got.text, /starttls/, got.text);
  assert.match(got.text, /<mechanisms /, got.text);
  c.destroy();
});

test('WS-O4 restart after SASL: a new <open/> restarts the server stream, new <open/> and features back', async () => {
  const { c, conn, to } = await openStream('restart');
  c.sendText(`<auth xmlns='${SASL_NS}' mechanism='PLAIN'>AGp1bGlldABzZWNyZXQ=</auth>`);
  await conn.waitStanza(/<auth /);
  conn.send(`<success xmlns='${SASL_NS}'/>`);
  await c.waitText(/<success /);
  c.sendOpen(to);
  await conn.waitHeaders(2);
  assert.equal(conn.headers[1].attrs.to, to);
  const reopened = await c.waitFor(() => c.texts().filter((t) => t.startsWith('<open ')).length === 2, 'a second <open/>');
  void reopened;
  const bind = await c.waitText(/urn:ietf:params:xml:ns:xmpp-bind/);
  assert.match(bind, /^<stream:features /);
  c.sendText("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  await conn.waitStanza(/id="b1"|id='b1'/);
  c.destroy();
});

test('WS-O5 close: the client\'s <close/> closes the server stream; <close/> and close 1000 back', async () => {
  const { c, conn } = await openStream('close');
  c.sendText(`<close xmlns='${FRAMING_NS}'/>`);
  await assertStreamEnd(c);
  await conn.waitStreamClose();
  await finishClose(c);
});

test('WS-O6 the server closes its stream: <close/> then close 1000; the closing handshake completes', async () => {
  const { c, conn } = await openStream('serverclose');
  conn.send('</stream:stream>');
  await assertStreamEnd(c);
  await finishClose(c);
  await conn.waitEnd();
});

test('WS-O7 a client close frame without <close/>: echoed, and the server stream is closed', async () => {
  const { c, conn } = await openStream('closeframe');
  c.sendClose(1001);
  const close = await c.waitCloseFrame();
  assert.equal(close.closeCode, 1001, 'the client\'s code is echoed');
  await c.waitEnd();
  await conn.waitStreamClose();
});

test('WS-O8 server stream error: the error element first, then <close/>, then the close frame', async () => {
  const { c, conn } = await openStream('streamerror');
  conn.send(`<stream:error><conflict xmlns='${STREAMS_NS}'/><text xmlns='${STREAMS_NS}'>replaced</text></stream:error>`);
  await assertStreamEnd(c, { error: 'conflict' });
  await finishClose(c);
});

test('WS-O9 a frame holding two elements: not-well-formed, and neither reaches the server', async () => {
  const { c, conn } = await openStream('twoelements');
  c.sendText("<message id='two-a'/><message id='two-b'/>");
  await assertStreamEnd(c, { error: 'not-well-formed' });
  await conn.waitStreamClose();
  assert.ok(!conn.stanzas.some((s) => s.includes('two-a')), conn.stanzas.join(' | '));
  await finishClose(c);
});

test('WS-O10 a stanza before <open/>: a stream error, after our own <open/> (RFC 7395 §3.5)', async () => {
  const c = await WsClient.open(stack.port);
  c.sendText("<message id='early'/>");
  await assertStreamEnd(c, { error: 'not-authorized' });
  assert.match(c.texts()[0], /^<open /, 'an error while opening follows an <open/>');
  await finishClose(c);
});

test('WS-O11 an <open/> without to: host-unknown', async () => {
  const c = await WsClient.open(stack.port);
  c.sendText(`<open xmlns='${FRAMING_NS}' version='1.0'/>`);
  await assertStreamEnd(c, { error: 'host-unknown' });
  await finishClose(c);
});

test('WS-O12 close with stanzas still queued: all of them travel before the stream closes', async () => {
  const { c, conn } = await openStream('queued');
  // Client side: three stanzas and a close frame in one TCP write.
  c.sendRaw(Buffer.concat([1, 2, 3].map((n) => frameBytes(OP.text, `<message id='q${n}'/>`))
    .concat([frameBytes(OP.close, closePayload(1000))])));
  await conn.waitStreamClose();
  const ids = conn.stanzas.map((s) => (/id=['"](q\d)['"]/.exec(s) || [])[1]).filter(Boolean);
  assert.deepEqual(ids, ['q1', 'q2', 'q3'], 'every stanza reached the server before </stream:stream>');
  assert.ok(conn.received.lastIndexOf('q3') < conn.received.indexOf('</stream:stream>'));
  await c.waitEnd();

  // Server side: stanzas and </stream:stream> in one TCP write.
  const other = await openStream('queued2');
  other.conn.send("<message id='r1'/><message id='r2'/><message id='r3'/></stream:stream>");
  await assertStreamEnd(other.c);
  const got = other.c.texts().slice(2, 5).map((t) => (/id=['"](r\d)['"]/.exec(t) || [])[1]);
  assert.deepEqual(got, ['r1', 'r2', 'r3'], 'every stanza reached the client before <close/>');
  await finishClose(other.c);
});

// ---------------------------------------------------------------------------
// Frames (RFC 6455 §5, RFC 7395 §3.2)

test('WS-F1 binary frames are refused with 1003', async () => {
  const { c, conn } = await openStream('binary');
  c.sendFrame(OP.binary, Buffer.from('<message/>'));
  const close = await c.waitCloseFrame();
  assert.equal(close.closeCode, 1003, close.describe());
  await c.waitEnd();
  await conn.waitStreamClose();
});

test('WS-F2 a message over max_stanza_bytes is refused with 1009, at its header', async () => {
  const { c, conn } = await openStream('oversized');
  // Only the header is sent: the limit is judged before any payload is buffered.
  c.sendRaw(frameBytes(OP.text, Buffer.alloc(0), { length: MAX_MESSAGE + 1, mask: Buffer.from([1, 2, 3, 4]) }));
  const close = await c.waitCloseFrame();
  assert.equal(close.closeCode, 1009, close.describe());
  await c.waitEnd();
  await conn.waitStreamClose();
});

test('WS-F2 fragments adding up over the limit are refused with 1009 too', async () => {
  const { c } = await openStream('oversizedfrag');
  const half = 'x'.repeat(MAX_MESSAGE / 2 + 10);
  c.sendFrame(OP.text, `<message><body>${half}`, { fin: false });
  c.sendFrame(OP.continuation, `${half}</body></message>`, { fin: true });
  const close = await c.waitCloseFrame();
  assert.equal(close.closeCode, 1009, close.describe());
});

test('WS-F3 fragmented frames are reassembled, with a ping between fragments', async () => {
  const { c, conn } = await openStream('fragments');
  const stanza = "<message id='frag' to='a@b'><body>in three parts</body></message>";
  c.sendFrame(OP.text, stanza.slice(0, 10), { fin: false });
  c.sendFrame(OP.ping, 'between');
  c.sendFrame(OP.continuation, stanza.slice(10, 30), { fin: false });
  // The last fragment cut across two TCP writes, in the middle of its header.
  const last = frameBytes(OP.continuation, stanza.slice(30), { fin: true });
  c.sendRaw(last.subarray(0, 1));
  await sleep(50);
  c.sendRaw(last.subarray(1));
  const got = await conn.waitStanza(/id="frag"|id='frag'/);
  assert.match(got, /<body>in three parts<\/body>/);
  const pong = c.frames.find((f) => f.opcode === OP.pong);
  assert.ok(pong, 'the ping between fragments is answered');
  assert.equal(pong.text, 'between');
  c.destroy();
});

test('WS-F4 an unmasked client frame is refused with 1002', async () => {
  const { c, conn } = await openStream('unmasked');
  c.sendFrame(OP.text, "<message id='bare'/>", { mask: false });
  const close = await c.waitCloseFrame();
  assert.equal(close.closeCode, 1002, close.describe());
  await c.waitEnd();
  await conn.waitStreamClose();
  assert.ok(!conn.stanzas.some((s) => s.includes('bare')));
});

test('WS-F5 ping/pong: a ping is answered with a pong carrying its payload; pongs are ignored', async () => {
  const { c, conn } = await openStream('ping');
  c.sendFrame(OP.pong, 'unsolicited');
  c.sendFrame(OP.ping, 'payload-123');
  const pong = await c.waitFor(() => c.frames.some((f) => f.opcode === OP.pong), 'a pong');
  void pong;
  const got = c.frames.find((f) => f.opcode === OP.pong);
  assert.equal(got.text, 'payload-123');
  assert.equal(got.fin, true);
  c.sendText("<message id='after-ping'/>");
  await conn.waitStanza(/after-ping/);
  c.destroy();
});

test('WS-F6 reserved bits, unknown opcodes and long control frames are refused with 1002', async () => {
  for (const [what, bytes] of [
    ['RSV1', frameBytes(OP.text, '<a/>', { rsv: 4 })],
    ['opcode 3', frameBytes(3, 'x')],
    ['a 126-byte ping', frameBytes(OP.ping, Buffer.alloc(126))],
    ['a fragmented ping', frameBytes(OP.ping, 'x', { fin: false })],
    ['a continuation with nothing to continue', frameBytes(OP.continuation, 'x')],
  ]) {
    const { c } = await openStream('badframe');
    c.sendRaw(bytes);
    const close = await c.waitCloseFrame();
    assert.equal(close.closeCode, 1002, `${what}: ${close.describe()}`);
    await c.waitEnd();
  }
});

test('WS-F7 text that is not UTF-8 is refused with 1007', async () => {
  const { c } = await openStream('utf8');
  c.sendFrame(OP.text, Buffer.from([0x3c, 0x61, 0xc3, 0x28, 0x2f, 0x3e]));
  const close = await c.waitCloseFrame();
  assert.equal(close.closeCode, 1007, close.describe());
});

test('WS-F8 after all of the above, other sessions are untouched', async () => {
  const bystander = await openBystander(stack);
  const { c, conn } = await openStream('bystander');
  const { c: bad } = await openStream('bad');
  bad.sendFrame(OP.text, 'x', { mask: false });
  await bad.waitCloseFrame();
  await assertAlive(bystander, 'BOSH bystander');
  c.sendText("<message id='still-here'/>");
  await conn.waitStanza(/still-here/);
  c.destroy();
});
