'use strict';
// A refused login (label `tools`): a scripted front (tests/tools/lib/refusing_front.js)
// answers the first session creations or WebSocket upgrades with HTTP 503 and
// Retry-After, the way switchboard answers a login storm, then forwards to a real
// switchboard in front of the stub. switchboard-soak must retry on the schedule of
// the real client (measured with tests/tools/refusal/measure_clients.js; see
// docs/operations.md, "Clients and a refused login") and report the refused
// logins apart from errors:
//   - BOSH, as Strophe.js: the same <body/> (same rid) again at once, then after
//     min(floor(1.1 * wait), n^3) s; the 5th refusal gives up (an error);
//   - --honour-retry-after: the header's delay instead, the same number of tries;
//   - WebSocket, as Converse.js in Chromium: a burst of quick tries, then seconds
//     apart; as Strophe.js alone (--retry-as strophe): give up at once.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { useStubAndSwitchboard } = require(path.join(__dirname, '..', 'lib', 'stub_stack'));
const { runSoak } = require(path.join(__dirname, '..', 'lib', 'run_soak'));
const { startRefusingFront } = require(path.join(__dirname, '..', 'lib', 'refusing_front'));

const account = ['--user-pattern', 'u%d', '--password', 'p%d'];

/** The gaps in seconds between a BOSH session's creation attempts (by rid). */
function gapsByRid(attempts) {
  const byRid = new Map();
  for (const a of attempts) {
    if (!byRid.has(a.rid)) byRid.set(a.rid, []);
    byRid.get(a.rid).push(a.at / 1000);
  }
  return [...byRid.values()].map((times) => times.slice(1).map((t, i) => t - times[i]));
}

const near = (value, expected, slack, what) =>
  assert.ok(Math.abs(value - expected) <= slack, `${what}: ${value.toFixed(3)} s, expected ${expected} s`);

