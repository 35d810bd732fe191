'use strict';
// CI's small login storm (label `soak`): bench/storm.js at a size that runs in
// about a minute. 1,000 established sessions chat through switchboard (workers
// auto) to the stub while 3,000 new logins are asked at 1,000 a second, by
// switchboard-soak playing Strophe.js on refusals. It asserts what must hold at
// any speed: every established session stays in with no message lost or
// duplicated and no error, every storm login gets in (retries counted), no
// hand-over is lost, and no worker is restarted. Latency is a benchmark figure
// (docs/benchmarks.md), not asserted here.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');

test('a small login storm: established sessions lose nothing, every storm login gets in, no worker restarts', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-storm-'));
  const script = path.join(__dirname, '..', '..', '..', 'bench', 'storm.js');
  const args = [script, '--established', '1000', '--storm', '3000', '--storm-rate', '1000', '--msg-rate', '100',
    '--storm-seconds', '20', '--after', '5', '--out', out];
  const printed = await new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env: process.env, timeout: 240000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
  t.diagnostic(printed.trim());
  const report = JSON.parse(fs.readFileSync(path.join(out, 'storm-report.json'), 'utf8'));
  const { established, storm } = report;
  assert.equal(established.sessions, 1000, 'every established session in');
  assert.equal(established.lost, 0, 'no message of an established session lost');
  assert.equal(established.duplicated, 0, 'none duplicated');
  assert.equal(established.errors, 0, `no error: ${JSON.stringify(established.errors_by_kind)}`);
  assert.ok(established.phases.during.received > 0, 'established sessions chatted during the storm');
  assert.equal(storm.logged_in, 3000, `every storm login got in: ${JSON.stringify(storm)}`);
  assert.equal(storm.refused_logins ? storm.refused_logins.gave_up : 0, 0, 'no storm login gave up');
  assert.equal(report.handovers_lost, 0, 'no hand-over lost');
  assert.deepEqual(report.worker_restarts, { exited: 0, hung: 0 }, 'no worker restarted');
  fs.rmSync(out, { recursive: true, force: true });
});
