'use strict';
// A raw WebSocket client (RFC 6455) over net.Socket, byte for byte.
//
// The WebSocket conformance tests must send what no well-behaved library sends
// (unmasked frames, binary frames, oversized lengths, fragments cut anywhere) and
// see exactly what switchboard answers: the handshake response head, and every
// server frame with its opcode, FIN bit, mask bit and payload. So this module writes
// the handshake and the frames itself and parses the server's frames itself.
//
// Every wait has a deadline. Sockets are tracked by raw_http's list, so a test
// file's destroyAllSockets() ends the leftovers too.

const crypto = require('node:crypto');
const net = require('node:net');
const { Waiters } = require('../../lib/waiters');

const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const FRAMING_NS = 'urn:ietf:params:xml:ns:xmpp-framing';

const openSockets = new Set();

function destroyWsSockets() {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
}

/** The Sec-WebSocket-Accept value for `key` (RFC 6455 §4.2.2). */
function acceptFor(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

/**
 * One client frame as bytes. `mask`: true (random key), false (unmasked: a
 * protocol error), or a 4-byte Buffer. `length` overrides the announced length
 * (for lying headers); `rsv` sets RSV bits (0..7).
 */
function frameBytes(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0, length } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const size = length === undefined ? data.length : length;
  let header;
  if (size < 126) {
    header = Buffer.alloc(2);
    header[1] = size;
  } else if (size < 65536) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(size, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(size), 2);
  }
  header[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | opcode;
  if (!mask) return Buffer.concat([header, data]);
  header[1] |= 0x80;
  const key = Buffer.isBuffer(mask) ? mask : crypto.randomBytes(4);
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i += 1) masked[i] = data[i] ^ key[i % 4];
  return Buffer.concat([header, key, masked]);
}

/** A close frame payload: 2-byte code + reason. */
function closePayload(code, reason = '') {
  if (code === undefined) return Buffer.alloc(0);
  const buf = Buffer.alloc(2);
  buf.writeUInt16BE(code, 0);
  return Buffer.concat([buf, Buffer.from(reason, 'utf8')]);
}

/** The handshake request bytes. */
function handshakeBytes({ path = '/xmpp-websocket', host = '127.0.0.1', key, protocols = 'xmpp', origin,
  version = '13', extra = [] } = {}) {
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}`, 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`, `Sec-WebSocket-Version: ${version}`];
  if (protocols !== null) lines.push(`Sec-WebSocket-Protocol: ${protocols}`);
  if (origin) lines.push(`Origin: ${origin}`);
  lines.push(...extra);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** A server frame as parsed: opcode, fin, masked, payload (Buffer), text. */
class Frame {
  constructor(opcode, fin, masked, payload) {
    Object.assign(this, { opcode, fin, masked, payload });
  }

  get text() { return this.payload.toString('utf8'); }

  get closeCode() { return this.payload.length >= 2 ? this.payload.readUInt16BE(0) : undefined; }

  describe() {
    const name = Object.keys(OP).find((k) => OP[k] === this.opcode) || this.opcode;
    return `${name}${this.fin ? '' : '(no FIN)'}${this.masked ? '(masked!)' : ''}: ` +
      (this.opcode === OP.close ? `code ${this.closeCode}` : JSON.stringify(this.text.slice(0, 300)));
  }
}

class WsClient {
  /**
   * Connects and sends the handshake. Resolves once the response head is in, with
   * the client: `status`, `headers` (lower-case names), `head` (raw text). With
   * status 101 the client then reads frames; otherwise `body` holds what followed.
   */
  static open(port, options = {}) {
    const key = options.key || crypto.randomBytes(16).toString('base64');
    const client = new WsClient(port, key, options);
    return client.ready;
  }

