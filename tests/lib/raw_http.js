'use strict';
// Raw HTTP/1.x over net.Socket, byte for byte.
//
// The conformance tests must be able to send anything (malformed XML, invalid
// UTF-8, chunked bodies, pipelined requests, HTTP/1.0) and must see exactly what
// switchboard answers (status, every header, the body bytes, whether the body was
// chunked). Node's http client normalises too much for that, so this module writes
// the request bytes itself and parses the responses itself.
//
// Every wait has a deadline: a request switchboard never answers fails its test
// in seconds instead of hanging the suite. Every socket opened here is tracked so
// a test file can destroy the leftovers (held requests of a failed test) at the end.

const net = require('node:net');

const openSockets = new Set();

/** Destroys every socket this module opened that is still open. */
function destroyAllSockets() {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
}

/** One parsed HTTP response. Header names are lower-cased in `headers`. */
class HttpResponse {
  constructor({ version, status, reason, headerList, bodyBytes, raw, chunked }) {
    this.version = version;      // 'HTTP/1.1'
    this.status = status;        // 200
    this.reason = reason;        // 'OK'
    this.headerList = headerList;  // [[name, value]] as sent
    this.headers = {};
    for (const [name, value] of headerList) {
      const key = name.toLowerCase();
      this.headers[key] = key in this.headers ? `${this.headers[key]}, ${value}` : value;
    }
    this.bodyBytes = bodyBytes;  // Buffer
    this.body = bodyBytes.toString('utf8');
    this.raw = raw;              // the whole response as received, Buffer
    this.chunked = chunked;      // true if the body came with chunked transfer coding
    this.receivedAt = Date.now();
  }

  header(name) {
    return this.headers[name.toLowerCase()];
  }
}

/**
 * One client TCP connection to an HTTP server. Responses are parsed in order
 * from the byte stream; `next()` resolves with the next one.
 */
