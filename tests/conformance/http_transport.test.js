'use strict';
// Conformance: the HTTP transport rules (checklist §1.1, H1-H10) and the HTTP
// answers around the BOSH path (405 with Allow, 404, the GET info page, CORS).
//
// Everything is sent as raw bytes: HTTP/1.0, keep-alive, pipelining, chunked
// request bodies, odd Content-Types and malformed XML, including bytes that are
// not UTF-8. Switchboard here allows two CORS origins, so both an allowed and a
// refused origin can be checked.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useStack, uniqueDomain, openSession, openBystander, assertAlive, assertWrapper, assertHttpError,
  stillPending, attrPattern, sleep,
} = require('./lib/stack');
const { BoshSession, bodyXml, Reply, DEFAULT_CONTENT_TYPE, HTTPBIND_NS } = require('../lib/bosh');
const { HttpConnection, request, requestBytes } = require('../lib/raw_http');

const ALLOWED_ORIGIN = 'http://allowed.example';
const stack = useStack({ cors_origins: `${ALLOWED_ORIGIN} http://other.example` });

function creationXml(to, attrs = {}) {
  return bodyXml(BoshSession.creationAttrs(to, attrs));
}

test('H1: keep-alive: a creation and a session request on one HTTP/1.1 connection', async () => {
  const to = uniqueDomain('keepalive');
  const conn = await HttpConnection.open(stack.port);
  conn.write(requestBytes({ port: stack.port, body: creationXml(to, { rid: '5000' }) }));
  const creation = new Reply(await conn.next());
  assertWrapper(creation);
  assert.equal(creation.res.header('connection'), undefined, 'HTTP/1.1 is persistent by default');
  const upstream = await stack.upstream.connection(to);
  const body = bodyXml({ rid: '5001', sid: creation.attrs.sid }, "<iq type='get' id='ka'/>");
  conn.write(requestBytes({ port: stack.port, body }));
  await upstream.waitStanza(attrPattern('id', 'ka'));
  upstream.send("<iq type='result' id='ka'/>");
  const reply = new Reply(await conn.next());
  assertWrapper(reply);
  assert.match(reply.payload, attrPattern('id', 'ka'));
  conn.close();
});

test('H1: an HTTP/1.0 request is answered and the connection closed', async () => {
  const to = uniqueDomain('http10');
  const conn = await HttpConnection.open(stack.port);
  conn.write(requestBytes({ port: stack.port, version: 'HTTP/1.0', body: creationXml(to) }));
  const reply = new Reply(await conn.next());
  assertWrapper(reply);
  assert.ok(reply.attrs.sid, reply.describe());
  assert.match(reply.res.version, /^HTTP\/1\.[01]$/);
  await conn.closed;
});

test('H1: a request arriving in several TCP segments is assembled', async () => {
  const to = uniqueDomain('segments');
  const bytes = requestBytes({ port: stack.port, body: creationXml(to) });
  const conn = await HttpConnection.open(stack.port);
  const cuts = [0, 7, 40, bytes.length - 30, bytes.length];
  conn.write(bytes.subarray(cuts[0], cuts[1]));
  for (let i = 1; i + 1 < cuts.length; i += 1) {
    await sleep(60);
    conn.writeMore(bytes.subarray(cuts[i], cuts[i + 1]));
  }
  const reply = new Reply(await conn.next());
  assertWrapper(reply);
  assert.ok(reply.attrs.sid, reply.describe());
  conn.close();
});

test('H1: unknown request headers are ignored', async () => {
  const to = uniqueDomain('headers');
  const res = await request(stack.port, {
    body: creationXml(to),
    headers: [['Content-Type', 'text/xml; charset=utf-8'], ['X-Totally-Unknown', 'yes'], ['Cookie', 'a=b'],
      ['User-Agent', 'conformance/1.0'], ['Accept', '*/*'], ['DNT', '1']],
  });
  const reply = new Reply(res);
  assertWrapper(reply);
  assert.ok(reply.attrs.sid);
});

