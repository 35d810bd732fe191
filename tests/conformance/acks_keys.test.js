'use strict';
// Conformance: acknowledgements (checklist A1 request acks, A2 response acks and
// the retransmission cache, A3 report/time) and key sequencing (K1-K5).
//
// Key chains are computed here with node:crypto: K(1) = hex(SHA-1(seed)),
// K(i) = hex(SHA-1(K(i-1))); the client announces K(n) as newkey and then sends
// K(n-1), K(n-2)... as key.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  useStack, openSession, openBystander, assertAlive, assertWrapper, assertTerminate, assertEmptyBody,
  assertSessionGone, stillPending, attrPattern, sleep,
} = require('./lib/stack');
const { sendBody } = require('../lib/bosh');

const stack = useStack();

// --- A1: request acknowledgements (switchboard -> client) -------------------

test('A1: with ack=\'1\', the creation response carries ack=<creation rid>', async () => {
  const { session } = await openSession(stack, 'ackon', { attrs: { ack: '1' } });
  assert.equal(session.creation.attrs.ack, String(session.rid));
});

test('A1: without ack=\'1\', no response carries ack', async () => {
  const { session, conn } = await openSession(stack, 'ackoff');
  assert.equal(session.creation.attrs.ack, undefined);
  const first = session.send();
  assert.ok(await stillPending(first, 100));
  const second = session.send({ payload: "<message id='a1off' to='a@b'/>" });
  const firstReply = await first;
  await conn.waitStanzas(1);
  conn.send("<message id='a1off-back'/>");
  const secondReply = await second;
  assert.equal(firstReply.attrs.ack, undefined, firstReply.describe());
  assert.equal(secondReply.attrs.ack, undefined, secondReply.describe());
});

test('A1: a response carries ack=<highest rid received in order> when it differs from the rid answered', async () => {
  const { session, conn } = await openSession(stack, 'ackdiff', { attrs: { ack: '1' } });
  const r = session.rid;
  const first = session.send({ attrs: { ack: String(r) } });
  assert.ok(await stillPending(first, 100));
  const second = session.send({ attrs: { ack: String(r) }, payload: "<message id='a1' to='a@b'/>" });
  const firstReply = await first;
  assertEmptyBody(firstReply);
  assert.equal(firstReply.attrs.ack, String(r + 2), firstReply.describe());
  await conn.waitStanzas(1);
  conn.send("<message id='a1-back'/>");
  const secondReply = await second;
  assertWrapper(secondReply);
  assert.equal(secondReply.attrs.ack, undefined, `ack equal to the rid answered is omitted: ${secondReply.describe()}`);
});

// --- A2: response acknowledgements (client -> switchboard) ------------------

test('A2: with acks, every unacknowledged response stays cached for a resend, however old', async () => {
  const { session } = await openSession(stack, 'ackcache', { attrs: { ack: '1' }, plan: { echo: true } });
  const r = session.rid;
  const xmls = [];
  const originals = [];
  for (let i = 1; i <= 4; i += 1) {
    // ack=r: the client claims it still lacks every response after the creation one.
    const xml = session.xml({ rid: r + i, attrs: { ack: String(r) }, payload: `<message id='c${i}' to='a@b'/>` });
    xmls.push(xml);
    originals.push(await sendBody(stack.port, xml));
    session.rid = r + i;
  }
  // Without acks only `requests` (2) responses are kept; with acks, all four are.
  const repeat = await sendBody(stack.port, xmls[0]);
  assert.equal(repeat.status, 200);
  assert.ok(repeat.res.bodyBytes.equals(originals[0].res.bodyBytes), `${repeat.text} != ${originals[0].text}`);
});

test('A2: the client\'s ack trims the cache: an acknowledged rid can no longer be resent', async () => {
  const bystander = await openBystander(stack);
  const { session, conn } = await openSession(stack, 'acktrim', { attrs: { ack: '1' }, plan: { echo: true } });
  const r = session.rid;
  const first = session.xml({ rid: r + 1, attrs: { ack: String(r) }, payload: "<message id='t1' to='a@b'/>" });
  await sendBody(stack.port, first);
  session.rid = r + 1;
  const second = await session.send({ attrs: { ack: String(r + 1) }, payload: "<message id='t2' to='a@b'/>" });
  assert.match(second.payload, attrPattern('id', 't2'));
  assertTerminate(await sendBody(stack.port, first), 'item-not-found');
  await conn.waitStreamClose();
  await assertAlive(bystander, 'bystander');
});

