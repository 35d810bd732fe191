'use strict';
// The stack one conformance test file runs against: a scripted XMPP server on a
// free port and a switchboard pointed at it (started with the file's `--set`
// settings), plus the shared checks every test leans on: "this is a terminate
// body with condition X", "this is an empty body", "this request is still held",
// and the bystander, a second session that must still work after a test has
// done something destructive to its own session.
//
// useStack() registers node:test before/after hooks: one switchboard per file,
// stopped by PID at the end, with every socket the tests left open destroyed.

const assert = require('node:assert/strict');
const { before, after } = require('node:test');
const path = require('node:path');

const { Switchboard } = require('../../lib/switchboard');
const { ScriptedUpstream } = require('../../lib/scripted_upstream');
const { BoshSession, HTTPBIND_NS, STREAM_NS, DEFAULT_CONTENT_TYPE } = require('../../lib/bosh');
const { destroyAllSockets } = require('../../lib/raw_http');

let domainCounter = 0;

/** A `to` domain no other session of this process uses. */
function uniqueDomain(label = 's') {
  domainCounter += 1;
  return `${label.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${domainCounter}.test`;
}

/**
 * Starts the stack for this test file. `settings` are switchboard `--set`
 * pairs; a function gets the upstream (to name its port) and returns them.
 * `upstream` are the ScriptedUpstream's options.
 * Returns an object whose fields (port, upstream, sb) are filled in before().
 */
function useStack(settings = {}, { upstream = {} } = {}) {
  const stack = { port: 0, upstream: null, sb: null };
  before(async () => {
    stack.upstream = await new ScriptedUpstream(upstream).start();
    const extra = typeof settings === 'function' ? await settings(stack.upstream) : settings;
    stack.sb = new Switchboard({ upstreamPort: stack.upstream.port, settings: extra });
    try {
      await stack.sb.start();
    } catch (err) {
      process.stderr.write(`${stack.sb.logs()}\n`);
      throw err;
    }
    stack.port = stack.sb.port;
  });
  after(async () => {
    destroyAllSockets();
    if (process.env.SB_CONFORMANCE_LOGS && stack.sb) process.stderr.write(`${stack.sb.logs()}\n`);
    // A daemon that did not exit cleanly (crash, sanitizer report) fails the file.
    const problem = stack.sb ? await stack.sb.stop() : null;
    if (stack.upstream) await stack.upstream.stop();
    if (problem) throw new Error(problem);
  });
  return stack;
}

/**
 * Creates a session for a fresh domain (planned with `plan` on the upstream)
 * and returns { session, conn, to }: the client side and the server side.
 */
async function openSession(stack, label, { attrs = {}, plan, payload, headers } = {}) {
  const to = uniqueDomain(label);
  if (plan) stack.upstream.plan(to, plan);
  const session = await BoshSession.create(stack.port, to, attrs, { payload, headers });
  const conn = await stack.upstream.connection(to);
  return { session, conn, to };
}

let pingCounter = 0;

