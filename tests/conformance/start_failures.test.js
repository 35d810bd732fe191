'use strict';
// A worker that cannot start says why and exits with status 1 at once, whichever
// of its listeners fails: the plain one (its address taken by another program),
// the metrics one (metrics_listen taken), or the HTTPS one (tls_listen taken),
// the last two after the plain one opened; and once the address is free the same
// start works.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const { findBinary } = require('../lib/switchboard');
const { freePort } = require('../lib/ports');
const { startLogged, stopProcess, waitForPort } = require('../lib/proc');
const { makeCertificate } = require('./lib/tls_client');

/** A plain listener on 127.0.0.1:port (no SO_REUSEPORT), in the way. */
function occupy(port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Runs switchboard (workers = 1) with `settings`; its exit status and log. */
async function runUntilExit(dir, port, settings) {
  const logFile = path.join(dir, `switchboard-${port}.log`);
  const args = ['--listen', `127.0.0.1:${port}`, '--upstream', '127.0.0.1:9', '--workers', '1'];
  for (const [key, value] of Object.entries(settings)) args.push('--set', `${key}=${value}`);
  const child = startLogged(findBinary(), args, { logFile, cwd: dir });
  const timer = setTimeout(() => stopProcess(child), 10000);
  const status = await child.exited;
  clearTimeout(timer);
  return { status, log: fs.readFileSync(logFile, 'utf8') };
}

test('a listener that cannot open ends the start with status 1 and a clear error', { timeout: 60000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-startfail-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { cert, key } = makeCertificate(dir);

  await t.test('the plain listener', async () => {
    const port = await freePort();
    const blocker = await occupy(port);
    try {
      const { status, log } = await runUntilExit(dir, port, {});
      assert.equal(status, 1, log);
      assert.match(log, new RegExp(`ERROR .*cannot listen on 127\\.0\\.0\\.1:${port}: `), log);
    } finally {
      blocker.close();
    }
  });

  await t.test('the metrics listener, after the plain one opened', async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const blocker = await occupy(metricsPort);
    try {
      const { status, log } = await runUntilExit(dir, port, { metrics_listen: `127.0.0.1:${metricsPort}` });
      assert.equal(status, 1, log);
      assert.match(log, new RegExp(`ERROR .*cannot listen for metrics on 127\\.0\\.0\\.1:${metricsPort}: `), log);
    } finally {
      blocker.close();
    }
  });

  await t.test('the HTTPS listener, after the plain one opened', async () => {
    const port = await freePort();
    const tlsPort = await freePort();
    const blocker = await occupy(tlsPort);
    try {
      const { status, log } = await runUntilExit(dir, port, {
        tls_listen: `127.0.0.1:${tlsPort}`, tls_cert_file: cert, tls_key_file: key,
      });
      assert.equal(status, 1, log);
      assert.match(log, new RegExp(`ERROR .*cannot listen on 127\\.0\\.0\\.1:${tlsPort}: `), log);
    } finally {
      blocker.close();
    }
  });

  await t.test('once the address is free, the same start works', async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'switchboard-ok.log');
    const child = startLogged(findBinary(), ['--listen', `127.0.0.1:${port}`, '--upstream', '127.0.0.1:9', '--workers', '1'],
      { logFile, cwd: dir });
    try {
      await waitForPort(port, { child, what: 'switchboard' });
    } finally {
      await stopProcess(child);
    }
    assert.equal(child.exitStatus, 0, fs.readFileSync(logFile, 'utf8'));
  });
});
