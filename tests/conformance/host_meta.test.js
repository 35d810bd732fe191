'use strict';
// Conformance: XEP-0156 connection discovery. /.well-known/host-meta (XRD, RFC
// 6415) and /.well-known/host-meta.json (JRD) advertise the BOSH URL
// (urn:xmpp:alt-connections:xbosh) and the WebSocket URL
// (urn:xmpp:alt-connections:websocket): from public_bosh_url and
// public_websocket_url when set, else from the request's Host with our scheme
// (plain http, so http:// and ws://). Browsers fetch them cross-origin, so they
// carry the same CORS headers as BOSH. Three switchboards: defaults, public URLs
// configured, WebSocket off.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useStack } = require('./lib/stack');
const { request } = require('../lib/raw_http');
const { xrdLinks, jrdLinks } = require('./lib/host_meta_links');

const XBOSH = 'urn:xmpp:alt-connections:xbosh';
const WEBSOCKET = 'urn:xmpp:alt-connections:websocket';

const plain = useStack();
const configured = useStack({
  public_bosh_url: 'https://chat.example.com/http-bind',
  public_websocket_url: 'wss://chat.example.com/xmpp-websocket',
});
const noWebSocket = useStack({ websocket_path: '' });

test('XEP-0156 host-meta: an XRD document naming the BOSH and WebSocket URLs from the request\'s Host', async () => {
  const res = await request(plain.port, {
    method: 'GET', path: '/.well-known/host-meta', headers: [['Host', 'chat.example.test:5280']],
  });
  assert.equal(res.status, 200, res.body);
  assert.match(res.header('content-type'), /^application\/xrd\+xml/);
  assert.match(res.body, /^<\?xml version='1\.0' encoding='utf-8'\?>\n<XRD xmlns='http:\/\/docs\.oasis-open\.org\/ns\/xri\/xrd-1\.0'>/);
  assert.deepEqual(xrdLinks(res.body), {
    [XBOSH]: 'http://chat.example.test:5280/http-bind',
    [WEBSOCKET]: 'ws://chat.example.test:5280/xmpp-websocket',
  });
});

test('XEP-0156 host-meta.json: the same links as JRD', async () => {
  const res = await request(plain.port, {
    method: 'GET', path: '/.well-known/host-meta.json', headers: [['Host', '127.0.0.1:7']],
  });
  assert.equal(res.status, 200, res.body);
  assert.match(res.header('content-type'), /^application\/json/);
  assert.deepEqual(jrdLinks(res.body), {
    [XBOSH]: 'http://127.0.0.1:7/http-bind',
    [WEBSOCKET]: 'ws://127.0.0.1:7/xmpp-websocket',
  });
});

test('XEP-0156 CORS: host-meta answers a cross-origin GET and its preflight like BOSH does', async () => {
  const get = await request(plain.port, {
    method: 'GET', path: '/.well-known/host-meta.json', headers: [['Origin', 'https://web.example.test']],
  });
  assert.equal(get.status, 200);
  assert.equal(get.header('access-control-allow-origin'), '*');
  const preflight = await request(plain.port, {
    method: 'OPTIONS', path: '/.well-known/host-meta',
    headers: [['Origin', 'https://web.example.test'], ['Access-Control-Request-Method', 'GET']],
  });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.header('access-control-allow-origin'), '*');
});

test('XEP-0156 a Host that is not a plain host[:port] is not echoed: the listen address is used', async () => {
  const res = await request(plain.port, {
    method: 'GET', path: '/.well-known/host-meta', headers: [['Host', "evil'/><Link rel='x' href='y"]],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(xrdLinks(res.body), {
    [XBOSH]: `http://127.0.0.1:${plain.port}/http-bind`,
    [WEBSOCKET]: `ws://127.0.0.1:${plain.port}/xmpp-websocket`,
  });
});

test('XEP-0156 public_bosh_url and public_websocket_url are advertised as configured', async () => {
  for (const path of ['/.well-known/host-meta', '/.well-known/host-meta.json']) {
    const res = await request(configured.port, { method: 'GET', path, headers: [['Host', 'internal:5280']] });
    assert.equal(res.status, 200);
    const links = path.endsWith('.json') ? jrdLinks(res.body) : xrdLinks(res.body);
    assert.deepEqual(links, {
      [XBOSH]: 'https://chat.example.com/http-bind',
      [WEBSOCKET]: 'wss://chat.example.com/xmpp-websocket',
    });
  }
});

test('XEP-0156 with websocket_path empty only BOSH is advertised, and the path is not served', async () => {
  const res = await request(noWebSocket.port, { method: 'GET', path: '/.well-known/host-meta.json' });
  assert.deepEqual(Object.keys(jrdLinks(res.body)), [XBOSH]);
  const ws = await request(noWebSocket.port, { method: 'GET', path: '/xmpp-websocket' });
  assert.equal(ws.status, 404);
});

test('XEP-0156 host-meta is GET only', async () => {
  const res = await request(plain.port, { method: 'POST', path: '/.well-known/host-meta', body: 'x' });
  assert.equal(res.status, 405);
  assert.match(res.header('allow'), /GET/);
});
