'use strict';
// Conformance: what the client hears when the XMPP server side fails (§1.8
// remote-connection-failed, remote-stream-error, policy-violation for a queue
// that overflows; the legacy 403) and the features filter X3 (<starttls/>).
//
// Switchboard runs with small limits so the faults are cheap to provoke:
// upstream_connect_timeout 2 s, max_stanza_bytes 1k, max_session_queue_bytes 4k,
// and one domain routed to a port where nothing listens. Tests run concurrently;
// each destructive one checks a bystander session afterwards.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const {
  useStack, uniqueDomain, openSession, openBystander, assertAlive, assertWrapper, assertTerminate, assertEmptyBody,
  assertHttpError, assertSessionGone, stillPending, attrPattern, sleep,
} = require('./lib/stack');
const { BoshSession, bodyXml, sendBody } = require('../lib/bosh');
const { freePort } = require('../lib/ports');

const REFUSED_DOMAIN = 'refused.test';
const stack = useStack(async () => ({
  upstream_connect_timeout: 2,
  max_stanza_bytes: '1k',
  max_session_queue_bytes: '4k',
  // A port freePort() found free and nobody listens on: connections are refused.
  [`upstream.${REFUSED_DOMAIN}`]: `127.0.0.1:${await freePort()}`,
}));

const STREAM_ERROR =
  "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" +
  "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error>";

/** A creation request for a domain planned with `plan`; resolves with the Reply. */
function create(to, plan, attrs = {}) {
  if (plan) stack.upstream.plan(to, plan);
  return sendBody(stack.port, bodyXml(BoshSession.creationAttrs(to, attrs)), { timeoutMs: 10000 });
}

