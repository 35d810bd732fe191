'use strict';
// Flaky-link mode without --roster (label `tools`): switchboard-soak --drop 0.1
// and no --roster, over BOSH and over WebSocket, through switchboard to the
// scale-test stub. Sessions that skip the roster go online by a path of their
// own in XmppClient; this checks that it is a complete one: every session is
// counted established, the transport hears that it is online (over WebSocket
// that is what plans the --drop cut, so cuts must happen), and nothing is lost,
// duplicated or reordered.
//   - BOSH: 10% of the HTTP requests are cut and resent with the same rid; no
//     session ends early, every message arrives once;
//   - WebSocket: about 10% of the sessions are cut for good (no resume); those
//     end by "drop" (not an error), what was in flight to them is counted as cut
//     off, everything else arrives once.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { useStubAndSwitchboard } = require(path.join(__dirname, '..', 'lib', 'stub_stack'));
const { runSoak } = require(path.join(__dirname, '..', 'lib', 'run_soak'));

const SESSIONS = 300;
const args = (url, transport) => ['--url', url, '--transport', transport, '--sessions', String(SESSIONS),
  '--rate', '150', '--duration', '12', '--msg-rate', '30', '--hold', '1', '--drop', '0.1',
  '--user-pattern', 'u%d', '--password', 'p%d'];

function assertCommon(run, logs) {
  const r = run.report;
  const why = `\n${run.output}\n${logs()}`;
  assert.ok(r, `no JSON report${why}`);
  assert.equal(r.options.roster, false, why);
  assert.equal(r.sessions_established, SESSIONS, `sessions established${why}`);
  assert.equal(r.errors, 0, `errors ${JSON.stringify(r.errors_by_kind)}${why}`);
  assert.ok(r.messages_sent > 0, why);
  assert.equal(r.messages_lost, 0, why);
  assert.equal(r.messages_duplicated, 0, why);
  assert.equal(r.messages_reordered, 0, why);
  assert.equal(run.status, 0, `soak exit status${why}`);
  return { r, why };
}

test.describe('--drop 0.1 without --roster through switchboard to the stub', () => {
  const stack = useStubAndSwitchboard();
  const logs = () => stack.logs();

  test('BOSH: every session established, cut requests resent, nothing lost', { timeout: 60000 }, async () => {
    const run = await runSoak(args(stack.switchboard.boshUrl, 'bosh'), { timeoutMs: 50000, quiet: true });
    const { r, why } = assertCommon(run, logs);
    assert.equal(r.transport, 'bosh', why);
    assert.ok(r.drops > 0, `no request was cut${why}`);
    assert.equal(r.resends, r.drops, `every cut request is resent${why}`);
    assert.equal(r.sessions_ended, 0, `BOSH sessions survive their cuts${why}`);
    assert.equal(r.messages_received, r.messages_sent, why);
  });

  test('WebSocket: every session established, about 10% cut for good, nothing lost', { timeout: 60000 }, async () => {
    const run = await runSoak(args(stack.switchboard.wsUrl, 'websocket'), { timeoutMs: 50000, quiet: true });
    const { r, why } = assertCommon(run, logs);
    assert.equal(r.transport, 'websocket', why);
    // 300 sessions at P = 0.1: 30 expected; 10..60 is far outside chance.
    assert.ok(r.drops >= 10 && r.drops <= 60, `sessions cut by --drop: ${r.drops}${why}`);
    assert.equal(r.sessions_ended, r.drops, `the cut sessions, and only those, end early${why}`);
    assert.equal(r.messages_received, r.messages_sent - r.messages_cut_off, why);
  });
});
