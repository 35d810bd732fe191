'use strict';
// Conformance: which XMPP server a session goes to (§1.2 to and route) and the
// condition for a domain nobody serves (§1.8 host-unknown).
//
// This switchboard has no default upstream: only `upstream.known.test` and one
// allowed route, both pointing at the scripted server. Sessions here are told
// apart on the server side by the order of their connections for a domain.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useStack, assertTerminate, assertWrapper } = require('./lib/stack');
const { BoshSession, bodyXml, sendBody } = require('../lib/bosh');

const stack = useStack((upstream) => ({
  upstream: '',  // after --upstream on the command line: no default upstream
  'upstream.known.test': `127.0.0.1:${upstream.port}`,
  allowed_routes: `127.0.0.1:${upstream.port}`,
}));

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
