'use strict';
// Starts switchboard-stub as a child process on a free loopback port (--listen
// 127.0.0.1:0; the stub prints the port it got) and stops it by PID. Also lists
// the stub's worker processes from /proc, to check that none is left behind.

const { spawn } = require('node:child_process');
const fs = require('node:fs');

const STUB_BIN = process.env.STUB_BIN;

/** PIDs whose parent is `pid`. */
function childrenOf(pid) {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** True while `pid` exists and is not a zombie. */
function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function startStub(args = []) {
  if (!STUB_BIN) throw new Error('STUB_BIN is not set (run through ctest)');
  const proc = spawn(STUB_BIN, ['--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`stub not ready; stderr: ${stderr}`)), 10000);
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on 127\.0\.0\.1:(\d+)\n/.exec(stdout);
      if (match) { clearTimeout(timer); resolve(Number(match[1])); }
    });
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`stub exited (${code}): ${stderr}`)); });
  });
  return {
    proc,
    port,
    pid: proc.pid,
    exited,
    stderr: () => stderr,
    workers: () => childrenOf(proc.pid),
    async stop(signal = 'SIGTERM') {
      process.kill(proc.pid, signal);
      return exited;
    },
  };
}

module.exports = { startStub, childrenOf, alive };
