'use strict';
// Runs switchboard-soak for a test (SOAK_BIN, set by ctest, else build/'s): with
// `--json` into a private folder, killed after `timeoutMs`. Resolves
// { status, output, report }: the exit status, stdout and stderr together, and the
// parsed JSON report (null if none was written; the caller asserts on it).
// `onOutput(text, child)`, if given, sees the output so far at every chunk (to
// signal the soak at a point of its run).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const repoRoot = path.resolve(__dirname, '..', '..', '..');

function soakBinary() {
  if (process.env.SOAK_BIN) return process.env.SOAK_BIN;
  const file = path.join(repoRoot, 'build', 'src', 'tools', 'soak', 'switchboard-soak');
  if (!fs.existsSync(file)) throw new Error('switchboard-soak not found: set SOAK_BIN');
  return file;
}

function runSoak(args, { timeoutMs = 40000, quiet = false, onOutput = null } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-soak-test-'));
  const json = path.join(dir, 'report.json');
  const extra = quiet ? ['--json', json, '--quiet'] : ['--json', json];
  return new Promise((resolve, reject) => {
    const child = spawn(soakBinary(), [...args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
      if (onOutput) onOutput(output, child);
    });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (status) => {
      clearTimeout(timer);
      let report = null;
      try { report = JSON.parse(fs.readFileSync(json, 'utf8')); } catch { /* asserted by the caller */ }
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ status, output, report });
    });
  });
}

module.exports = { runSoak };
