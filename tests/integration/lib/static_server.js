'use strict';
// A tiny static web server for the browser test: serves the demo chat page
// (deploy/demo/) and Strophe's browser build on a port of its own, so the page's
// origin differs from Switchboard's and every BOSH request is cross-origin
// (with a CORS preflight, since BOSH posts text/xml).

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { freePort } = require('../../lib/ports');

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };

/** `files` maps URL paths ('/index.html') to files on disk; '/' serves '/index.html'. */
async function startStaticServer(files) {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url, 'http://x').pathname;
    const file = files[urlPath === '/' ? '/index.html' : urlPath];
    if (req.method !== 'GET' || !file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('not found\n');
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The files of the demo chat: deploy/demo/* plus Strophe's browser build. */
function demoFiles(repoRoot) {
  const files = {};
  const demoDir = path.join(repoRoot, 'deploy', 'demo');
  for (const name of fs.readdirSync(demoDir)) files[`/${name}`] = path.join(demoDir, name);
  const dist = path.join(__dirname, '..', 'node_modules', 'strophe.js', 'dist');
  files['/strophe.umd.min.js'] = path.join(dist, 'strophe.umd.min.js');
  files['/strophe.umd.min.js.map'] = path.join(dist, 'strophe.umd.min.js.map');
  return files;
}

module.exports = { startStaticServer, demoFiles };
