'use strict';
// upstream_source_addresses (docs/configuration.md): every upstream link binds to
// the next address of the pool before it connects, so the XMPP server sees its
// connections come from those addresses in turn (on loopback every 127.x.y.z is
// local). An address this machine does not have (203.0.113.1, TEST-NET-3) is
// skipped; --check-config names a bad range with its file and line.

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const { findBinary } = require('../lib/switchboard');
const { useStack, openSession, assertAlive } = require('./lib/stack');

const stack = useStack({ upstream_source_addresses: '127.0.0.2-127.0.0.4,203.0.113.1 127.0.0.9' });

test('upstream links come from the configured source addresses, round robin', async () => {
  const seen = new Map();
  const sessions = [];
  for (let i = 0; i < 8; i += 1) {
    const s = await openSession(stack, 'src');
    sessions.push(s);
    const from = s.conn.socket.remoteAddress;
    seen.set(from, (seen.get(from) || 0) + 1);
  }
  assert.deepEqual([...seen.keys()].sort(), ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.9']);
  for (const count of seen.values()) assert.equal(count, 2, `each source twice: ${[...seen]}`);
  await assertAlive(sessions[0]);
});

test('--check-config reports a bad source range with file and line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-src-'));
  const file = path.join(dir, 'bad.conf');
  fs.writeFileSync(file, 'upstream = "127.0.0.1:5222"\n\nupstream_source_addresses = ["127.0.0.9-127.0.0.2"]\n');
  let out = '';
  let status = 0;
  try {
    execFileSync(findBinary(), ['--check-config', '--config', file], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    status = err.status;
    out = `${err.stdout}${err.stderr}`;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(status, 1);
  assert.match(out, /bad\.conf:3: 'upstream_source_addresses' must be IP addresses and ranges .*runs backwards/);
});
