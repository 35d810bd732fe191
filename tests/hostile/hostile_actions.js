'use strict';
// The one-shot hostile actions of the soak (hostile_soak.js) and the loops
// that run them at a bounded rate. Each action opens a fresh TCP connection from
// a hostile loopback address, sends one piece of bad input, reads the answer,
// closes, and records the answer's name against the answers docs/conformance.md
// (or the HTTP limits of docs/configuration.md) promise for that input:
//
//   malformed request line / headers   HTTP 400 (URL over 2 KiB: 414)
//   head over max_header_bytes (8k)     HTTP 431
//   body over max_body_bytes (64k)      HTTP 413, by Content-Length or chunked growth
//   well-formed chunked body            answered like any body (here: unknown sid)
//   PUT/DELETE/PATCH, other path        HTTP 405, HTTP 404 (POST to the WebSocket
//                                       path, which is GET only: 405)
//   not XML, wrong namespace, invalid
//   UTF-8, DTD/entities, deep nesting   HTTP 400 (H8), no session touched
//   bad rid                             terminate bad-request (HTTP 400 for a
//                                       legacy creation request)
//   unknown sid                         terminate item-not-found
//
// None of these ever names a good session's sid: an attacker cannot know them.

const crypto = require('node:crypto');
const {
  openConnection, nextAnswer, pick, randomInt, sleep, randomSid, bodyXml, creationAttrs, postBytes, requestBytes,
} = require('./hostile_wire');

const PLAIN = [['Content-Type', 'text/xml; charset=utf-8']];

/**
 * Opens a connection from `ctx.address()`, lets `write(conn)` send the input,
 * waits for one answer, closes, and records it as `action`.
 */
async function oneShot(ctx, action, expected, write, { timeoutMs = 10000, example = '' } = {}) {
  const started = Date.now();
  let conn;
  try {
    conn = await openConnection(ctx.port, ctx.address());
  } catch (err) {
    ctx.tally.record(action, `connect failed (${err.code || err.message})`, { expected, example });
    return;
  }
  try {
    const answering = nextAnswer(conn, timeoutMs);
    await write(conn);
    const { name } = await answering;
    ctx.tally.record(action, name, { expected, ms: Date.now() - started, example });
  } finally {
    conn.close();
  }
}

const HTTP_400 = ['HTTP 400'];

// Bad request lines and header blocks, each a complete (broken) request head,
// with the answer the HTTP layer gives (src/http/request_parser.cpp: a method
// llhttp does not know is 501, a version it cannot read 505, the rest 400).
const badHeads = [
  ['unknown method token', 'GARBAGE /http-bind HTTP/1.1\r\nHost: x\r\n\r\n', 'HTTP 501'],
  ['a lone word', 'GARBAGE\r\n\r\n', 'HTTP 501'],
  ['words after the version', 'POST /http-bind HTTP/1.1 trailing-words\r\nHost: x\r\n\r\n', 'HTTP 505'],
  ['HTTP/2.0 in the request line', 'POST /http-bind HTTP/2.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n', 'HTTP 505'],
  ['no version (HTTP/0.9 style)', 'POST /http-bind\r\n\r\n', 'HTTP 505'],
  ['header without a colon', 'POST /http-bind HTTP/1.1\r\nHost: x\r\nNo colon in this header\r\n\r\n', 'HTTP 400'],
  ['Content-Length not a number', 'POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 'HTTP 400'],
  ['two Content-Lengths', 'POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 'HTTP 400'],
  ['Content-Length and chunked (smuggling)',
    'POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'HTTP 400'],
  ['bad chunk size', 'POST /http-bind HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n', 'HTTP 400'],
  ['obsolete line folding', 'POST /http-bind HTTP/1.1\r\nHost: x\r\n Folded: header\r\n\r\n', 'HTTP 400'],
  ['NUL in a header', 'POST /http-bind HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n', 'HTTP 400'],
];

/** A request line or header block no HTTP/1.1 parser should accept. */
function malformedHead(ctx) {
  if (Math.random() < 0.15) {
    // Binary junk: what a TLS ClientHello looks like to a plain-HTTP listener.
    const junk = Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), crypto.randomBytes(randomInt(16, 200)),
      Buffer.from('\r\n\r\n')]);
    return oneShot(ctx, 'malformed head: binary junk (a TLS hello, say)', ['HTTP 501'], (c) => c.send(junk));
  }
  if (Math.random() < 0.1) {
    const url = `/http-bind?${'q'.repeat(randomInt(2100, 7000))}`;
    return oneShot(ctx, 'malformed head: URL over 2 KiB', ['HTTP 414'],
      (c) => c.send(`POST ${url} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`));
  }
  const [what, head, answer] = pick(badHeads);
  return oneShot(ctx, `malformed head: ${what}`, [answer], (c) => c.send(head));
}

