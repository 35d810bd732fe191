'use strict';
// Conformance: session creation (checklist §1.2 request, §1.3 response) and the
// multiple-streams rules M1/M2, which switchboard answers by not supporting them.
//
// Each test opens a session on its own domain against the scripted upstream and
// checks the creation response attribute by attribute.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useStack, uniqueDomain, openSession, assertWrapper, assertTerminate, stillPending, attrPattern, sleep,
} = require('./lib/stack');
const { BoshSession, bodyXml, sendBody, XBOSH_NS } = require('../lib/bosh');

const stack = useStack();

test('§1.3: the creation response carries every negotiated attribute and the stream features', async () => {
  const to = uniqueDomain('create');
  stack.upstream.plan(to, { id: 'stream-id-1234', from: to });
  const session = await BoshSession.create(stack.port, to, { wait: '30', hold: '1', ver: '1.6' });
  const reply = session.creation;
  assertWrapper(reply);
  const a = reply.attrs;
  assert.match(a.sid, /^[A-Za-z0-9_-]{22,}$/, 'sid: at least 128 random bits, base64url');
  assert.equal(a.wait, '30');
  assert.equal(a.requests, '2');
  assert.equal(a.hold, '1');
  assert.equal(a.inactivity, '60');
  assert.equal(a.polling, '2');
  assert.equal(a.maxpause, '120');
  assert.equal(a.ver, '1.6');
  assert.equal(a.from, to);
  assert.equal(a.authid, 'stream-id-1234');
  assert.equal(a['xmlns:xmpp'], XBOSH_NS);
  assert.equal(a['xmpp:version'], '1.0');
  assert.equal(a['xmpp:restartlogic'], 'true');
  for (const absent of ['stream', 'ack', 'accept', 'charsets', 'type', 'condition', 'secure']) {
    assert.equal(a[absent], undefined, `no ${absent} attribute expected: ${reply.describe()}`);
  }
  assert.equal(reply.elements.length, 1, reply.describe());
  assert.match(reply.elements[0], /^<stream:features>/);
  assert.match(reply.elements[0], /<mechanism>PLAIN<\/mechanism>/);
});

test('§1.3 sid: unique per session and unpredictable', async () => {
  const sids = new Set();
  for (let i = 0; i < 4; i += 1) {
    const { session } = await openSession(stack, 'sid');
    sids.add(session.sid);
  }
  assert.equal(sids.size, 4);
});

test('§1.3 wait: the client\'s wait, capped by max_wait (120); 60 when absent', async () => {
  const cases = [['30', '30'], ['120', '120'], ['500', '120'], [undefined, '60']];
  for (const [asked, offered] of cases) {
    const { session } = await openSession(stack, 'wait', { attrs: { wait: asked } });
    assert.equal(session.creation.attrs.wait, offered, `wait=${asked}`);
  }
});

test('§1.3 hold/requests: hold capped by max_hold (1), requests = hold + 1', async () => {
  const cases = [['1', '1', '2'], ['5', '1', '2'], [undefined, '1', '2'], ['0', '0', '1']];
  for (const [asked, hold, requests] of cases) {
    const { session } = await openSession(stack, 'hold', { attrs: { hold: asked } });
    assert.equal(session.creation.attrs.hold, hold, `hold=${asked}`);
    assert.equal(session.creation.attrs.requests, requests, `hold=${asked}`);
  }
});

test('§1.3 ver: min(client ver, 1.11), compared as integers', async () => {
  const cases = [['1.6', '1.6'], ['1.9', '1.9'], ['1.10', '1.10'], ['1.11', '1.11'], ['1.12', '1.11'],
    ['1.20', '1.11'], ['2.0', '1.11']];
  for (const [asked, offered] of cases) {
    const { session } = await openSession(stack, 'ver', { attrs: { ver: asked } });
    assert.equal(session.creation.attrs.ver, offered, `ver=${asked}`);
  }
});

test('§1.3 ver: a legacy client (no ver) is still told ver=1.11', async () => {
  const { session } = await openSession(stack, 'legacy', { attrs: { ver: undefined } });
  assert.equal(session.creation.attrs.ver, '1.11');
});

test('§1.3 from/authid (X11): taken from the server\'s stream header', async () => {
  const to = uniqueDomain('authid');
  stack.upstream.plan(to, { id: 'Zm9vYmFy-42', from: 'xmpp.server.example' });
  const session = await BoshSession.create(stack.port, to);
  assert.equal(session.creation.attrs.from, 'xmpp.server.example');
  assert.equal(session.creation.attrs.authid, 'Zm9vYmFy-42');
});