test('H2: GET on the BOSH path answers 200 with an HTML info page', async () => {
  const res = await request(stack.port, { method: 'GET', body: '' });
  assert.equal(res.status, 200);
  assert.match(res.header('content-type'), /^text\/html/);
  assert.match(res.body, /<html/i);
  assert.equal(Number(res.header('content-length')), res.bodyBytes.length);
});

for (const method of ['PUT', 'DELETE', 'PATCH']) {
  test(`H2: ${method} on the BOSH path answers 405 with Allow`, async () => {
    const res = await request(stack.port, { method, body: bodyXml({ rid: '1', to: 'x.test' }) });
    assert.equal(res.status, 405);
    assert.equal(res.header('allow'), 'GET, HEAD, POST, OPTIONS');
    assert.match(res.header('content-type'), /^text\/plain/);
  });
}

test('H2: a POST to another path answers 404', async () => {
  const res = await request(stack.port, { path: '/not-bosh', body: creationXml(uniqueDomain('x')) });
  assert.equal(res.status, 404);
  assert.match(res.header('content-type'), /^text\/plain/);
});

test('H3: responses always carry Content-Length and are never chunked', async () => {
  const to = uniqueDomain('length');
  const responses = [
    await request(stack.port, { body: creationXml(to) }),
    await request(stack.port, { method: 'GET', body: '' }),
    await request(stack.port, { body: '<nonsense' }),
    await request(stack.port, { path: '/nowhere', body: 'x' }),
    await request(stack.port, { method: 'PUT', body: 'x' }),
  ];
  for (const res of responses) {
    assert.equal(res.chunked, false, `HTTP ${res.status} was chunked`);
    assert.equal(res.header('transfer-encoding'), undefined);
    assert.equal(Number(res.header('content-length')), res.bodyBytes.length, `HTTP ${res.status}`);
  }
});

test('H3: a chunked request body is accepted', async () => {
  const to = uniqueDomain('chunked');
  const xml = Buffer.from(creationXml(to));
  const cut = [0, 10, 57, xml.length];
  let body = '';
  for (let i = 0; i + 1 < cut.length; i += 1) {
    const part = xml.subarray(cut[i], cut[i + 1]);
    body += `${part.length.toString(16)}\r\n${part.toString('latin1')}\r\n`;
  }
  body += '0\r\n\r\n';
  const res = await request(stack.port, {
    body: Buffer.from(body, 'latin1'),
    headers: [['Content-Type', 'text/xml; charset=utf-8'], ['Transfer-Encoding', 'chunked']],
  });
  const reply = new Reply(res);
  assertWrapper(reply);
  assert.ok(reply.attrs.sid, reply.describe());
});

test('H4: pipelined requests are answered in order', async () => {
  const to = uniqueDomain('pipeline');
  stack.upstream.plan(to, { featuresDelayMs: 300 });
  const conn = await HttpConnection.open(stack.port);
  // The creation is held until the features come; the GET behind it must wait.
  conn.write(Buffer.concat([
    requestBytes({ port: stack.port, body: creationXml(to) }),
    requestBytes({ port: stack.port, method: 'GET', body: '' }),
  ]));
  const first = await conn.next();
  const second = await conn.next();
  assertWrapper(new Reply(first));
  assert.match(first.body, /<stream:features>/);
  assert.equal(second.status, 200);
  assert.match(second.header('content-type'), /^text\/html/);
  assert.ok(second.receivedAt >= first.receivedAt);
  conn.close();
});