  constructor(port, key, options) {
    this.key = key;
    this.frames = [];        // every server frame, in order
    this.buffer = Buffer.alloc(0);
    this.status = undefined;
    this.headers = {};
    this.tcpEnded = false;   // the server closed its side (FIN) or the socket closed
    this.waiters = new Waiters();
    const timeoutMs = options.timeoutMs || 5000;
    this.ready = new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      this.socket = socket;
      openSockets.add(socket);
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('no handshake response within ' + timeoutMs + ' ms'));
      }, timeoutMs);
      socket.on('connect', () => {
        socket.write(options.raw || handshakeBytes({ ...options, key }));
      });
      socket.on('data', (chunk) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        if (this.status === undefined) {
          const end = this.buffer.indexOf('\r\n\r\n');
          if (end < 0) return;
          this.head = this.buffer.subarray(0, end).toString('latin1');
          this.buffer = this.buffer.subarray(end + 4);
          const [statusLine, ...lines] = this.head.split('\r\n');
          this.status = Number(statusLine.split(' ')[1]);
          for (const line of lines) {
            const colon = line.indexOf(':');
            const name = line.slice(0, colon).trim().toLowerCase();
            const value = line.slice(colon + 1).trim();
            this.headers[name] = name in this.headers ? `${this.headers[name]}, ${value}` : value;
          }
          clearTimeout(timer);
          resolve(this);
        }
        if (this.status === 101) this.parseFrames();
        this.notify();
      });
      const ended = () => {
        this.tcpEnded = true;
        clearTimeout(timer);
        if (this.status === undefined) reject(new Error('connection closed before a handshake response'));
        this.notify();
      };
      socket.on('end', ended);
      socket.on('close', ended);
      socket.on('error', () => { /* surfaces as 'close' */ });
    });
  }

  /** What came after a refusal's head (its body, for a non-101). */
  get body() { return this.buffer.toString('utf8'); }

  parseFrames() {
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let length = b[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      if (masked) offset += 4;
      if (b.length < offset + length) return;
      let payload = Buffer.from(b.subarray(offset, offset + length));
      if (masked) {
        const key = b.subarray(offset - 4, offset);
        payload = Buffer.from(payload.map((x, i) => x ^ key[i % 4]));
      }
      this.frames.push(new Frame(opcode, fin, masked, payload));
      this.buffer = b.subarray(offset + length);
    }
  }

  notify() {
    this.waiters.notify();
  }

  waitFor(predicate, what, timeoutMs = 5000) {
    return this.waiters.waitFor(predicate, what, timeoutMs,
      () => `frames so far: ${this.frames.map((f) => f.describe()).join(' | ')}`);
  }

  /** The `index`-th server frame (waits for it). */
  async frame(index, timeoutMs) {
    await this.waitFor(() => this.frames.length > index, `server frame #${index}`, timeoutMs);
    return this.frames[index];
  }

  /** Waits for a text frame matching `pattern`; resolves with its text. */
  async waitText(pattern, timeoutMs) {
    const matches = (f) => f.opcode === OP.text &&
      (typeof pattern === 'string' ? f.text.includes(pattern) : pattern.test(f.text));
    await this.waitFor(() => this.frames.some(matches), `a text frame matching ${pattern}`, timeoutMs);
    return this.frames.find(matches).text;
  }

  /** Waits for the server's close frame; resolves with it. */
  async waitCloseFrame(timeoutMs) {
    const isClose = (f) => f.opcode === OP.close;
    await this.waitFor(() => this.frames.some(isClose), 'a close frame', timeoutMs);
    return this.frames.find(isClose);
  }

  /** Waits until the server has closed the TCP connection. */
  waitEnd(timeoutMs) {
    return this.waitFor(() => this.tcpEnded, 'the TCP close', timeoutMs);
  }

  /** Text frames only, as strings. */
  texts() {
    return this.frames.filter((f) => f.opcode === OP.text).map((f) => f.text);
  }

  sendRaw(bytes) {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  sendFrame(opcode, payload, options) {
    this.sendRaw(frameBytes(opcode, payload, options));
  }

  sendText(text, options) {
    this.sendFrame(OP.text, text, options);
  }

  /** The client's <open/> for `to`. */
  sendOpen(to, extra = '') {
    this.sendText(`<open xmlns='${FRAMING_NS}' to='${to}' version='1.0' xml:lang='en'${extra}/>`);
  }

  sendClose(code = 1000, reason = '') {
    this.sendFrame(OP.close, closePayload(code, reason));
  }

  destroy() {
    this.socket.destroy();
  }
}

module.exports = {
  WsClient, Frame, OP, FRAMING_NS, GUID, acceptFor, frameBytes, closePayload, handshakeBytes, destroyWsSockets,
};