test.describe('refused logins through a refusing front to switchboard and the stub', () => {
  const stack = useStubAndSwitchboard();
  let front = null;
  const upstream = () => `http://127.0.0.1:${stack.switchboard.port}`;
  const frontUrl = (scheme) => {
    const u = new URL(scheme === 'ws' ? stack.switchboard.wsUrl : stack.switchboard.boshUrl);
    return front.url(u.pathname, scheme);
  };
  const why = (run) => `\n${run.output}\nattempts: ${JSON.stringify(front.attempts)}\n${stack.logs()}`;

  test.afterEach(async () => {
    if (front) await front.close();
    front = null;
  });

  test('BOSH as Strophe: resent at once, then after min(1.1 * wait, 8) s; all get in', { timeout: 60000 }, async () => {
    // 4 sessions at once, 6 refusals: each first try, then two of the immediate
    // resends; those two wait floor(1.1 * 4) = 4 s (wait 4 caps Strophe's 8 s).
    front = await startRefusingFront({ refuse: 6, retryAfter: 1, upstream: upstream() });
    const run = await runSoak(['--url', frontUrl('http'), '--sessions', '4', '--rate', '1000', '--duration', '8',
      '--wait', '4', ...account], { timeoutMs: 40000, quiet: true });
    const r = run.report;
    assert.ok(r, `no JSON report${why(run)}`);
    assert.equal(r.sessions_established, 4, `sessions established${why(run)}`);
    assert.equal(r.errors, 0, `errors ${JSON.stringify(r.errors_by_kind)}${why(run)}`);
    // Which sessions were refused how often depends on the order the tries
    // arrived in: the front's record says, by rid.
    const refusedRids = new Set(front.attempts.bosh.filter((a) => a.refused).map((a) => a.rid));
    assert.deepEqual(r.refused_logins, { refusals: 6, logins: refusedRids.size, then_in: refusedRids.size, gave_up: 0,
      unsettled: 0, retry_as: 'strophe', honour_retry_after: false }, why(run));
    assert.equal(r.options.retry_as, 'strophe');
    assert.equal(r.login_attempts, 4, `one login attempt per session, however many tries${why(run)}`);
    assert.equal(run.status, 0, `exit status${why(run)}`);
    const gaps = gapsByRid(front.attempts.bosh);
    assert.equal(gaps.length, 4, `the same rid on every try of a session${why(run)}`);
    assert.ok(gaps.some((g) => g.length === 2), `a session refused twice${why(run)}`);
    for (const g of gaps) {
      if (g.length > 0) near(g[0], 0, 0.5, 'the first resend');
      if (g.length > 1) near(g[1], 4, 0.6, 'the second resend');
    }
    assert.match(run.output, /refused logins +6 refusals to \d logins: \d then in, 0 gave up/, why(run));
  });

  test('BOSH as Strophe: the 5th refusal gives up; --honour-retry-after waits the header instead', { timeout: 60000 }, async () => {
    front = await startRefusingFront({ refuse: Infinity, retryAfter: 1 });
    // wait 2: Strophe's delays are 0, 2, 2, 2 s.
    const run = await runSoak(['--url', frontUrl('http'), '--sessions', '2', '--rate', '1000', '--duration', '12',
      '--wait', '2', ...account], { timeoutMs: 40000, quiet: true });
    const r = run.report;
    assert.ok(r, `no JSON report${why(run)}`);
    assert.equal(r.sessions_established, 0, why(run));
    assert.deepEqual(r.refused_logins, { refusals: 10, logins: 2, then_in: 0, gave_up: 2, unsettled: 0,
      retry_as: 'strophe', honour_retry_after: false }, why(run));
    assert.deepEqual(r.errors_by_kind, { 'refused_gave_up:http_503': 2 }, why(run));
    assert.equal(run.status, 1, why(run));
    for (const g of gapsByRid(front.attempts.bosh)) {
      assert.equal(g.length, 4, `five tries${why(run)}`);
      near(g[0], 0, 0.5, 'the first resend');
      for (const gap of g.slice(1)) near(gap, 2, 0.5, 'a later resend');
    }
    await front.close();

    // Retry-After 3 s instead of Strophe's 0, 2, 2, 2 s: tries 3 s apart, still five.
    front = await startRefusingFront({ refuse: Infinity, retryAfter: 3 });
    const honour = await runSoak(['--url', frontUrl('http'), '--sessions', '1', '--duration', '16', '--wait', '2',
      '--honour-retry-after', ...account], { timeoutMs: 40000, quiet: true });
    const h = honour.report;
    assert.ok(h, `no JSON report${why(honour)}`);
    assert.equal(h.refused_logins.gave_up, 1, why(honour));
    assert.equal(h.refused_logins.honour_retry_after, true, why(honour));
    const [g] = gapsByRid(front.attempts.bosh);
    assert.equal(g.length, 4, why(honour));
    for (const gap of g) near(gap, 3, 0.5, 'a try after Retry-After');
  });

  test('WebSocket as Converse in Chromium: a burst of tries, then seconds apart; then in', { timeout: 60000 }, async () => {
    // Ten refusals: nine quick tries (Chromium's throttle still small), the 10th
    // waits its full 1-5 s; the 11th upgrade gets in.
    front = await startRefusingFront({ refuse: 10, retryAfter: 2, upstream: upstream() });
    const run = await runSoak(['--url', frontUrl('ws'), '--sessions', '1', '--duration', '10', ...account],
      { timeoutMs: 40000, quiet: true });
    const r = run.report;
    assert.ok(r, `no JSON report${why(run)}`);
    assert.equal(r.transport, 'websocket');
    assert.equal(r.sessions_established, 1, why(run));
    assert.equal(r.errors, 0, `errors ${JSON.stringify(r.errors_by_kind)}${why(run)}`);
    assert.deepEqual(r.refused_logins, { refusals: 10, logins: 1, then_in: 1, gave_up: 0, unsettled: 0,
      retry_as: 'converse', honour_retry_after: false }, why(run));
    assert.equal(run.status, 0, why(run));
    const times = front.attempts.ws.map((a) => a.at / 1000);
    assert.equal(times.length, 11, why(run));
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    const burst = gaps.slice(0, 9).reduce((a, b) => a + b, 0);
    assert.ok(burst < 2.5, `the first ten tries within ${burst.toFixed(3)} s${why(run)}`);
    assert.ok(gaps[9] >= 0.95 && gaps[9] <= 5.5, `the 11th try ${gaps[9].toFixed(3)} s after the 10th${why(run)}`);
  });

  test('WebSocket as Strophe alone: the first refusal ends the login', { timeout: 60000 }, async () => {
    front = await startRefusingFront({ refuse: Infinity, retryAfter: 2 });
    const run = await runSoak(['--url', frontUrl('ws'), '--sessions', '2', '--duration', '3', '--retry-as', 'strophe',
      ...account], { timeoutMs: 40000, quiet: true });
    const r = run.report;
    assert.ok(r, `no JSON report${why(run)}`);
    assert.equal(front.attempts.ws.length, 2, why(run));
    assert.deepEqual(r.refused_logins, { refusals: 2, logins: 2, then_in: 0, gave_up: 2, unsettled: 0,
      retry_as: 'strophe', honour_retry_after: false }, why(run));
    assert.deepEqual(r.errors_by_kind, { 'refused_gave_up:http_503': 2 }, why(run));
    assert.equal(run.status, 1, why(run));
  });
});
