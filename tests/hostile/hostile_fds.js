'use strict';
// Who switchboard's file descriptors belong to, for the hostile soak's leak
// check (hostile_soak.js): a bare fd count cannot tell a good session's
// second keep-alive connection from a leaked hostile one, but the peer address
// of each TCP socket can. Reads /proc/PID/fd (socket inodes) and /proc/net/tcp
// (inode -> local and remote address and state). Linux and IPv4 only, which is
// all the soak uses.

const fs = require('node:fs');

/** "0100007F:1F90" (little-endian hex) -> { ip: '127.0.0.1', port: 8080 }. */
function parseAddress(hex) {
  const [ipHex, portHex] = hex.split(':');
  const bytes = ipHex.match(/../g).map((b) => parseInt(b, 16)).reverse();
  return { ip: bytes.join('.'), port: parseInt(portHex, 16) };
}

/** inode -> { local, remote, listening } for every IPv4 TCP socket of the host. */
function tcpSockets() {
  const table = new Map();
  const lines = fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    table.set(f[9], { local: parseAddress(f[1]), remote: parseAddress(f[2]), listening: f[3] === '0A' });
  }
  return table;
}

/**
 * Counts the fds of `pid` by what they are: `classify(socket)` names a TCP
 * socket's kind (from its local/remote address); listeners, sockets not in the
 * IPv4 table and non-socket fds have kinds of their own.
 */
function fdBreakdown(pid, classify) {
  const counts = {};
  const add = (kind) => { counts[kind] = (counts[kind] || 0) + 1; };
  const tcp = tcpSockets();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target);
    if (!inode) add('not a socket (files, epoll, pipes...)');
    else if (!tcp.has(inode[1])) add('other socket (unix, IPv6, closing)');
    else if (tcp.get(inode[1]).listening) add('listening');
    else add(classify(tcp.get(inode[1])));
  }
  return counts;
}

/** Whether `pid` still has an fd for the TCP connection from `ip`:`port`. */
function holdsConnectionFrom(pid, ip, port) {
  let inode = null;
  for (const [key, socket] of tcpSockets()) {
    if (socket.remote.ip === ip && socket.remote.port === port) inode = key;
  }
  if (inode === null) return false;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return true;
    } catch { /* closed meanwhile */ }
  }
  return false;
}

/** The last byte of a 127.0.0.x address, or -1. */
const loopbackHost = (ip) => (ip.startsWith('127.0.0.') ? Number(ip.slice(8)) : -1);

module.exports = { fdBreakdown, holdsConnectionFrom, tcpSockets, parseAddress, loopbackHost };