for (const contentType of ['text/plain; charset=utf-8', 'application/x-www-form-urlencoded',
  'application/octet-stream', null]) {
  test(`H5: the request Content-Type is ignored (${contentType || 'none'})`, async () => {
    const to = uniqueDomain('ctype');
    const headers = contentType ? [['Content-Type', contentType]] : [];
    const reply = new Reply(await request(stack.port, { body: creationXml(to), headers }));
    assertWrapper(reply, DEFAULT_CONTENT_TYPE);
    assert.ok(reply.attrs.sid, reply.describe());
    assert.match(reply.payload, /<stream:features>/);
  });
}

test('H5/CORS: a preflight from an allowed origin gets the CORS headers', async () => {
  const res = await request(stack.port, {
    method: 'OPTIONS', body: '',
    headers: [['Origin', ALLOWED_ORIGIN], ['Access-Control-Request-Method', 'POST'],
      ['Access-Control-Request-Headers', 'content-type']],
  });
  assert.equal(res.status, 200);
  assert.equal(res.header('access-control-allow-origin'), ALLOWED_ORIGIN);
  assert.match(res.header('access-control-allow-methods'), /\bPOST\b/);
  assert.match(res.header('access-control-allow-headers'), /content-type/i);
  assert.ok(Number(res.header('access-control-max-age')) > 0);
});

test('H5/CORS: a preflight from an origin not configured is refused (403, no CORS headers)', async () => {
  const res = await request(stack.port, {
    method: 'OPTIONS', body: '',
    headers: [['Origin', 'http://evil.example'], ['Access-Control-Request-Method', 'POST']],
  });
  assert.equal(res.status, 403);
  assert.equal(res.header('access-control-allow-origin'), undefined);
});

test('H5/CORS: POST responses name an allowed origin, and only that', async () => {
  const allowed = await request(stack.port, {
    body: creationXml(uniqueDomain('cors')),
    headers: [['Content-Type', 'text/plain;charset=UTF-8'], ['Origin', ALLOWED_ORIGIN]],
  });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.header('access-control-allow-origin'), ALLOWED_ORIGIN);
  assert.match(allowed.header('vary') || '', /Origin/);
  const refused = await request(stack.port, {
    body: creationXml(uniqueDomain('cors')), headers: [['Origin', 'http://evil.example']],
  });
  assert.equal(refused.status, 200);
  assert.equal(refused.header('access-control-allow-origin'), undefined);
  const none = await request(stack.port, { body: creationXml(uniqueDomain('cors')) });
  assert.equal(none.header('access-control-allow-origin'), undefined);
});

test('H5/CORS: a refused origin is logged once, naming the key that allows it', async () => {
  const fs = require('node:fs');
  const origin = 'http://not-listed.example';
  for (let i = 0; i < 3; i += 1) {
    const res = await request(stack.port, {
      method: 'OPTIONS', body: '', headers: [['Origin', origin], ['Access-Control-Request-Method', 'POST']],
    });
    assert.equal(res.status, 403);
    await request(stack.port, { body: creationXml(uniqueDomain('cors')), headers: [['Origin', origin]] });
  }
  const lines = fs.readFileSync(stack.sb.logFile, 'utf8').split('\n')
    .filter((line) => line.includes(origin));
  assert.equal(lines.length, 1, `one log line for ${origin}:\n${lines.join('\n')}`);
  assert.match(lines[0], /refused cross-origin requests from http:\/\/not-listed\.example: not in cors_origins/);
});

test('H6: responses use the session\'s content attribute as Content-Type', async () => {
  const contentType = 'text/plain; charset=utf-8';
  const { session, conn } = await openSession(stack, 'content', { attrs: { content: contentType } });
  assertWrapper(session.creation, contentType);
  const pending = session.send({ payload: "<iq type='get' id='h6'/>" });
  await conn.waitStanzas(1);
  conn.send("<iq type='result' id='h6'/>");
  assertWrapper(await pending, contentType);
  const end = await session.send({ attrs: { type: 'terminate' } });
  assertWrapper(end, contentType);
  assert.equal(end.type, 'terminate');
});

