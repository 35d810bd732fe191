'use strict';
// systemd Type=notify (docs/operations.md, "systemd"): switchboard started with
// NOTIFY_SOCKET pointing at a datagram socket this test owns (notify_probe) and
// WATCHDOG_USEC set, alone and with two workers. Checked, in order: READY=1 once
// listening (with two workers: only after both listen), WATCHDOG=1 pings at half
// the interval and none while the main process is stopped, RELOADING=1 with
// MONOTONIC_USEC then READY=1 on SIGHUP (also when the new file is refused),
// STOPPING=1 on SIGTERM. Only the main process notifies: every datagram comes
// from switchboard's own PID.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { findBinary, tomlConfig } = require('../lib/switchboard');
const { freePort } = require('../lib/ports');
const { startLogged, stopProcess, sleep } = require('../lib/proc');

const probeBinary = process.env.NOTIFY_PROBE_BIN;

// The probe's lines, as they come, with a way to wait for the next one matching.
class Probe {
  constructor(socketPath, { pids = false } = {}) {
    this.lines = [];
    this.waiters = [];
    const args = pids ? [socketPath, '--pids'] : [socketPath];
    this.child = spawn(probeBinary, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.exited.then(() => { this.child.hasExited = true; });
    let buffered = '';
    this.child.stdout.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        this.lines.push(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  /** Resolves with the first line at index >= `from` matching `pattern`. */
  next(pattern, { from = 0, timeoutMs = 10000 } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.lines.length; i += 1) {
          if (pattern.test(this.lines[i])) {
            this.waiters = this.waiters.filter((w) => w !== check);
            clearTimeout(timer);
            resolve({ line: this.lines[i], index: i });
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`no ${pattern} after line ${from} in ${timeoutMs} ms; got:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  stop() { this.child.stdin.end(); return stopProcess(this.child, { timeoutMs: 2000 }); }
}

for (const workers of [1, 2]) {
  test(`sd_notify with ${workers} worker(s): READY, WATCHDOG, RELOADING/READY, STOPPING`, async (t) => {
    assert.ok(probeBinary, 'NOTIFY_PROBE_BIN must name the notify_probe binary (ctest sets it)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-notify-'));
    const socketPath = path.join(dir, 'notify.sock');
    const probe = new Probe(socketPath);
    await probe.next(/^ready$/);
    const port = await freePort();
    const configFile = path.join(dir, 'sb.toml');
    const config = { listen: `127.0.0.1:${port}`, upstream: '127.0.0.1:5222', workers };
    fs.writeFileSync(configFile, tomlConfig(config));
    const logFile = path.join(dir, 'stderr.log');
    const env = { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000' };
    delete env.WATCHDOG_PID;
    const sb = startLogged(findBinary(), ['--config', configFile], { logFile, env });
    t.after(async () => {
      await stopProcess(sb, { timeoutMs: 5000 });
      await probe.stop();
      if (!process.env.SB_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    });
    const logs = () => fs.readFileSync(logFile, 'utf8');

    const ready = await probe.next(/READY=1/);
    assert.match(ready.line, /STATUS=/);
    if (workers > 1) assert.match(logs(), /all 2 workers listening/, `READY=1 only once both listen:\n${logs()}`);
    // Pings every 200 ms: at least two within a second.
    const ping = await probe.next(/^WATCHDOG=1$/, { from: ready.index + 1 });
    await probe.next(/^WATCHDOG=1$/, { from: ping.index + 1, timeoutMs: 1000 });

    // The pings come from the main process's own loop: stopped (SIGSTOP), it
    // sends none, even with its workers running; continued, it pings again.
    sb.kill('SIGSTOP');
    await sleep(100);  // a datagram already sent may still be on its way
    const stoppedAt = probe.lines.length;
    await sleep(1000);  // five ping intervals
    const pingsWhileStopped = probe.lines.slice(stoppedAt).filter((line) => /WATCHDOG=1/.test(line)).length;
    sb.kill('SIGCONT');
    assert.equal(pingsWhileStopped, 0, 'WATCHDOG=1 while the main process was stopped');
    await probe.next(/^WATCHDOG=1$/, { from: stoppedAt, timeoutMs: 1000 });

    // A good reload: RELOADING=1 with MONOTONIC_USEC, then READY=1 when done.
    fs.writeFileSync(configFile, tomlConfig({ ...config, max_wait: 90 }));
    let mark = probe.lines.length;
    sb.kill('SIGHUP');
    const reloading = await probe.next(/RELOADING=1/, { from: mark });
    assert.match(reloading.line, /MONOTONIC_USEC=\d+/);
    await probe.next(/READY=1/, { from: reloading.index + 1 });
    assert.match(logs(), /changed max_wait/);

    // A refused reload still ends with READY=1 (the old configuration serves).
    fs.writeFileSync(configFile, `${tomlConfig(config)}max_wait = 0\n`);
    mark = probe.lines.length;
    sb.kill('SIGHUP');
    const refused = await probe.next(/RELOADING=1/, { from: mark });
    await probe.next(/READY=1/, { from: refused.index + 1 });
    assert.match(logs(), /reload refused \(1 problem\)/);

    mark = probe.lines.length;
    sb.kill('SIGTERM');
    await probe.next(/STOPPING=1/, { from: mark });
    assert.equal(await sb.exited, 0, logs());
  });
}

for (const workers of [1, 2]) {
test(`sd_notify through an upgrade in place with ${workers} worker(s): MAINPID from the old daemon, then the new one pings and stops`, async (t) => {
  assert.ok(probeBinary, 'NOTIFY_PROBE_BIN must name the notify_probe binary (ctest sets it)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-notify-upgrade-'));
  const socketPath = path.join(dir, 'notify.sock');
  const probe = new Probe(socketPath, { pids: true });
  await probe.next(/^ready$/);
  const port = await freePort();
  const configFile = path.join(dir, 'sb.toml');
  fs.writeFileSync(configFile, tomlConfig({ listen: `127.0.0.1:${port}`, upstream: '127.0.0.1:5222', workers }));
  const logFile = path.join(dir, 'stderr.log');
  const env = { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000' };
  delete env.WATCHDOG_PID;
  const sb = startLogged(findBinary(), ['--config', configFile], { logFile, env });
  let newPid = 0;
  t.after(async () => {
    if (newPid) { try { process.kill(newPid, 'SIGKILL'); } catch { /* gone */ } }
    await stopProcess(sb, { timeoutMs: 5000 });
    await probe.stop();
    if (!process.env.SB_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  });
  const logs = () => fs.readFileSync(logFile, 'utf8');
  const oldPid = sb.pid;
  const ready = await probe.next(new RegExp(`^${oldPid} READY=1`));

  sb.kill('SIGUSR2');
  const handed = await probe.next(/ MAINPID=\d+/, { from: ready.index + 1 });
  const [sender, mainpid] = /^(\d+) MAINPID=(\d+)/.exec(handed.line).slice(1).map(Number);
  assert.equal(sender, oldPid, 'MAINPID comes from the main process itself (NotifyAccess=main)');
  assert.notEqual(mainpid, oldPid);
  newPid = mainpid;
  assert.equal(await sb.exited, 0, logs());
  // The new daemon feeds the watchdog from now on (WATCHDOG_PID named the old one).
  await probe.next(new RegExp(`^${newPid} WATCHDOG=1$`), { from: handed.index + 1, timeoutMs: 2000 });
  const mark = probe.lines.length;
  process.kill(newPid, 'SIGTERM');
  await probe.next(new RegExp(`^${newPid} STOPPING=1`), { from: mark });
  for (let i = 0; i < 100; i += 1) {
    try { process.kill(newPid, 0); } catch { newPid = 0; break; }
    await sleep(50);
  }
  assert.equal(newPid, 0, `the new daemon stopped:\n${logs()}`);
});
}