test('A2: a request without ack acknowledges every response below it', async () => {
  const { session } = await openSession(stack, 'acknone', { attrs: { ack: '1' }, plan: { echo: true } });
  const r = session.rid;
  const first = session.xml({ rid: r + 1, payload: "<message id='o1' to='a@b'/>" });
  await sendBody(stack.port, first);
  session.rid = r + 1;
  await session.send({ payload: "<message id='o2' to='a@b'/>" });
  assertTerminate(await sendBody(stack.port, first), 'item-not-found');
});

// --- A3: report / time --------------------------------------------------------

test('A3: a response the client reports missing for over 1 s: answered at once with report and time', async () => {
  const { session, conn } = await openSession(stack, 'report', { attrs: { ack: '1' }, plan: { echo: true } });
  const r = session.rid;
  const lostXml = session.xml({ rid: r + 1, attrs: { ack: String(r) }, payload: "<message id='lost' to='a@b'/>" });
  const lost = await sendBody(stack.port, lostXml);  // the client "never got" this one
  session.rid = r + 1;
  await sleep(1200);
  const started = Date.now();
  const reply = await session.send({ attrs: { ack: String(r) } });
  assert.ok(Date.now() - started < 500, 'answered at once');
  assertWrapper(reply);
  assert.equal(reply.attrs.report, String(r + 1), reply.describe());
  const time = Number(reply.attrs.time);
  assert.ok(time >= 1000 && time < 5000, `time=${reply.attrs.time}`);
  // The client resends the missing request and gets the original response.
  const resent = await sendBody(stack.port, lostXml);
  assert.ok(resent.res.bodyBytes.equals(lost.res.bodyBytes));
  assert.equal(conn.stanzas.length, 1, 'the resend is not forwarded again');
});

test('A3: no report while the missing response is younger than 1 s', async () => {
  const { session, conn } = await openSession(stack, 'noreport', { attrs: { ack: '1' }, plan: { echo: true } });
  const r = session.rid;
  await sendBody(stack.port, session.xml({ rid: r + 1, attrs: { ack: String(r) }, payload: "<message id='young' to='a@b'/>" }));
  session.rid = r + 1;
  const pending = session.send({ attrs: { ack: String(r) } });
  assert.ok(await stillPending(pending, 300), 'held as usual');
  conn.send("<message id='later'/>");
  const reply = await pending;
  assert.equal(reply.attrs.report, undefined, reply.describe());
  assert.match(reply.payload, attrPattern('id', 'later'));
});

// --- K1-K5: key sequencing ----------------------------------------------------

const sha1 = (text) => crypto.createHash('sha1').update(text).digest('hex');

/** [K(1), ..., K(n)] for `seed`. */
function keyChain(seed, n) {
  const keys = [sha1(seed)];
  while (keys.length < n) keys.push(sha1(keys[keys.length - 1]));
  return keys;
}

/** Opens an echoing session keyed with K(n) of `keys` (keys[n-1]). */
function openKeyed(label, keys) {
  return openSession(stack, label, { attrs: { newkey: keys[keys.length - 1] }, plan: { echo: true } });
}

test('K2: requests carrying the next key of the chain are accepted', async () => {
  const keys = keyChain('seed-k2', 6);
  const { session } = await openKeyed('keyok', keys);
  for (let i = 1; i <= 3; i += 1) {
    const reply = await session.send({ attrs: { key: keys[6 - 1 - i] }, payload: `<message id='k${i}' to='a@b'/>` });
    assertWrapper(reply);
    assert.match(reply.payload, attrPattern('id', `k${i}`));
  }
});

