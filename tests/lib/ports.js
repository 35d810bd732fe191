'use strict';
// Free loopback TCP ports for the servers a test starts.
//
// Every test file runs its own XMPP server, BOSH connection manager and web
// server on ports nobody else uses, so test files can run in parallel (ctest -j)
// and never collide with a developer's real services. We ask the kernel for a
// free port by binding port 0, read the number it chose and close the socket
// again. There is a short window in which another process could take the port;
// we keep a per-process list so at least this process never hands one out twice.

const fs = require('node:fs');
const net = require('node:net');

const handedOut = new Set();

function bindEphemeral() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One free loopback port, never one this process handed out before. */
async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await bindEphemeral();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('could not find a free loopback port');
}

/**
 * The inodes of the sockets listening on TCP `port` (from /proc/net/tcp and
 * tcp6), sorted: the same before and after an upgrade in place when the very
 * listening sockets were handed on, new ones when they were bound again.
 */
function listenInodes(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const out = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && f[1].endsWith(`:${hex}`)) out.push(f[9]);
    }
  }
  return out.sort();
}

module.exports = { freePort, listenInodes };
