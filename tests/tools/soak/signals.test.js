'use strict';
// switchboard-soak under signals (label `tools`), through switchboard to the
// scale-test stub: a run ended or held from outside keeps its figures.
//   - SIGUSR1 stops the login ramp: no new session starts, those online stay
//     up and keep chatting; then SIGTERM ends the run: the sessions are closed
//     and the summary and JSON report are written, saying so; nothing is lost.
//     With --procs 2 the parent forwards both signals to its children.
//   - SIGINT (Ctrl-C) in one process does the same as SIGTERM.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { useStubAndSwitchboard } = require(path.join(__dirname, '..', 'lib', 'stub_stack'));
const { runSoak } = require(path.join(__dirname, '..', 'lib', 'run_soak'));

const SESSIONS = 600;
const args = (url, procs) => ['--url', url, '--sessions', String(SESSIONS), '--rate', '100', '--duration', '60',
  '--msg-rate', '20', '--hold', '1', '--procs', String(procs), '--user-pattern', 'u%d', '--password', 'p%d'];

/** The last progress line's session count in `output`. */
function online(output) {
  const all = [...output.matchAll(/sessions (\d+)\/\d+/g)];
  return all.length ? Number(all[all.length - 1][1]) : 0;
}

test.describe('switchboard-soak: SIGUSR1 holds the ramp, SIGTERM and SIGINT end the run with its reports', () => {
  const stack = useStubAndSwitchboard();
  const logs = () => stack.logs();

  test('--procs 2: SIGUSR1 at 100+ sessions holds the count, SIGTERM ends it', { timeout: 60000 }, async () => {
    let held = null;    // sessions online when SIGUSR1 went out
    let settled = null; // 2.5 s later: the logins in flight then are done
    let later = null;   // 4.5 s later: no session started since
    let seen = '';      // the output so far
    const started = Date.now();
    const run = await runSoak(args(stack.switchboard.boshUrl, 2), {
      timeoutMs: 50000,
      onOutput: (output, child) => {
        seen = output;
        if (held === null && online(seen) >= 100) {
          held = online(seen);
          child.kill('SIGUSR1');
          setTimeout(() => { settled = online(seen); }, 2500);
          setTimeout(() => { later = online(seen); child.kill('SIGTERM'); }, 4500);
        }
      },
    });
    const why = `\n${run.output}\n${logs()}`;
    const r = run.report;
    assert.ok(r, `no JSON report${why}`);
    assert.ok(Date.now() - started < 30000, `the run ended at SIGTERM, not after --duration${why}`);
    assert.equal(r.stopped_early, true, why);
    assert.equal(r.ramp_stopped, true, why);
    // At most a second's logins (100/s, plus those in flight) after SIGUSR1, and
    // none once it has been forwarded.
    assert.ok(r.sessions_established < SESSIONS, why);
    assert.ok(r.sessions_established <= held + 110, `established ${r.sessions_established}, held ${held}${why}`);
    assert.equal(r.sessions_established, r.login_attempts, `every session started logged in${why}`);
    assert.ok(settled !== null && later === settled, `online ${settled}, then ${later}: no login after the ramp stopped${why}`);
    assert.equal(r.sessions_established, settled, why);
    assert.equal(r.errors, 0, `errors ${JSON.stringify(r.errors_by_kind)}${why}`);
    assert.ok(r.messages_sent > 0, why);
    assert.equal(r.messages_lost, 0, why);
    assert.equal(r.messages_duplicated, 0, why);
    assert.match(run.output, /stopped early by a signal/, why);
    assert.equal(run.status, 0, `a run stopped on purpose with nothing wrong exits 0${why}`);
  });

  test('one process: SIGINT ends the run with its report', { timeout: 60000 }, async () => {
    let sent = false;
    const run = await runSoak(args(stack.switchboard.boshUrl, 1), {
      timeoutMs: 50000,
      onOutput: (output, child) => {
        if (!sent && online(output) >= 50) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    const why = `\n${run.output}\n${logs()}`;
    const r = run.report;
    assert.ok(r, `no JSON report${why}`);
    assert.equal(r.stopped_early, true, why);
    assert.ok(r.sessions_established >= 50 && r.sessions_established < SESSIONS, why);
    assert.equal(r.sessions_established, r.login_attempts, why);
    assert.equal(r.errors, 0, why);
    assert.equal(r.messages_lost, 0, why);
    assert.equal(run.status, 0, why);
  });
});
