'use strict';
// What the Converse.js browser tests need around switchboard:
//
// - startConverseSite(): a tiny static web server on a port of its own, serving
//   Converse.js's release build (npm `converse.js`, its dist/ folder at /dist/,
//   with the lazily loaded locales and assets) and one page that starts Converse
//   with the settings given in the page's URL fragment (JSON). The page's origin
//   is not switchboard's, so the WebSocket handshake carries a foreign Origin and
//   BOSH requests are cross-origin (CORS; both allowed by switchboard's default
//   cors_origins = *).
// - startTlsFront(port): a TLS-terminating TCP relay in front of switchboard, as a
//   deployment puts nginx or haproxy in front of it. Converse's XEP-0156 discovery
//   only asks https://DOMAIN/.well-known/host-meta and only takes wss:// URLs
//   (src/headless/shared/connection/index.js), so the discovery test needs HTTPS
//   and WSS; the certificate is a throw-away self-signed one for `localhost`, made
//   with the openssl command line, and Chromium runs with its errors ignored.
//
// Both are stopped by the test (close()), leaving no process behind.

const fs = require('node:fs');
const os = require('node:os');
const net = require('node:net');
const tls = require('node:tls');
const http = require('node:http');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { freePort } = require('../../lib/ports');

const converseDist = path.dirname(require.resolve('converse.js/dist/converse.min.js'));

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg', '.ogg': 'audio/ogg',
};

// The page: Converse with the settings of the URL fragment, plus a plugin that
// hands the test Converse's API (window.sbTest), the way Converse's own docs
// suggest integrating with it. The UI is the real one: the test types into it.
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Converse.js through switchboard</title>
<link rel="stylesheet" href="/dist/converse.min.css">
<script type="module" src="/dist/converse.min.js"></script>
</head>
<body class="converse-fullscreen">
<script type="module">
  // Converse's release build is an ES module that sets window.converse; module
  // scripts run in document order, so it is there by now.
  const converse = window.converse;
  const settings = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  window.sbTest = { events: [] };
  converse.plugins.add('sb-test', {
    initialize() {
      const api = this._converse.api;
      window.sbTest.api = api;
      // Every turn of the connection, so a test can tell a session that went on
      // from one that dropped and came back.
      for (const event of ['connected', 'disconnected', 'will-reconnect', 'reconnected']) {
        api.listen.on(event, () => window.sbTest.events.push(event));
      }
    },
  });
  converse.initialize(Object.assign({
    assets_path: '/dist/',
    view_mode: 'fullscreen',
    auto_login: true,
    auto_reconnect: false,
    whitelisted_plugins: ['sb-test'],
    loglevel: 'info',
    play_sounds: false,
    show_desktop_notifications: false,
    persistent_store: 'sessionStorage',
    omemo_default: false,
    allow_non_roster_messaging: true,
  }, settings));
</script>
</body>
</html>
`;

async function startConverseSite() {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = null;
    if (urlPath === '/' || urlPath === '/index.html') {
      res.writeHead(200, { 'Content-Type': types['.html'], 'Cache-Control': 'no-store' });
      return res.end(page);
    }
    if (urlPath.startsWith('/dist/')) {
      const candidate = path.join(converseDist, path.normalize(urlPath.slice('/dist/'.length)));
      if (candidate.startsWith(converseDist + path.sep) && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) file = candidate;
    }
    if (req.method !== 'GET' || !file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('not found\n');
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'max-age=600' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    /** The page's URL with Converse's settings. */
    pageUrl: (settings) => `http://127.0.0.1:${port}/#${encodeURIComponent(JSON.stringify(settings))}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A self-signed certificate for localhost in a fresh folder: { dir, key, cert }. */
function makeCertificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tls-front-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
  { stdio: 'ignore' });
  return { dir, key, cert };
}

/** TLS on a free loopback port, every connection relayed as bytes to 127.0.0.1:targetPort. */
async function startTlsFront(targetPort) {
  const certificate = makeCertificate();
  const port = await freePort();
  const sockets = new Set();
  const server = tls.createServer({
    key: fs.readFileSync(certificate.key), cert: fs.readFileSync(certificate.cert), ALPNProtocols: ['http/1.1'],
  }, (client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.on('tlsClientError', () => {});
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => {
        fs.rmSync(certificate.dir, { recursive: true, force: true });
        resolve();
      });
    }),
  };
}

module.exports = { startConverseSite, startTlsFront, converseDist };
