#!/usr/bin/env node
'use strict';
// Captures the exact HTTP traffic of one complete BOSH login through
// switchboard to a private Prosody, for docs/transcripts/: every request and
// response with its full head and body, as they crossed the wire.
//
//   node scripts/capture-transcript.js [--out FILE]
//       (default: docs/transcripts/prosody-login-through-switchboard.txt)
//
// The client is a raw TCP socket (no HTTP library), so the request bytes are
// exactly the ones written here and the response bytes exactly what
// switchboard sent. All requests go over one keep-alive connection, one at a
// time, as a browser with hold=1 does. The steps: session creation (wait=3,
// hold=1), SASL PLAIN, stream restart, resource bind, session IQ, roster get
// with initial presence, a message to our own bare JID, an empty request held
// until `wait` runs out, terminate. A step whose reply has not come yet is
// followed by empty requests until it has (marked "poll").
//
// Prosody and switchboard run on free loopback ports, with the test harness
// (tests/lib/), and are stopped by PID at the end.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startProsody, startSwitchboard, stopAll } = require('../tests/lib/prosody_stack');

const repoRoot = path.join(__dirname, '..');
const WAIT = 3;
const USER = 'alice';
const PASSWORD = 'alice';

/** One keep-alive HTTP/1.1 connection with exact bytes in and out. */
class RawHttpConnection {
  constructor(port) {
    this.port = port;
    this.buffer = Buffer.alloc(0);
    this.waiter = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      this.socket = net.connect({ host: '127.0.0.1', port: this.port }, resolve);
      this.socket.once('error', reject);
      this.socket.on('data', (chunk) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        if (this.waiter) this.waiter();
      });
      this.socket.on('close', () => {
        this.closed = true;
        if (this.waiter) this.waiter();
      });
    });
  }

  /** Writes `request` (a Buffer) and resolves with the raw response bytes. */
  roundTrip(request, timeoutMs = 15000) {
    this.socket.write(request);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs);
      this.waiter = () => {
        const length = responseLength(this.buffer);
        if (length === null && this.closed) reject(new Error('connection closed mid-response'));
        if (length === null) return;
        clearTimeout(timer);
        this.waiter = null;
        const response = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        resolve(response);
      };
      this.waiter();
    });
  }

  close() {
    if (this.socket) this.socket.destroy();
  }
}

/** Length of the first complete response in `buf` (Content-Length only), or null. */
function responseLength(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1');
  if (/^transfer-encoding:\s*chunked/im.test(head)) throw new Error('chunked response: not expected from switchboard');
  const match = /^content-length:\s*(\d+)/im.exec(head);
  const total = end + 4 + (match ? Number(match[1]) : 0);
  return buf.length >= total ? total : null;
}

function httpRequest(port, body) {
  const bytes = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from([
    'POST /http-bind HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Content-Type: text/xml; charset=utf-8',
    `Content-Length: ${bytes.length}`,
    '', ''].join('\r\n'), 'latin1'), bytes]);
}

/** A raw HTTP message as transcript text: CRLF shown as line breaks. */
function showMessage(bytes) {
  const text = bytes.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end).split('\r\n').join('\n');
  const body = text.slice(end + 4);
  return `${head}\n\n${body}${body && !body.endsWith('\n') ? '\n' : ''}`;
}

const attr = (xml, name) => (new RegExp(`<body\\b[^>]*\\s${name}=(['"])(.*?)\\1`).exec(xml) || [])[2];

function describeRun(prosodyVersion, switchboard) {
  const git = (args) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }).toString().trim();
    } catch {
      return null;
    }
  };
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'src']) ? ' plus uncommitted changes under src/' : '';
  const version = execFileSync(switchboard.binary, ['--version']).toString().trim();
  const built = fs.statSync(switchboard.binary).mtime.toISOString();
  return [
    '# A complete BOSH login through switchboard to Prosody, byte for byte.',
    '#',
    `# Captured ${new Date().toISOString()} by scripts/capture-transcript.js:`,
    '#     node scripts/capture-transcript.js',
    `# ${version} (${path.relative(repoRoot, switchboard.binary)}, built ${built};`,
    `# source tree at commit ${commit}${dirty}), started as`,
    `#     switchboard --listen 127.0.0.1:PORT --upstream 127.0.0.1:C2S_PORT`,
    `# (all other settings default) in front of a private Prosody ${prosodyVersion}`,
    '# (plain c2s on loopback, internal_plain auth, user alice, password alice,',
    '# bob in her roster with subscription both; bob stays offline).',
    '#',
    '# The client is a raw TCP socket: requests are exactly the bytes shown, and',
    '# responses exactly what switchboard sent. Everything went over one',
    '# keep-alive connection, one request at a time (hold=1). Header lines end in',
    '# CRLF on the wire; here they are shown as line breaks. Bodies are shown',
    '# unchanged (no pretty-printing); a line break is added after a body that has',
    '# none. Times are seconds since the first request was written.',
    '',
  ].join('\n');
}