test('§1.3/X5: the creation response waits for the stream features', async () => {
  const to = uniqueDomain('slowfeatures');
  stack.upstream.plan(to, { featuresDelayMs: 700 });
  const started = Date.now();
  const session = await BoshSession.create(stack.port, to);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 650, `answered after ${elapsed} ms, before the features existed`);
  assert.match(session.creation.payload, /^<stream:features>/, session.creation.describe());
});

test('§1.3: creation-only attributes do not appear on later responses', async () => {
  const { session, conn } = await openSession(stack, 'later');
  const pending = session.send({ payload: "<iq type='get' id='l1'/>" });
  await conn.waitStanzas(1);
  conn.send("<iq type='result' id='l1'/>");
  const reply = await pending;
  assertWrapper(reply);
  assert.deepEqual(Object.keys(reply.attrs).sort(), ['xmlns', 'xmlns:stream'], reply.describe());
});

test('§1.2 rid: rids up to 2^53-1 are accepted', async () => {
  const max = 2 ** 53 - 1;
  const { session, conn } = await openSession(stack, 'bigrid', { attrs: { rid: String(max - 1) } });
  const pending = session.send({ payload: "<iq type='get' id='big'/>" });
  assert.equal(session.rid, max);
  await conn.waitStanzas(1);
  conn.send("<iq type='result' id='big'/>");
  const reply = await pending;
  assertWrapper(reply);
  assert.equal(reply.type, undefined, reply.describe());
  assert.match(reply.payload, attrPattern('id', 'big'));
});

test('§1.2 to: a creation request without to ends with improper-addressing', async () => {
  const reply = await sendBody(stack.port, bodyXml({ rid: '1000', ver: '1.11', wait: '10', hold: '1' }));
  assertTerminate(reply, 'improper-addressing');
});

test('§1.2 route: ignored when allowed_routes is empty (the default upstream is used)', async () => {
  const { session, conn } = await openSession(stack, 'route', { attrs: { route: 'xmpp:127.0.0.1:1' } });
  assert.ok(session.sid);
  assert.equal(conn.headers.length, 1);
});

test('§1.2: obsolete and non-standard creation attributes are ignored (secure, inactivity)', async () => {
  const { session } = await openSession(stack, 'ignored', { attrs: { secure: 'true', inactivity: '5' } });
  assert.equal(session.creation.attrs.inactivity, '60');
  assert.equal(session.creation.attrs.secure, undefined);
});

test('M1: multiple streams are not offered (no stream attribute)', async () => {
  const { session } = await openSession(stack, 'nostream');
  assert.equal(session.creation.attrs.stream, undefined);
});

test('M2: an add-stream request (empty body with to) is treated as a normal empty request', async () => {
  const { session, conn } = await openSession(stack, 'addstream');
  const other = uniqueDomain('second-stream');
  const pending = session.send({ attrs: { to: other, 'xml:lang': 'en', 'xmpp:version': '1.0' } });
  assert.ok(await stillPending(pending, 300), 'an empty request is held');
  conn.send("<message id='after-add' from='x@y'><body>still one stream</body></message>");
  const reply = await pending;
  assertWrapper(reply);
  assert.equal(reply.attrs.stream, undefined, reply.describe());
  assert.equal(reply.type, undefined, reply.describe());
  assert.match(reply.payload, attrPattern('id', 'after-add'));
  await sleep(50);
  assert.equal(stack.upstream.connectionsFor(other).length, 0, 'no stream is opened for the added domain');
  assert.equal(conn.headers.length, 1, 'no new stream header on the existing connection');
});

test('M4: a stream attribute on a request is ignored: the request is handled as usual', async () => {
  const { session, conn } = await openSession(stack, 'streamattr');
  const pending = session.send({ attrs: { stream: 'no-such-stream' }, payload: "<message id='m4' to='a@b'/>" });
  await conn.waitStanza(attrPattern('id', 'm4'));
  conn.send("<message id='m4-back' from='a@b'/>");
  const reply = await pending;
  assertWrapper(reply);
  assert.equal(reply.type, undefined, reply.describe());
  assert.equal(reply.attrs.stream, undefined);
  assert.match(reply.payload, attrPattern('id', 'm4-back'));
});