test('H6: without a content attribute, responses are text/xml; charset=utf-8', async () => {
  const { session } = await openSession(stack, 'nocontent');
  assert.equal(session.creation.contentType, 'text/xml; charset=utf-8');
});

test('H7/X6: no compression: Accept-Encoding is ignored and no accept attribute is offered', async () => {
  const res = await request(stack.port, {
    body: creationXml(uniqueDomain('gzip')),
    headers: [['Content-Type', 'text/xml; charset=utf-8'], ['Accept-Encoding', 'gzip, deflate, br']],
  });
  const reply = new Reply(res);
  assertWrapper(reply);
  assert.equal(res.header('content-encoding'), undefined);
  assert.equal(reply.attrs.accept, undefined);
});

// Malformed bodies: each is sent with the sid and next rid of a live session; the
// answer is HTTP 400 text/plain and the session must not notice (its next rid is
// still free, and it still works).
const deep = (n) => `${'<a>'.repeat(n)}${'</a>'.repeat(n)}`;
const malformed = [
  ['not well-formed (unclosed child)', (s, r) => `<body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'><message></body>`],
  ['not well-formed (unclosed body)', (s, r) => `<body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'>`],
  ['not well-formed (two roots)', (s, r) => `<body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'/><body/>`],
  ['not well-formed (duplicate attribute)', (s, r) => `<body rid='${r}' rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'/>`],
  ['not well-formed (unbound prefix)', (s, r) => `<body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'><foo:bar/></body>`],
  ['empty request body', () => ''],
  ['root is not <body/>', (s, r) => `<bodies rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'/>`],
  ['root is a stanza', (s, r) => `<message rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'/>`],
  ['<body/> in the wrong namespace', (s, r) => `<body rid='${r}' sid='${s}' xmlns='jabber:client'/>`],
  ['<body/> in no namespace', (s, r) => `<body rid='${r}' sid='${s}'/>`],
  ['DOCTYPE', (s, r) => `<!DOCTYPE body><body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'/>`],
  ['entity declaration', (s, r) => `<!DOCTYPE body [<!ENTITY x 'boom'>]><body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'><message><body>&x;</body></message></body>`],
  ['non-predefined entity reference', (s, r) => `<body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'><message><body>&nbsp;</body></message></body>`],
  ['invalid UTF-8', (s, r) => Buffer.concat([
    Buffer.from(`<body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'><message><body>`),
    Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('</body></message></body>')])],
  ['a control character', (s, r) => `<body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'><message><body>\u0001</body></message></body>`],
  ['deep nesting', (s, r) => `<body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'><message>${deep(200)}</message></body>`],
  ['character data directly inside <body/>', (s, r) => `<body rid='${r}' sid='${s}' xmlns='${HTTPBIND_NS}'>hello</body>`],
];

// One victim session shared by the table: every case names its sid and next rid.
let victimPromise = null;
const victim = () => {
  victimPromise = victimPromise || openSession(stack, 'malformed');
  return victimPromise;
};

for (const [what, make] of malformed) {
  test(`H8/H2: ${what} -> HTTP 400 text/plain, no session touched`, async () => {
    const { session, conn } = await victim();
    const res = await request(stack.port, {
      body: make(session.sid, session.rid + 1), headers: [['Content-Type', 'text/xml; charset=utf-8']],
    });
    assertHttpError(new Reply(res), 400);
    assert.equal(Number(res.header('content-length')), res.bodyBytes.length);
    assert.equal(conn.stanzas.length, 0, 'nothing may reach the server');
  });
}

test('H8: after the malformed requests, the rid they named is still free and the session works', async () => {
  // assertAlive sends exactly the rid every malformed request above used.
  await assertAlive(await victim(), 'after malformed requests');
});