/** A request head between 9 and 32 KiB (the limit is 8 KiB). */
function oversizedHead(ctx) {
  const size = randomInt(9 * 1024, 32 * 1024);
  const many = Math.random() < 0.5;
  const headers = many
    ? Array.from({ length: Math.ceil(size / 40) }, (_, i) => `X-Filler-${i}: ${'v'.repeat(24)}`).join('\r\n')
    : `X-Filler: ${'v'.repeat(size)}`;
  return oneShot(ctx, `head over 8 KiB (${many ? 'many headers' : 'one long header'})`, ['HTTP 431'],
    (c) => c.send(`POST /http-bind HTTP/1.1\r\nHost: x\r\n${headers}\r\nContent-Length: 0\r\n\r\n`));
}

/** Content-Length beyond 64 KiB: the answer must come before the body is sent. */
function oversizedByLength(ctx) {
  const length = pick([65537, 100000, 1 << 20, 1 << 30, 9007199254740991]);
  const sendSome = Math.random() < 0.5;
  return oneShot(ctx, 'body over 64 KiB by Content-Length', ['HTTP 413'], async (c) => {
    await c.send(`POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${length}\r\n\r\n`);
    if (sendSome) await c.sendMore(`<body xmlns='http://jabber.org/protocol/httpbind' rid='1'>${'x'.repeat(16000)}`);
  });
}

/** A chunked body that keeps growing past 64 KiB, 4 KiB at a time, until refused. */
function oversizedChunked(ctx) {
  return oneShot(ctx, 'body over 64 KiB by chunked growth', ['HTTP 413'], async (c) => {
    await c.send('POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `1000\r\n${'y'.repeat(4096)}\r\n`;
    for (let sent = 0; sent < 200 * 1024 && !c.gone && !c.dataSeen; sent += 4096) {
      await c.sendMore(chunk);
      await sleep(2);
    }
  });
}

/** A well-formed chunked body (for an unknown sid): answered like any other. */
function chunkedWellFormed(ctx) {
  const body = bodyXml({ rid: randomInt(1, 1e9), sid: randomSid() });
  return oneShot(ctx, 'well-formed chunked body (unknown sid)', ['200 terminate item-not-found'], async (c) => {
    await c.send('POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < body.length; i += 17) {
      const part = body.slice(i, i + 17);
      await c.sendMore(`${part.length.toString(16)}\r\n${part}\r\n`);
    }
    await c.sendMore('0\r\n\r\n');
  });
}

function wrongMethod(ctx) {
  const method = pick(['PUT', 'DELETE', 'PATCH']);
  const body = bodyXml({ rid: 1, sid: randomSid() });
  return oneShot(ctx, 'wrong method (PUT/DELETE/PATCH)', ['HTTP 405'],
    (c) => c.send(requestBytes({ method, path: '/http-bind', headers: PLAIN, body, port: ctx.port })));
}

function wrongPath(ctx) {
  const path = pick(['/', '/http-bind/x', '/http-bindx', '/xmpp-websocket', '/../../etc/passwd', '/admin']);
  const body = bodyXml({ rid: 1, sid: randomSid() });
  // The WebSocket path exists, for GET only: a POST there is 405 (with Allow), not 404.
  const expected = path === '/xmpp-websocket' ? ['HTTP 405'] : ['HTTP 404'];
  return oneShot(ctx, 'wrong path (POST)', expected,
    (c) => c.send(requestBytes({ method: 'POST', path, headers: PLAIN, body, port: ctx.port })));
}

/** One POST of `body` on a fresh connection, expecting `expected`. */
const postOne = (ctx, action, body, expected) => oneShot(ctx, action, expected, (c) => c.send(postBytes(ctx.port, body)));

function notXml(ctx) {
  const body = pick(['hello', '{"rid": 1, "sid": "x"}', '<body', '<<<>>>', '', 'rid=1&sid=2', '\u0000\u0001\u0002']);
  return postOne(ctx, 'body not XML', body, HTTP_400);
}

function wrongNamespace(ctx) {
  const rid = randomInt(1, 1e9);
  const body = pick([
    `<body rid='${rid}' sid='${randomSid()}' xmlns='jabber:client'/>`,
    `<body rid='${rid}' to='localhost' wait='60' hold='1'/>`,
    `<message rid='${rid}' xmlns='http://jabber.org/protocol/httpbind'/>`,
    `<stream:stream to='localhost' xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'>`,
  ]);
  return postOne(ctx, 'body not in the httpbind namespace', body, HTTP_400);
}

/** rid missing, not a number, zero, or beyond 2^53: bad-request. */
function badRid(ctx) {
  const rid = pick([undefined, 'abc', '0', '-5', '1.5', '9007199254740992', '99999999999999999999', '12abc']);
  if (Math.random() < 0.5) {
    return postOne(ctx, 'bad rid, unknown sid', bodyXml({ rid, sid: randomSid() }), ['200 terminate bad-request']);
  }
  if (Math.random() < 0.7) {
    return postOne(ctx, 'bad rid, creation request (ver=1.6)', bodyXml(creationAttrs(rid)), ['200 terminate bad-request']);
  }
  // A creation request without ver is a legacy client: HTTP codes instead.
  return postOne(ctx, 'bad rid, legacy creation request (no ver)', bodyXml(creationAttrs(rid, { ver: undefined })), HTTP_400);
}

function unknownSid(ctx) {
  const payload = Math.random() < 0.5 ? "<message to='u000000@localhost' type='chat'><body>spam</body></message>" : '';
  return postOne(ctx, 'unknown sid', bodyXml({ rid: randomInt(1, 2 ** 40), sid: randomSid() }, payload),
    ['200 terminate item-not-found']);
}

const badUtf8 = [
  Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe]), Buffer.from([0xc0, 0xaf]), // bad lead, BOM bytes, overlong '/'
  Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xe2, 0x82]), // surrogate, > U+10FFFF, cut
];

