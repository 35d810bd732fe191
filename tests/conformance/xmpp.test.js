'use strict';
// Conformance: XMPP over BOSH (XEP-0206, checklist §1.9): what goes into the
// bodies (X1), namespaces in both directions (X2), the stream header switchboard
// opens for the client (X4), features (X5) and the stream restart after SASL
// (X8), all checked on both sides: the client's responses and the bytes the
// scripted server received.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useStack, uniqueDomain, openSession, assertWrapper, assertEmptyBody, stillPending, attrPattern, sleep,
} = require('./lib/stack');
const { BoshSession } = require('../lib/bosh');
const { firstTag, parseOpenTag } = require('../lib/xml_bits');

const stack = useStack();
const SASL_NS = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** Sends `payload` in a request, lets the server answer with `answer`, returns the Reply. */
async function exchange({ session, conn }, payload, answer, match) {
  const pending = session.send({ payload });
  await conn.waitStanza(match);
  conn.send(answer);
  return pending;
}

test('X1: a SASL exchange travels in <body/> wrappers declaring xmlns:stream', async () => {
  const s = await openSession(stack, 'sasl');
  const reply = await exchange(s, `<auth xmlns='${SASL_NS}' mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>`,
    `<success xmlns='${SASL_NS}'/>`, /<auth /);
  assertWrapper(reply);
  assert.equal(reply.elements.length, 1);
  assert.match(reply.elements[0], /^<success xmlns=(['"])urn:ietf:params:xml:ns:xmpp-sasl\1\/>$/);
  const auth = s.conn.stanzas[0];
  assert.equal(parseOpenTag(firstTag(auth)).attrs.xmlns, SASL_NS, 'the SASL namespace is kept');
  assert.match(auth, />AGp1bGlldAByMG0zMG15cjBtMzA=<\/auth>$/);
});

test('X1: several stanzas from the server arrive together in one body, in order', async () => {
  const { session, conn } = await openSession(stack, 'batch');
  const pending = session.send();
  await sleep(100);
  conn.send("<message id='m1' from='a@b'/><presence id='p1' from='a@b'/><iq id='i1' type='get' from='a@b'/>");
  const reply = await pending;
  assert.deepEqual(reply.elements.map((e) => parseOpenTag(firstTag(e)).name), ['message', 'presence', 'iq']);
});

test('X2: stanzas from the server carry xmlns=\'jabber:client\'', async () => {
  const { session, conn } = await openSession(stack, 'nsout');
  const pending = session.send();
  await sleep(100);
  conn.send("<message from='romeo@example.net' id='x2'><body>hi</body></message><iq type='result' id='x2b'/>");
  const reply = await pending;
  assert.equal(reply.elements.length, 2, reply.describe());
  for (const element of reply.elements) {
    assert.equal(parseOpenTag(firstTag(element)).attrs.xmlns, 'jabber:client', element);
  }
  assert.match(reply.elements[0], /<body>hi<\/body><\/message>$/);
});

test('X2: client stanzas without xmlns reach the server with xmlns=\'jabber:client\'; others keep theirs', async () => {
  const { session, conn } = await openSession(stack, 'nsin');
  const pending = session.send({
    payload: "<message to='juliet@example.com' id='n1'><body>x</body></message>" +
      "<presence xmlns='jabber:client' id='n2'/>" +
      "<iq type='get' id='n3'><query xmlns='jabber:iq:roster'/></iq>",
  });
  await conn.waitStanzas(3);
  const tags = conn.stanzas.map((s) => parseOpenTag(firstTag(s)));
  assert.deepEqual(tags.map((t) => t.attrs.xmlns), ['jabber:client', 'jabber:client', 'jabber:client']);
  assert.match(conn.stanzas[2], /<query xmlns=(['"])jabber:iq:roster\1\/>/);
  assert.doesNotMatch(conn.stanzas.join(''), /httpbind/, 'the httpbind namespace never reaches the server');
  conn.send("<iq type='result' id='n3'/>");
  assertWrapper(await pending);
});

test('X2: a prefix declared on the server\'s stream header is re-declared on the stanza', async () => {
  const { session, conn } = await openSession(stack, 'prefixout', {
    plan: { headerExtra: " xmlns:ex='urn:example:ext'" },
  });
  const pending = session.send();
  await sleep(100);
  conn.send("<message id='px' from='a@b'><ex:data>1</ex:data></message>");
  const reply = await pending;
  const tag = parseOpenTag(firstTag(reply.elements[0]));
  assert.equal(tag.attrs['xmlns:ex'], 'urn:example:ext', reply.describe());
  assert.equal(tag.attrs.xmlns, 'jabber:client');
});

test('X2: a prefix declared on the client\'s <body/> is re-declared on the stanza sent to the server', async () => {
  const { session, conn } = await openSession(stack, 'prefixin');
  const pending = session.send({
    attrs: { 'xmlns:foo': 'urn:example:foo' },
    payload: "<message id='pf' to='a@b'><foo:bar>1</foo:bar></message>",
  });
  const stanza = await conn.waitStanza(attrPattern('id', 'pf'));
  const tag = parseOpenTag(firstTag(stanza));
  assert.equal(tag.attrs['xmlns:foo'], 'urn:example:foo', stanza);
  assert.match(stanza, /<foo:bar>1<\/foo:bar>/);
  conn.send("<message id='pf-ok'/>");
  assertWrapper(await pending);
});

test('X4: the stream header carries to, from, xml:lang and the client\'s xmpp:version', async () => {
  const to = uniqueDomain('header');
  await BoshSession.create(stack.port, to, { from: 'juliet@capulet.lit', 'xml:lang': 'de', 'xmpp:version': '1.0' });
  const conn = await stack.upstream.connection(to);
  const header = conn.headers[0];
  assert.equal(header.attrs.to, to);
  assert.equal(header.attrs.from, 'juliet@capulet.lit');
  assert.equal(header.attrs['xml:lang'], 'de');
  assert.equal(header.attrs.version, '1.0');
  assert.equal(header.attrs.xmlns, 'jabber:client');
  assert.equal(header.attrs['xmlns:stream'], 'http://etherx.jabber.org/streams');
});

test('X4: no <stream:stream> ever appears inside a BOSH body', async () => {
  const { session, conn } = await openSession(stack, 'nostreamtag');
  assert.doesNotMatch(session.creation.text, /stream:stream/);
  const restart = session.send({ attrs: { 'xmpp:restart': 'true', to: session.to, 'xml:lang': 'en' } });
  await conn.waitHeaders(2);
  assert.doesNotMatch((await restart).text, /stream:stream/);
});

test('X5: features that arrive after the creation response come on the next response', async () => {
  const to = uniqueDomain('latefeatures');
  stack.upstream.plan(to, { featuresDelayMs: 1800 });
  const session = await BoshSession.create(stack.port, to, { wait: '1' });
  assertWrapper(session.creation);
  assert.ok(session.creation.attrs.sid);
  assert.equal(session.creation.attrs['xmpp:version'], '1.0');
  assert.equal(session.creation.payload, '', 'no features yet');
  // The client polls until the features come (Strophe does).
  let reply = await session.send();
  if (reply.isEmpty) reply = await session.send();
  assertWrapper(reply);
  assert.match(reply.payload, /^<stream:features>/);
});

test('X8: restart: a new stream header on the same TCP connection; the new features answer the restart request', async () => {
  const s = await openSession(stack, 'restart');
  const { session, conn } = s;
  await exchange(s, `<auth xmlns='${SASL_NS}' mechanism='PLAIN'>AGEAYg==</auth>`, `<success xmlns='${SASL_NS}'/>`, /<auth /);
  const restart = await session.send({ attrs: { 'xmpp:restart': 'true', to: session.to, 'xml:lang': 'en' } });
  assert.equal(conn.headers.length, 2, 'a second stream header');
  assert.equal(stack.upstream.connectionsFor(session.to).length, 1, 'on the same TCP connection');
  assert.equal(conn.headers[1].attrs.to, session.to);
  assert.equal(conn.headers[1].attrs.version, '1.0');
  assertWrapper(restart);
  assert.equal(restart.attrs.sid, undefined, 'no creation attributes on the restart response');
  assert.equal(restart.elements.length, 1, restart.describe());
  assert.match(restart.elements[0], /^<stream:features><bind xmlns=(['"])urn:ietf:params:xml:ns:xmpp-bind\1\/><\/stream:features>$/);
  // The new stream works: bind.
  const bind = await exchange(s, "<iq type='set' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>",
    "<iq type='result' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@b/r</jid></bind></iq>", /bind_1/);
  assert.match(bind.payload, /<jid>a@b\/r<\/jid>/);
});

test('X7: the restart stream header carries the client\'s from', async () => {
  const { session, conn } = await openSession(stack, 'restartfrom', { attrs: { from: 'juliet@capulet.lit' } });
  const restart = session.send({
    attrs: { 'xmpp:restart': 'true', to: session.to, 'xml:lang': 'en', from: 'juliet@capulet.lit' },
  });
  await conn.waitHeaders(2);
  assert.equal(conn.headers[1].attrs.from, 'juliet@capulet.lit');
  assertWrapper(await restart);
});

test('X8: stanzas inside a restart body are not forwarded', async () => {
  const { session, conn } = await openSession(stack, 'restartpayload');
  const restart = await session.send({
    attrs: { 'xmpp:restart': 'true', to: session.to, 'xml:lang': 'en' },
    payload: "<message id='smuggled' to='a@b'/>",
  });
  assertWrapper(restart);
  await sleep(100);
  assert.equal(conn.stanzas.length, 0, `forwarded: ${conn.stanzas.join('')}`);
  assert.equal(conn.headers.length, 2);
});

test('X8: a restart is held like any request until the new features come', async () => {
  const { session, conn } = await openSession(stack, 'restartslow', { plan: { restartFeatures: null } });
  const restart = session.send({ attrs: { 'xmpp:restart': 'true', to: session.to, 'xml:lang': 'en' } });
  await conn.waitHeaders(2);
  assert.ok(await stillPending(restart, 300), 'held until the server sends its features');
  conn.send("<stream:features><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>");
  const reply = await restart;
  assert.match(reply.payload, /^<stream:features><session /);
});

test('X1/X8: the restart response of a server that sends nothing is empty after wait', async () => {
  const { session, conn } = await openSession(stack, 'restartsilent', { attrs: { wait: '1' }, plan: { restartFeatures: null } });
  const reply = await session.send({ attrs: { 'xmpp:restart': 'true', to: session.to, 'xml:lang': 'en' } });
  assert.equal(conn.headers.length, 2);
  assertEmptyBody(reply);
});