test('H8: comments and processing instructions in the payload are not forwarded', async () => {
  const { session, conn } = await openSession(stack, 'comments');
  const pending = session.send({
    payload: "<message id='cm' to='a@b'><!-- a comment --><?pi data?><body>text</body></message>",
  });
  const stanza = await conn.waitStanza(attrPattern('id', 'cm'));
  assert.doesNotMatch(stanza, /<!--|<\?pi/);
  assert.match(stanza, /<body>text<\/body>/);
  conn.send("<message id='cm-ok'/>");
  assertWrapper(await pending);
});

test('H9: a payload mixing namespaces reaches the server intact', async () => {
  const { session, conn } = await openSession(stack, 'mixed');
  const pending = session.send({
    payload: "<iq type='set' id='h9'><data xmlns='urn:example:json'>{\"a\":[1,2]}</data>" +
      "<x xmlns='jabber:x:data' type='submit'><field var='f'><value>v</value></field></x></iq>",
  });
  const stanza = await conn.waitStanza(attrPattern('id', 'h9'));
  assert.match(stanza, /<data xmlns=(['"])urn:example:json\1>\{("|&quot;)a("|&quot;):\[1,2\]\}<\/data>/);
  assert.match(stanza, /<x xmlns=(['"])jabber:x:data\1 type=(['"])submit\2><field var=(['"])f\3><value>v<\/value><\/field><\/x>/);
  conn.send("<iq type='result' id='h9'/>");
  assertWrapper(await pending);
});

test('H10: UTF-8 text passes unchanged both ways; no charsets attribute', async () => {
  const { session, conn } = await openSession(stack, 'utf8');
  assert.equal(session.creation.attrs.charsets, undefined);
  const text = 'héllo ✓ 𝄞 日本語';
  const pending = session.send({ payload: `<message id='u1' to='a@b'><body>${text}</body></message>` });
  const stanza = await conn.waitStanza(attrPattern('id', 'u1'));
  assert.ok(stanza.includes(`<body>${text}</body>`), stanza);
  const back = 'grüße 😀 — ok';
  conn.send(`<message id='u2' from='a@b'><body>${back}</body></message>`);
  const reply = await pending;
  assertWrapper(reply);
  assert.ok(reply.res.bodyBytes.includes(Buffer.from(`<body>${back}</body>`, 'utf8')), reply.describe());
});

test('H8: a malformed request does not disturb a held request of the same session', async () => {
  const victim = await openSession(stack, 'heldmalformed');
  const bystander = await openBystander(stack);
  const held = victim.session.send();
  assert.ok(await stillPending(held, 200));
  const res = await request(stack.port, {
    body: `<body rid='${victim.session.rid + 1}' sid='${victim.session.sid}' xmlns='${HTTPBIND_NS}'><oops></body>`,
  });
  assert.equal(res.status, 400);
  assert.ok(await stillPending(held, 200), 'the held request is still held');
  victim.conn.send("<message id='still-held'/>");
  const reply = await held;
  assert.match(reply.payload, attrPattern('id', 'still-held'));
  await assertAlive(bystander, 'bystander');
});

test('H1: a client still sending a refused 4 MB body reads the 413, not a reset (lingering close)', async () => {
  const net = require('node:net');
  const total = 4 * 1024 * 1024;
  for (let round = 0; round < 5; round += 1) {
    const answer = await new Promise((resolve, reject) => {
      const socket = net.connect(stack.port, '127.0.0.1');
      let received = '';
      socket.setTimeout(10000, () => { socket.destroy(); reject(new Error('timed out')); });
      socket.on('data', (chunk) => { received += chunk.toString('latin1'); });
      socket.on('error', (err) => resolve(`error ${err.code} after ${JSON.stringify(received.slice(0, 40))}`));
      socket.on('end', () => { socket.end(); resolve(received); });
      socket.write(`POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${total}\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!socket.write(chunk)) { socket.once('drain', pump); return; }
        }
      };
      pump();
    });
    assert.match(answer, /^HTTP\/1\.1 413 /, `round ${round}: ${answer.slice(0, 80)}`);
  }
});
