'use strict';
// Upgrading from 0.1 (docs/operations.md, "Upgrading"): a config file in the old
// `key = value` format is refused at start and by --check-config, which names
// every old line with the TOML line to write; scripts/convert-config.sh turns
// the old file into a TOML file that passes --check-config, comments kept.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { findBinary, repoRoot } = require('../lib/switchboard');

const OLD = [
  '# an old file',
  'listen = 0.0.0.0:5280   # all interfaces',
  'upstream = localhost:5222',
  'upstream.example.org = xmpp.example.org:5222',
  'cors_origins = https://a.example https://b.example',
  'max_body_bytes = 128k',
  'max_wait = 90',
  'demo_root =',
  'upstream_tls_verify = false',
  '',
].join('\n');

function run(args) {
  return spawnSync(findBinary(), args, { encoding: 'utf8', timeout: 10000 });
}

test('an old-format file: every old line answered with its TOML line, exit 1', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-upgrade-'));
  const file = path.join(dir, 'old.conf');
  fs.writeFileSync(file, OLD);
  const check = run(['--check-config', '--config', file]);
  assert.equal(check.status, 1);
  const lines = check.stderr.trim().split('\n');
  assert.deepEqual(lines.map((l) => l.split(':')[1]), ['2', '3', '4', '5', '6', '8'], check.stderr);
  assert.match(lines[0], /not TOML; write: listen = "0\.0\.0\.0:5280" \(the config file is TOML since switchboard 0\.2/);
  assert.match(lines[1], /write: upstream\."\*" = "localhost:5222"$/);
  assert.match(lines[3], /write: cors_origins = \["https:\/\/a\.example", "https:\/\/b\.example"\]$/);
  // Starting with it fails the same way, before anything listens.
  const start = run(['--config', file]);
  assert.equal(start.status, 1);
  assert.match(start.stderr, /not TOML; write: listen/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('scripts/convert-config.sh makes a TOML file that passes --check-config', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-upgrade-'));
  const file = path.join(dir, 'old.conf');
  fs.writeFileSync(file, OLD);
  const converted = spawnSync(path.join(repoRoot, 'scripts', 'convert-config.sh'), [file, findBinary()],
    { encoding: 'utf8', timeout: 10000 });
  assert.equal(converted.status, 0, converted.stderr);
  const toml = converted.stdout;
  assert.match(toml, /^# an old file$/m);
  assert.match(toml, /^listen = "0\.0\.0\.0:5280"$/m);
  assert.match(toml, /^upstream\.example\.org = "xmpp\.example\.org:5222"$/m);
  assert.match(toml, /^max_wait = 90$/m);
  assert.match(toml, /^upstream_tls_verify = false$/m);
  const out = path.join(dir, 'new.toml');
  fs.writeFileSync(out, toml);
  const check = run(['--check-config', '--config', out]);
  assert.equal(check.status, 0, check.stderr);
  assert.equal(check.stdout, 'configuration ok\n');
  fs.rmSync(dir, { recursive: true, force: true });
});