describe('upstream faults', { concurrency: true }, () => {
  test('§1.8 remote-connection-failed: the server refuses the connection', async () => {
    const bystander = await openBystander(stack);
    const reply = await create(REFUSED_DOMAIN);
    assertTerminate(reply, 'remote-connection-failed');
    assert.equal(reply.attrs.sid, undefined);
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 remote-connection-failed: no stream header within upstream_connect_timeout (2 s)', async () => {
    const bystander = await openBystander(stack);
    const to = uniqueDomain('silent');
    const started = Date.now();
    // wait=4: should the timeout not fire, the creation is answered after 4 s instead.
    const reply = await create(to, { greet: 'never' }, { wait: '4' });
    const elapsed = Date.now() - started;
    assertTerminate(reply, 'remote-connection-failed');
    assert.ok(elapsed >= 1800 && elapsed < 4000, `answered after ${elapsed} ms`);
    const conn = await stack.upstream.connection(to);
    await conn.waitEnd();
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 remote-connection-failed: the server closes the connection instead of greeting', async () => {
    const bystander = await openBystander(stack);
    assertTerminate(await create(uniqueDomain('hangup'), { greet: 'close' }), 'remote-connection-failed');
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 remote-connection-failed: the server answers with garbage', async () => {
    const bystander = await openBystander(stack);
    assertTerminate(await create(uniqueDomain('garbage'), { greet: 'garbage' }), 'remote-connection-failed');
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 remote-connection-failed: the server closes the TCP connection under a held request', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'closeheld');
    const held = session.send();
    assert.ok(await stillPending(held, 200));
    conn.close();
    assertTerminate(await held, 'remote-connection-failed');
    await assertSessionGone(session);
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 remote-connection-failed: a server close with nothing held is told to the next request', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'closeidle');
    conn.close();
    await conn.waitEnd();
    await sleep(100);
    assertTerminate(await session.send(), 'remote-connection-failed');
    await assertSessionGone(session);
    await assertAlive(bystander, 'bystander');
  });

  for (const [what, garbage] of [['a stray close tag', '</iq>'], ['a bare <', '< oops'],
    ['a DOCTYPE', '<!DOCTYPE x>'], ['text between stanzas', 'plain text<message/>']]) {
    test(`§1.8 remote-connection-failed: garbage from the server mid-session (${what})`, async () => {
      const bystander = await openBystander(stack);
      const { session, conn } = await openSession(stack, 'garbagemid');
      const held = session.send();
      assert.ok(await stillPending(held, 200));
      conn.send(garbage);
      assertTerminate(await held, 'remote-connection-failed');
      await conn.waitEnd();
      await assertAlive(bystander, 'bystander');
    });
  }

  test('§1.8 remote-connection-failed: a stanza larger than max_stanza_bytes (1k)', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'huge');
    // Just under the limit: delivered.
    const first = session.send();
    conn.send(`<message id='fits' from='a@b'><body>${'x'.repeat(900)}</body></message>`);
    assert.match((await first).payload, attrPattern('id', 'fits'));
    const held = session.send();
    assert.ok(await stillPending(held, 200));
    conn.send(`<message id='huge' from='a@b'><body>${'x'.repeat(2000)}</body></message>`);
    const reply = await held;
    assertTerminate(reply, 'remote-connection-failed');
    assert.doesNotMatch(reply.text, /huge/);
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 remote-stream-error: the server\'s <stream:error> is copied inside, queued stanzas first', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'streamerror');
    const held = session.send();
    assert.ok(await stillPending(held, 200));
    conn.send(`<message id='before-error' from='a@b'/>${STREAM_ERROR}</stream:stream>`);
    const reply = await held;
    assertTerminate(reply, 'remote-stream-error');
    assert.equal(reply.elements.length, 2, reply.describe());
    assert.match(reply.elements[0], attrPattern('id', 'before-error'));
    assert.match(reply.elements[1], /^<stream:error[\s>]/);
    assert.match(reply.elements[1], /<conflict xmlns=(['"])urn:ietf:params:xml:ns:xmpp-streams\1\/>/);
    assert.match(reply.elements[1], /Replaced by new connection/);
    await assertSessionGone(session);
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 remote-stream-error: with nothing held, the next request hears it', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'streamerroridle');
    conn.send(`<message id='queued' from='a@b'/>`);
    await sleep(50);
    conn.send(STREAM_ERROR);
    await sleep(150);
    const reply = await session.send();
    assertTerminate(reply, 'remote-stream-error');
    assert.match(reply.elements[0], attrPattern('id', 'queued'));
    assert.match(reply.elements[1], /^<stream:error[\s>]/);
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 policy-violation: server data queued beyond max_session_queue_bytes (4k)', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'overflow');
    for (let i = 0; i < 6; i += 1) {
      conn.send(`<message id='flood-${i}' from='a@b'><body>${'y'.repeat(800)}</body></message>`);
    }
    await conn.waitStreamClose();
    const reply = await session.send();
    assertTerminate(reply, 'policy-violation');
    await assertSessionGone(session);
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 policy-violation: a legacy session (no ver) gets HTTP 403', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'overflowlegacy', { attrs: { ver: undefined } });
    for (let i = 0; i < 6; i += 1) {
      conn.send(`<message id='flood-${i}' from='a@b'><body>${'y'.repeat(800)}</body></message>`);
    }
    await conn.waitStreamClose();
    assertHttpError(await session.send(), 403);
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 policy-violation: a legacy session\'s held request gets HTTP 403 when the queue overflows', async () => {
    const { session, conn } = await openSession(stack, 'overflowlegacyheld', { attrs: { ver: undefined } });
    const held = session.send();
    assert.ok(await stillPending(held, 200));
    // One write: the stanzas are framed in one batch, before the held request can take them.
    conn.send(Array.from({ length: 6 }, (_, i) =>
      `<message id='flood-${i}' from='a@b'><body>${'y'.repeat(800)}</body></message>`).join(''));
    assertHttpError(await held, 403);
    await conn.waitStreamClose();
  });

  test('§1.8: the server closing its stream (</stream:stream>) ends the session: terminate, no condition', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'serverclose');
    const held = session.send();
    assert.ok(await stillPending(held, 200));
    conn.send('</stream:stream>');
    const reply = await held;
    assertTerminate(reply, undefined);
    await assertSessionGone(session);
    await assertAlive(bystander, 'bystander');
  });

  test('X3: <starttls/> is removed from the features forwarded to the client', async () => {
    const to = uniqueDomain('starttls');
    const reply = await create(to, {
      features: "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" +
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>" +
        '</stream:features>',
    });
    assertWrapper(reply);
    assert.ok(reply.attrs.sid, reply.describe());
    assert.doesNotMatch(reply.payload, /starttls/);
    assert.match(reply.payload, /<stream:features><mechanisms xmlns=(['"])urn:ietf:params:xml:ns:xmpp-sasl\1>/);
  });

  test('X3: a server that requires STARTTLS fails the session (remote-connection-failed)', async () => {
    const reply = await create(uniqueDomain('tlsrequired'), {
      features: "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" +
        '</stream:features>',
    });
    assertTerminate(reply, 'remote-connection-failed');
  });

  test('§1.8: a server that stops reading does not stall the client side', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'deaf', { attrs: { wait: '1' } });
    conn.stopReading();
    for (let i = 0; i < 2; i += 1) {
      const reply = await session.send({ payload: `<message id='deaf-${i}' to='a@b'><body>${'z'.repeat(40000)}</body></message>` });
      assertEmptyBody(reply);
    }
    await assertAlive(bystander, 'bystander');
  });

  test('§1.8 remote-connection-failed: what a deaf server leaves unread is bounded', async () => {
    // Once the kernel's socket buffers are full, bytes for the server pile up in
    // switchboard; beyond max_session_queue_bytes (4k here) the session ends.
    const bystander = await openBystander(stack);
    // hold='0': every request is answered at once, so the bytes pile up quickly.
    const { session, conn } = await openSession(stack, 'deafer', { attrs: { wait: '1', hold: '0' } });
    conn.stopReading();
    let ended = null;
    for (let i = 0; i < 400 && !ended; i += 1) {
      const reply = await session.send({ payload: `<message id='deafer-${i}' to='a@b'><body>${'z'.repeat(40000)}</body></message>` });
      if (reply.attrs.type === 'terminate') ended = reply;
    }
    assert.ok(ended, 'the session never ended although the server read nothing');
    assert.equal(ended.attrs.condition, 'remote-connection-failed', ended.describe());
    await assertAlive(bystander, 'bystander');
  });
});