/** A RegExp for name='value' with either quote (pugixml re-serializes with "). */
function attrPattern(name, value) {
  const esc = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\s${esc(name)}=(['"])${esc(value)}\\1`);
}

/**
 * Proves a session works both ways: a stanza sent in a request reaches the
 * server, and the server's answer comes back on that (held) request.
 */
async function assertAlive({ session, conn }, note = '') {
  pingCounter += 1;
  const n = pingCounter;  // tests run concurrently: keep our own number
  const pending = session.send({ payload: `<message id='ping-${n}' to='peer@example.net'><body>ping</body></message>` });
  await conn.waitStanza(attrPattern('id', `ping-${n}`));
  conn.send(`<message id='pong-${n}' from='peer@example.net'><body>pong</body></message>`);
  const reply = await pending;
  assert.equal(reply.status, 200, `session ${note} should still work: ${reply.describe()}`);
  assert.equal(reply.type, undefined, `session ${note} should still work: ${reply.describe()}`);
  assert.match(reply.payload, attrPattern('id', `pong-${n}`), `session ${note}: pong expected`);
}

/** A second session opened before a destructive test; check it with assertAlive afterwards. */
function openBystander(stack) {
  return openSession(stack, 'bystander');
}

/** Every switchboard <body/> declares these two namespaces. */
function assertWrapper(reply, contentType = DEFAULT_CONTENT_TYPE) {
  assert.equal(reply.status, 200, reply.describe());
  assert.equal(reply.contentType, contentType, reply.describe());
  assert.ok(reply.res.header('content-length') !== undefined, 'Content-Length expected');
  assert.equal(reply.res.chunked, false, 'response must not be chunked');
  assert.ok(reply.body, `a <body/> expected: ${reply.describe()}`);
  assert.equal(reply.body.name, 'body', reply.describe());
  assert.equal(reply.attrs.xmlns, HTTPBIND_NS, reply.describe());
  assert.equal(reply.attrs['xmlns:stream'], STREAM_NS, reply.describe());
}

/** HTTP 200, <body type='terminate' condition='...'/> (condition undefined: none). */
function assertTerminate(reply, condition, contentType) {
  assertWrapper(reply, contentType);
  assert.equal(reply.type, 'terminate', reply.describe());
  assert.equal(reply.condition, condition, reply.describe());
}

/** HTTP 200, an empty <body/> that is neither an error nor a terminate. */
function assertEmptyBody(reply, contentType) {
  assertWrapper(reply, contentType);
  assert.equal(reply.type, undefined, reply.describe());
  assert.ok(reply.isEmpty, `an empty <body/> expected: ${reply.describe()}`);
}

/** An HTTP error with a text/plain body (legacy answers, malformed requests). */
function assertHttpError(reply, status) {
  assert.equal(reply.status, status, reply.describe());
  assert.match(reply.contentType || '', /^text\/plain/, reply.describe());
}

/**
 * A request naming a session that should be over answers item-not-found (the
 * session is gone: it is answered as an unknown sid).
 */
async function assertSessionGone(session) {
  const reply = await session.send();
  assertTerminate(reply, 'item-not-found');
}

/**
 * For one test: a scripted XMPP server and a switchboard in front of it with
 * `config` (config-file keys) and Switchboard `options` (metrics, binary),
 * stopped by PID when the test `t` ends (a problem switchboard reports on
 * stopping fails it). Resolves once switchboard started.
 */
async function startStackFor(t, config, options = {}) {
  const upstream = await new ScriptedUpstream().start();
  const sb = new Switchboard({ upstreamPort: upstream.port, config, ...options });
  t.after(async () => {
    destroyAllSockets();
    const problem = await sb.stop();
    await upstream.stop();
    if (problem) throw new Error(problem);
  });
  await sb.start();
  return { sb, upstream };
}

/** True if `promise` has not settled after `ms` (a held request stays held). */
async function stillPending(promise, ms) {
  let settled = false;
  promise.then(() => { settled = true; }, () => { settled = true; });
  await sleep(ms);
  return !settled;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sessions until each of `workers` workers owns at least `each` (sids name their
 * worker: "w3.…"): [{ session, conn, worker }].
 */
async function sessionsOnEveryWorker(sb, upstream, label, { workers = 2, each = 1 } = {}) {
  const out = [];
  const per = new Array(workers).fill(0);
  for (let n = 0; per.some((c) => c < each); n += 1) {
    if (n > 60) throw new Error(`no session on every worker after ${n} tries: ${per}`);
    const to = uniqueDomain(`${label}-${n}`);
    const session = await BoshSession.create(sb.port, to);
    const conn = await upstream.connection(to);
    const worker = Number(/^w(\d+)\./.exec(session.sid)[1]);
    per[worker] += 1;
    out.push({ session, conn, worker });
  }
  return out;
}

module.exports = {
  sessionsOnEveryWorker,
  attrPattern, useStack, startStackFor, uniqueDomain, openSession, openBystander, assertAlive, assertWrapper, assertTerminate,
  assertEmptyBody, assertHttpError, assertSessionGone, stillPending, sleep,
};
