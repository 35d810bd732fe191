'use strict';
// Conformance: which XMPP server a session goes to (§1.2 to and route) and the
// condition for a domain nobody serves (§1.8 host-unknown).
//
// This switchboard has no default upstream: only `upstream.known.test` and two
// allowed routes, one to the scripted server on 127.0.0.1 and one to a second
// scripted server on the IPv6 loopback ([::1], as the configuration writes an
// IPv6 address). Sessions here are told apart on the server side by the order
// of their connections for a domain.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { useStack, assertTerminate, assertWrapper } = require('./lib/stack');
const { BoshSession, bodyXml, sendBody } = require('../lib/bosh');
const { ScriptedUpstream } = require('../lib/scripted_upstream');

let upstreamV6 = null;

const stack = useStack(async (upstream) => {
  upstreamV6 = await new ScriptedUpstream({ host: '::1' }).start();
  return {
    upstream: '',  // after --upstream on the command line: no default upstream
    'upstream.known.test': `127.0.0.1:${upstream.port}`,
    allowed_routes: `127.0.0.1:${upstream.port} [::1]:${upstreamV6.port}`,
  };
});
after(async () => { if (upstreamV6) await upstreamV6.stop(); });

function create(to, attrs = {}) {
  return sendBody(stack.port, bodyXml(BoshSession.creationAttrs(to, attrs)));
}

test('§1.2 to: a domain with an upstream.<domain> entry is served, compared case-insensitively', async () => {
  const reply = await create('Known.TEST');
  assertWrapper(reply);
  assert.ok(reply.attrs.sid, reply.describe());
  const conn = await stack.upstream.connection('Known.TEST');
  assert.equal(conn.headers[0].attrs.to, 'Known.TEST', 'the stream is opened for the domain as the client wrote it');
});

test('§1.8 host-unknown: a domain no upstream serves', async () => {
  const reply = await create('nowhere.test');
  assertTerminate(reply, 'host-unknown');
  // host-unknown has no legacy HTTP code: a legacy client gets the body too.
  assertTerminate(await create('nowhere.test', { ver: undefined }), 'host-unknown');
  assert.equal(stack.upstream.connectionsFor('nowhere.test').length, 0);
});

test('§1.2 route: honoured when allowed_routes lists it', async () => {
  const reply = await create('routed.test', { route: `xmpp:127.0.0.1:${stack.upstream.port}` });
  assertWrapper(reply);
  assert.ok(reply.attrs.sid, reply.describe());
  const conn = await stack.upstream.connection('routed.test');
  assert.equal(conn.headers.length, 1);
});

for (const [what, route] of [['a port not listed', 'xmpp:127.0.0.1:1'], ['another host', 'xmpp:192.0.2.1:5222'],
  ['a URI (route is proto:host:port, not a URI)', () => `xmpp://127.0.0.1:${stack.upstream.port}`]]) {
  test(`§1.2 route: ${what} is not honoured (host-unknown without a default upstream)`, async () => {
    const value = typeof route === 'function' ? route() : route;
    assertTerminate(await create('elsewhere.test', { route: value }), 'host-unknown');
    assert.equal(stack.upstream.connectionsFor('elsewhere.test').length, 0);
  });
}

test('§1.2 route: an allowed IPv6 route, written with brackets, reaches its server', async () => {
  const reply = await create('v6.test', { route: `xmpp:[::1]:${upstreamV6.port}` });
  assertWrapper(reply);
  assert.ok(reply.attrs.sid, reply.describe());
  const conn = await upstreamV6.connection('v6.test');
  assert.equal(conn.headers.length, 1);
  assert.equal(stack.upstream.connectionsFor('v6.test').length, 0);
});

test('§1.2 route: the scheme compares case-insensitively (XMPP:host:port)', async () => {
  const reply = await create('upper.test', { route: `XMPP:127.0.0.1:${stack.upstream.port}` });
  assertWrapper(reply);
  assert.ok(reply.attrs.sid, reply.describe());
  const conn = await stack.upstream.connection('upper.test');
  assert.equal(conn.headers.length, 1);
  const v6 = await create('upper-v6.test', { route: `Xmpp:[::1]:${upstreamV6.port}` });
  assert.ok(v6.attrs.sid, v6.describe());
  await upstreamV6.connection('upper-v6.test');
});

test('§1.2 route: an IPv6 address without brackets is not a route (host-unknown)', async () => {
  assertTerminate(await create('bare-v6.test', { route: `xmpp:::1:${upstreamV6.port}` }), 'host-unknown');
  assert.equal(upstreamV6.connectionsFor('bare-v6.test').length, 0);
});