async function main() {
  const outIndex = process.argv.indexOf('--out');
  const outFile = outIndex > 0 ? process.argv[outIndex + 1]
    : path.join(repoRoot, 'docs', 'transcripts', 'prosody-login-through-switchboard.txt');
  const deadline = setTimeout(() => {
    console.error('capture-transcript: overall timeout');
    stopAll().then(() => process.exit(2));
  }, 60000);
  let connection;
  try {
    const prosody = await startProsody({ users: 0 });
    prosody.addUsers({ alice: PASSWORD, bob: 'bob' });
    prosody.befriend(['alice', 'bob']);
    const switchboard = await startSwitchboard(prosody);
    const prosodyVersion = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'prosody']).toString().trim();
    const port = switchboard.port;

    connection = new RawHttpConnection(port);
    await connection.open();
    const sections = [describeRun(prosodyVersion, switchboard)];
    const t0 = Date.now();
    const seconds = (t) => ((t - t0) / 1000).toFixed(3);
    let rid = 1000000 + Math.floor(Math.random() * 1000000);
    let sid = null;
    let step = 0;

    // Sends one <body/> (attributes after rid/sid, and payload) and records it.
    const send = async (title, attrs, payload) => {
      const attrText = [`rid='${rid++}'`, "xmlns='http://jabber.org/protocol/httpbind'", ...(sid ? [`sid='${sid}'`] : []), ...attrs].join(' ');
      const body = payload ? `<body ${attrText}>${payload}</body>` : `<body ${attrText}/>`;
      const request = httpRequest(port, body);
      const sentAt = Date.now();
      const response = await connection.roundTrip(request, (WAIT + 10) * 1000);
      const gotAt = Date.now();
      sections.push([
        `=== ${++step}. ${title}`,
        '',
        `--> request, t=${seconds(sentAt)}`,
        showMessage(request),
        `<-- response, t=${seconds(gotAt)} (${gotAt - sentAt} ms after the request)`,
        showMessage(response),
      ].join('\n'));
      return response.toString('utf8');
    };
    // Sends a step, then empty polls until every pattern has been seen.
    const sendUntil = async (title, attrs, payload, patterns) => {
      let seen = await send(title, attrs, payload);
      for (let polls = 1; !patterns.every((p) => p.test(seen)); polls++) {
        if (polls > 4) throw new Error(`${title}: never saw ${patterns.filter((p) => !p.test(seen))}`);
        seen += await send(`poll for the rest of step "${title}"`, [], '');
      }
      return seen;
    };

    const created = await sendUntil('session creation (wait=3, hold=1)', [
      "to='localhost'", "xml:lang='en'", `wait='${WAIT}'`, "hold='1'", "content='text/xml; charset=utf-8'",
      "ver='1.6'", "xmpp:version='1.0'", "xmlns:xmpp='urn:xmpp:xbosh'",
    ], '', [/<body\b/, /<mechanisms\b/]);
    sid = attr(created, 'sid');
    if (!sid) throw new Error(`no sid in ${created}`);
    const plain = Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64');
    await sendUntil('SASL PLAIN authentication', [],
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`, [/<success\b/]);
    await sendUntil('stream restart', ["to='localhost'", "xml:lang='en'", "xmpp:restart='true'", "xmlns:xmpp='urn:xmpp:xbosh'"],
      '', [/<bind\b/]);
    const bound = await sendUntil('resource bind', [],
      "<iq type='set' id='bind_1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>transcript</resource></bind></iq>",
      [/<jid>/]);
    const jid = /<jid>([^<]*)<\/jid>/.exec(bound)[1];
    await sendUntil('session IQ (RFC 3921 legacy, still sent by many clients)', [],
      "<iq type='set' id='sess_1' xmlns='jabber:client'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
      [/id=['"]sess_1['"]/]);
    await sendUntil('roster get and initial presence in one body', [],
      "<iq type='get' id='roster_1' xmlns='jabber:client'><query xmlns='jabber:iq:roster'/></iq><presence xmlns='jabber:client'/>",
      [/id=['"]roster_1['"]/, new RegExp(`<presence[^>]*from=['"]${jid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)]);
    await sendUntil('message to our own bare JID', [],
      `<message to='${USER}@localhost' type='chat' id='msg_1' xmlns='jabber:client'><body>hello, me &amp; &lt;myself&gt;</body></message>`,
      [/<message\b/]);
    await send(`empty request, held until wait (${WAIT} s) runs out`, [], '');
    const ended = await send('terminate (with unavailable presence)', ["type='terminate'"],
      "<presence type='unavailable' xmlns='jabber:client'/>");
    if (attr(ended, 'type') !== 'terminate') throw new Error(`terminate not acknowledged: ${ended}`);

    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, `${sections.join('\n')}`);
    console.log(`wrote ${outFile} (${step} exchanges)`);
  } catch (err) {
    console.error(`capture-transcript failed: ${err.stack || err.message}`);
    process.exitCode = 1;
  } finally {
    if (connection) connection.close();
    await stopAll();
    clearTimeout(deadline);
  }
}

main();
