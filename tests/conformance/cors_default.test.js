'use strict';
// Conformance: CORS with the default configuration. Like ejabberd's and Prosody's
// own BOSH, Switchboard lets a page of any origin use the endpoint unless
// `cors_origins` narrows it (docs/configuration.md says why that is safe: BOSH
// carries no cookies, credentials travel inside the XMPP stream).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { useStack, uniqueDomain, assertWrapper } = require('./lib/stack');
const { BoshSession, bodyXml, Reply } = require('../lib/bosh');
const { request } = require('../lib/raw_http');

const stack = useStack({});

test('H5/CORS default: a preflight from any origin is allowed', async () => {
  const res = await request(stack.port, {
    method: 'OPTIONS', body: '',
    headers: [['Origin', 'https://some-site.example:8443'], ['Access-Control-Request-Method', 'POST'],
      ['Access-Control-Request-Headers', 'content-type']],
  });
  assert.equal(res.status, 200);
  assert.equal(res.header('access-control-allow-origin'), '*');
  assert.match(res.header('access-control-allow-methods'), /\bPOST\b/);
  assert.match(res.header('access-control-allow-headers'), /content-type/i);
});

test('H5/CORS default: a cross-origin session creation gets Allow-Origin *', async () => {
  const res = await request(stack.port, {
    body: bodyXml(BoshSession.creationAttrs(uniqueDomain('cors-any'))),
    headers: [['Content-Type', 'text/xml; charset=utf-8'], ['Origin', 'http://localhost:8080']],
  });
  assert.equal(res.status, 200);
  assertWrapper(new Reply(res));
  assert.equal(res.header('access-control-allow-origin'), '*');
  assert.doesNotMatch(fs.readFileSync(stack.sb.logFile, 'utf8'), /refused cross-origin/);
});