function invalidUtf8(ctx) {
  const bad = pick(badUtf8);
  const sid = randomSid();
  const inAttribute = Math.random() < 0.3;
  const body = inAttribute
    ? Buffer.concat([Buffer.from(`<body rid='5' sid='${sid}' xmlns='http://jabber.org/protocol/httpbind' x='`), bad, Buffer.from("'/>")])
    : Buffer.concat([Buffer.from(`<body rid='5' sid='${sid}' xmlns='http://jabber.org/protocol/httpbind'><message><body>`),
      bad, Buffer.from('</body></message></body>')]);
  return postOne(ctx, 'invalid UTF-8', body, HTTP_400);
}

/** A DOCTYPE, entity declarations, the billion laughs, an external entity. */
function dtd(ctx) {
  const laughs = `<!DOCTYPE body [<!ENTITY a "lol">${Array.from({ length: 9 }, (_, i) =>
    `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`).join('')}]>` +
    `<body rid='7' sid='${randomSid()}' xmlns='http://jabber.org/protocol/httpbind'><message><body>&j;</body></message></body>`;
  const external = `<!DOCTYPE body [<!ENTITY x SYSTEM "file:///etc/passwd">]>` +
    `<body rid='7' sid='${randomSid()}' xmlns='http://jabber.org/protocol/httpbind'><message><body>&x;</body></message></body>`;
  const plain = `<!DOCTYPE body><body rid='7' to='localhost' xmlns='http://jabber.org/protocol/httpbind'/>`;
  return postOne(ctx, 'DTD / entity declarations (billion laughs)', pick([laughs, laughs, external, plain]), HTTP_400);
}

/** 10 000 levels of nesting (open tags only: 30 KB) or 9000 closed ones (63 KB). */
function deepNesting(ctx) {
  const sid = randomSid();
  const open = `<body rid='9' sid='${sid}' xmlns='http://jabber.org/protocol/httpbind'>`;
  if (Math.random() < 0.5) return postOne(ctx, 'deep nesting (10 000 levels, unclosed)', `${open}${'<a>'.repeat(10000)}`, HTTP_400);
  return postOne(ctx, 'deep nesting (9000 levels, closed)', `${open}${'<a>'.repeat(9000)}${'</a>'.repeat(9000)}</body>`, HTTP_400);
}

/** The mix: [run, weight]. Weights are relative; cheap actions are more frequent. */
const ACTIONS = [
  [malformedHead, 10], [oversizedHead, 6], [oversizedByLength, 6], [oversizedChunked, 3], [chunkedWellFormed, 6],
  [wrongMethod, 5], [wrongPath, 5], [notXml, 8], [wrongNamespace, 8], [badRid, 10], [unknownSid, 12],
  [invalidUtf8, 8], [dtd, 6], [deepNesting, 3],
];

/** A weighted random pick from `[[item, weight]]`. */
function weightedPick(list) {
  const total = list.reduce((n, [, w]) => n + w, 0);
  let r = Math.random() * total;
  for (const [item, w] of list) {
    r -= w;
    if (r < 0) return item;
  }
  return list[list.length - 1][0];
}

/**
 * A shared rate limit: take() resolves when the next action may start, so that
 * all loops together start at most `perSecond` actions a second.
 */
class Pacer {
  constructor(perSecond) {
    this.interval = 1000 / perSecond;
    this.next = Date.now();
  }

  async take() {
    const now = Date.now();
    this.next = Math.max(this.next + this.interval, now);
    if (this.next > now) await sleep(this.next - now);
  }
}

/**
 * Runs `loops` concurrent loops until `running()` is false, each taking a pace
 * token from `pacer`, then running `pickAction()(ctx)`. Resolves when all
 * loops stopped. An action that throws is counted as "script error".
 */
async function runLoops({ loops, pacer, running, pickAction, ctx }) {
  const loop = async () => {
    while (running()) {
      await pacer.take();
      if (!running()) break;
      const action = pickAction();
      try {
        await action(ctx);
      } catch (err) {
        ctx.tally.record(`script error in ${action.name}`, err.message.slice(0, 80));
      }
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
}

module.exports = { ACTIONS, weightedPick, Pacer, runLoops, oneShot };