class HttpConnection {
  static open(port, { host = '127.0.0.1', timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      openSockets.add(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new HttpConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.responses = [];   // parsed, not yet taken by next()
    this.waiters = [];     // next() calls waiting for a response
    this.headRequests = [];  // for each request sent in order: was it HEAD?
    this.ended = false;
    this.closed = new Promise((resolve) => socket.once('close', resolve));
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    socket.on('end', () => {
      this.ended = true;
      this.parse();
      this.flushWaiters();
    });
    socket.on('close', () => {
      this.ended = true;
      openSockets.delete(socket);
      this.flushWaiters();
    });
    // Surfaces as 'close'; the code (ECONNRESET...) is named in the rejection.
    socket.on('error', (err) => { this.errorCode = err.code || String(err); });
  }

  /** Writes raw bytes (string as UTF-8, or a Buffer). `isHead` marks a HEAD request. */
  write(bytes, { isHead = false } = {}) {
    this.headRequests.push(isHead);
    this.socket.write(bytes);
  }

  /** Writes bytes that are not the start of a new request (e.g. the rest of a body). */
  writeMore(bytes) {
    this.socket.write(bytes);
  }

  /** The next response, or a rejection after `timeoutMs` or when the peer closes. */
  next({ timeoutMs = 5000 } = {}) {
    if (this.responses.length > 0) return Promise.resolve(this.responses.shift());
    if (this.ended) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, timer: null };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no HTTP response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close() {
    this.socket.destroy();
  }

  flushWaiters() {
    while (this.waiters.length > 0 && this.responses.length > 0) {
      const waiter = this.waiters.shift();
      clearTimeout(waiter.timer);
      waiter.resolve(this.responses.shift());
    }
    if (this.ended) {
      for (const waiter of this.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(this.closedError());
      }
    }
  }

  /** Why no response will come: the peer closed, or reset (its code named). */
  closedError() {
    return new Error(`connection closed before a response${this.errorCode ? ` (${this.errorCode})` : ''}`);
  }

  parse() {
    for (;;) {
      const response = this.parseOne();
      if (!response) break;
      this.responses.push(response);
    }
    this.flushWaiters();
  }

  // Parses one complete response off the front of the buffer, or returns null.
  parseOne() {
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return null;
    const headText = this.buffer.subarray(0, headEnd).toString('latin1');
    const lines = headText.split('\r\n');
    const match = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]);
    if (!match) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    const headerList = lines.slice(1).map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const status = Number(match[2]);
    const find = (name) => {
      const found = headerList.find(([n]) => n.toLowerCase() === name);
      return found ? found[1] : undefined;
    };
    const isHead = this.headRequests[0] === true;
    let bodyStart = headEnd + 4;
    let bodyBytes;
    let end;
    let chunked = false;
    if (isHead || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      bodyBytes = Buffer.alloc(0);
      end = bodyStart;
    } else if (/chunked/i.test(find('transfer-encoding') || '')) {
      chunked = true;
      const parts = [];
      let pos = bodyStart;
      for (;;) {
        const lineEnd = this.buffer.indexOf('\r\n', pos);
        if (lineEnd < 0) return null;
        const size = parseInt(this.buffer.subarray(pos, lineEnd).toString('latin1'), 16);
        pos = lineEnd + 2;
        if (size === 0) {
          const trailerEnd = this.buffer.indexOf('\r\n', pos);
          if (trailerEnd < 0) return null;
          end = trailerEnd + 2;
          break;
        }
        if (this.buffer.length < pos + size + 2) return null;
        parts.push(this.buffer.subarray(pos, pos + size));
        pos += size + 2;
      }
      bodyBytes = Buffer.concat(parts);
    } else if (find('content-length') !== undefined) {
      const length = Number(find('content-length'));
      if (this.buffer.length < bodyStart + length) return null;
      bodyBytes = this.buffer.subarray(bodyStart, bodyStart + length);
      end = bodyStart + length;
    } else {
      // Delimited by the end of the connection.
      if (!this.ended) return null;
      bodyBytes = this.buffer.subarray(bodyStart);
      end = this.buffer.length;
    }
    if (status >= 100 && status < 200) {
      // An interim response (100 Continue): not an answer to the request.
      this.buffer = this.buffer.subarray(end);
      return this.parseOne();
    }
    const raw = Buffer.from(this.buffer.subarray(0, end));
    this.buffer = this.buffer.subarray(end);
    this.headRequests.shift();
    return new HttpResponse({
      version: match[1], status, reason: match[3], headerList, bodyBytes: Buffer.from(bodyBytes), raw, chunked,
    });
  }
}

/**
 * The bytes of one request. `body` is a string (UTF-8) or a Buffer. Headers are
 * given as [[name, value]] in order; Host and Content-Length are added unless
 * present in `headers` or suppressed with `contentLength: false`.
 */
function requestBytes({ method = 'POST', path = '/http-bind', version = 'HTTP/1.1', headers = [], body = '',
                        contentLength = true, port = 0 }) {
  const bodyBuffer = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const names = new Set(headers.map(([n]) => n.toLowerCase()));
  const lines = [`${method} ${path} ${version}`];
  if (!names.has('host')) lines.push(`Host: 127.0.0.1:${port}`);
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (contentLength && !names.has('content-length') && !names.has('transfer-encoding') &&
      (bodyBuffer.length > 0 || method === 'POST')) {
    lines.push(`Content-Length: ${bodyBuffer.length}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), bodyBuffer]);
}

/**
 * One request on a fresh connection; resolves with the response and closes the
 * connection. `opts` as for requestBytes, plus timeoutMs.
 */
async function request(port, opts = {}) {
  const { timeoutMs = 5000 } = opts;
  const conn = await HttpConnection.open(port);
  try {
    conn.write(requestBytes({ ...opts, port }), { isHead: opts.method === 'HEAD' });
    return await conn.next({ timeoutMs });
  } finally {
    conn.close();
  }
}

/** A POST of `body` to the BOSH path with a text/xml Content-Type (unless given). */
function post(port, body, { path = '/http-bind', headers, timeoutMs = 5000 } = {}) {
  return request(port, {
    method: 'POST', path, body, timeoutMs,
    headers: headers || [['Content-Type', 'text/xml; charset=utf-8']],
  });
}

module.exports = { HttpConnection, HttpResponse, requestBytes, request, post, destroyAllSockets };
