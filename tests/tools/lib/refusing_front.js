'use strict';
// A scripted HTTP front that plays a connection manager in a login storm: it
// refuses the first `refuse` BOSH session creations (a POST whose <body/> has no
// sid) and the first `refuse` WebSocket upgrades with HTTP 503, a
// `Retry-After: N` header and a text/plain body, the way switchboard answers a
// login it cannot serve in time. Everything else (and every creation or upgrade
// after the first `refuse`) goes to `upstream` (a switchboard's base URL,
// http://host:port), byte for byte; without an upstream the front refuses
// forever. It records the time of every creation and upgrade attempt, so a test
// or tests/tools/refusal/measure_clients.js can tell when a client retried.
//
// CORS: a refusal carries Access-Control-Allow-Origin (a browser hides the
// status of a cross-origin answer without it), and an OPTIONS preflight is
// answered here when there is no upstream.

const http = require('node:http');
const net = require('node:net');

/**
 * @param opts.refuse      creations/upgrades to refuse (Infinity: all)
 * @param opts.retryAfter  the Retry-After value in seconds, or a function of the
 *                         attempt number (from 1) giving it; null: no header
 * @param opts.upstream    base URL to forward to once the refusals are used up
 */
async function startRefusingFront({ refuse = Infinity, retryAfter = 5, upstream = null } = {}) {
  const t0 = Date.now();
  const attempts = { bosh: [], ws: [] };  // { at (ms since start), refused, retryAfter, rid (BOSH) }
  let refusedSoFar = 0;
  const up = upstream ? new URL(upstream) : null;
  const agent = new http.Agent({ keepAlive: true });

  const decide = (kind, rid = null) => {
    const at = Date.now() - t0;
    const refused = refusedSoFar < refuse;
    const n = attempts[kind].length + 1;
    const ra = !refused ? null : typeof retryAfter === 'function' ? retryAfter(n) : retryAfter;
    if (refused) ++refusedSoFar;
    attempts[kind].push({ at, refused, retryAfter: ra, ...(rid !== null ? { rid } : {}) });
    return { refused, retryAfter: ra };
  };

  // The raw answer to a refused upgrade (the socket is ours after 'upgrade').
  const refusalHead = (ra, body) =>
    'HTTP/1.1 503 Service Unavailable\r\n' +
    (ra !== null && ra !== undefined ? `Retry-After: ${ra}\r\n` : '') +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    'Access-Control-Allow-Origin: *\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n';

  const forward = (req, res, data) => {
    const r = http.request({
      host: up.hostname, port: up.port, method: req.method, path: req.url, agent,
      headers: { ...req.headers, host: up.host },
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    r.on('error', () => res.destroy());
    r.end(data);
  };

  const server = http.createServer({ keepAliveTimeout: 120000 }, (req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const data = Buffer.concat(chunks);
      const text = data.toString('utf8');
      if (req.method === 'POST' && !/\ssid=['"]/.test(text)) {
        const rid = /\srid=['"](\d+)['"]/.exec(text);
        const { refused, retryAfter: ra } = decide('bosh', rid ? rid[1] : null);
        if (refused || !up) {
          const body = 'Too many logins at once, please retry.\n';
          const headers = { 'Content-Type': 'text/plain; charset=utf-8', 'Access-Control-Allow-Origin': '*' };
          if (ra !== null && ra !== undefined) headers['Retry-After'] = String(ra);
          res.writeHead(503, headers);
          res.end(body);
          return;
        }
      }
      if (!up) {
        res.writeHead(req.method === 'OPTIONS' ? 204 : 404, {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
          'Access-Control-Allow-Headers': 'Content-Type',
          'Content-Length': '0',
        });
        res.end();
        return;
      }
      forward(req, res, data);
    });
  });

  server.on('upgrade', (req, socket, head) => {
    const { refused, retryAfter: ra } = decide('ws');
    if (refused || !up) {
      const body = 'Too many logins at once, please retry.\n';
      socket.end(refusalHead(ra, body) + body);
      return;
    }
    const upstreamSocket = net.connect(Number(up.port), up.hostname, () => {
      let text = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i];
        text += `${name}: ${name.toLowerCase() === 'host' ? up.host : req.rawHeaders[i + 1]}\r\n`;
      }
      upstreamSocket.write(text + '\r\n');
      if (head && head.length) upstreamSocket.write(head);
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
    });
    const close = () => { socket.destroy(); upstreamSocket.destroy(); };
    upstreamSocket.on('error', close);
    socket.on('error', close);
    socket.on('close', () => upstreamSocket.end());
    upstreamSocket.on('close', () => socket.end());
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  // The same paths as upstream's (switchboard's /http-bind and /xmpp-websocket).
  return {
    port,
    boshUrl: `http://127.0.0.1:${port}/http-bind`,
    wsUrl: `ws://127.0.0.1:${port}/xmpp-websocket`,
    url: (pathname, scheme = 'http') => `${scheme}://127.0.0.1:${port}${pathname}`,
    attempts,
    t0,
    close: () => new Promise((resolve) => {
      agent.destroy();
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

module.exports = { startRefusingFront };