test('K2: keys compare case-insensitively', async () => {
  const keys = keyChain('seed-case', 4);
  const { session } = await openSession(stack, 'keycase', { attrs: { newkey: keys[3].toUpperCase() }, plan: { echo: true } });
  const reply = await session.send({ attrs: { key: keys[2].toUpperCase() }, payload: "<message id='kc' to='a@b'/>" });
  assert.match(reply.payload, attrPattern('id', 'kc'));
  const next = await session.send({ attrs: { key: keys[1] }, payload: "<message id='kc2' to='a@b'/>" });
  assert.match(next.payload, attrPattern('id', 'kc2'));
});

test('K3: a wrong key ends the session with item-not-found; its payload is not forwarded', async () => {
  const bystander = await openBystander(stack);
  const keys = keyChain('seed-wrong', 4);
  const { session, conn } = await openKeyed('keywrong', keys);
  const reply = await session.send({ attrs: { key: sha1('forged') }, payload: "<message id='forged' to='a@b'/>" });
  assertTerminate(reply, 'item-not-found');
  await conn.waitStreamClose();
  assert.equal(conn.stanzas.length, 0);
  await assertSessionGone(session);
  await assertAlive(bystander, 'bystander');
});

test('K3: a missing key ends the session with item-not-found', async () => {
  const bystander = await openBystander(stack);
  const keys = keyChain('seed-missing', 4);
  const { session, conn } = await openKeyed('keymissing', keys);
  assertTerminate(await session.send({ payload: "<message id='nokey' to='a@b'/>" }), 'item-not-found');
  await conn.waitStreamClose();
  assert.equal(conn.stanzas.length, 0);
  await assertAlive(bystander, 'bystander');
});

test('K3: a key that was already used (a replay with a new rid) is refused', async () => {
  const bystander = await openBystander(stack);
  const keys = keyChain('seed-replay', 4);
  const { session, conn } = await openKeyed('keyreplay', keys);
  await session.send({ attrs: { key: keys[2] }, payload: "<message id='kr1' to='a@b'/>" });
  assertTerminate(await session.send({ attrs: { key: keys[2] }, payload: "<message id='kr2' to='a@b'/>" }), 'item-not-found');
  await conn.waitStreamClose();
  assert.equal(conn.stanzas.length, 1, 'the replayed payload is not forwarded');
  await assertAlive(bystander, 'bystander');
});

test('K4: rekeying with key=K(1) and a new newkey continues on the new chain', async () => {
  const bystander = await openBystander(stack);
  const old = keyChain('seed-old', 3);
  const fresh = keyChain('seed-new', 5);
  const { session } = await openKeyed('rekey', old);
  await session.send({ attrs: { key: old[1] }, payload: "<message id='rk1' to='a@b'/>" });
  const rekey = await session.send({ attrs: { key: old[0], newkey: fresh[4] }, payload: "<message id='rk2' to='a@b'/>" });
  assert.match(rekey.payload, attrPattern('id', 'rk2'));
  const next = await session.send({ attrs: { key: fresh[3] }, payload: "<message id='rk3' to='a@b'/>" });
  assert.match(next.payload, attrPattern('id', 'rk3'));
  // The old chain is over.
  assertTerminate(await session.send({ attrs: { key: old[0] }, payload: "<message id='rk4' to='a@b'/>" }), 'item-not-found');
  await assertAlive(bystander, 'bystander');
});

test('K5: a repeat of an answered rid is served from the cache without a key check', async () => {
  const keys = keyChain('seed-repeat', 4);
  const { session, conn } = await openKeyed('keyrepeat', keys);
  const xml = session.xml({ rid: session.rid + 1, attrs: { key: keys[2] }, payload: "<message id='kp' to='a@b'/>" });
  const original = await sendBody(stack.port, xml);
  session.rid += 1;
  const repeat = await sendBody(stack.port, xml);
  assert.ok(repeat.res.bodyBytes.equals(original.res.bodyBytes), repeat.describe());
  // The chain goes on from K(2).
  const next = await session.send({ attrs: { key: keys[1] }, payload: "<message id='kp2' to='a@b'/>" });
  assert.match(next.payload, attrPattern('id', 'kp2'));
  assert.equal(conn.stanzas.length, 2);
});

test('K1: key sequencing is optional: a session without newkey takes requests without key', async () => {
  const { session, conn } = await openSession(stack, 'nokeys');
  await assertAlive({ session, conn }, 'keyless');
});
