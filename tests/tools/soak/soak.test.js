'use strict';
// switchboard-soak against real servers (label `tools`): a private Prosody with
// its own mod_bosh enabled, and a real switchboard in front of Prosody's c2s
// port, both started by the test harness (tests/lib/). Each
// test runs the soak for a few seconds and checks its JSON report and exit status:
//   - through switchboard: every session logs in, every message arrives once;
//   - through switchboard with --drop 0.1: cut connections are resent with the
//     same rid and still nothing is lost, duplicated or reordered;
//   - against Prosody's own mod_bosh: the same login and chat work there too.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { ProsodyServer } = require('../../lib/prosody');
const { Switchboard } = require('../../lib/switchboard');
const { runSoak } = require(path.join(__dirname, '..', 'lib', 'run_soak'));

const USERS = 20;



const login = ['--user-pattern', 'u%d', '--password', 'p%d', '--domain', 'localhost'];

let prosody;
let switchboard;

test.before(async () => {
  prosody = new ProsodyServer({ bosh: true, inactivity: 30 });
  await prosody.start();
  const users = {};
  for (let i = 1; i <= USERS; i++) users[`u${i}`] = `p${i}`;
  prosody.addUsers(users);
  switchboard = new Switchboard({ upstreamPort: prosody.c2sPort });
  await switchboard.start();
});

test.after(async () => {
  const problem = switchboard ? await switchboard.stop() : null;
  if (prosody) await prosody.stop();
  if (problem) throw new Error(problem);
});

function assertClean(run, { sessions }) {
  const r = run.report;
  assert.ok(r, `no JSON report; output:\n${run.output}`);
  const why = `\n${run.output}\n${switchboard.logs()}`;
  assert.equal(r.sessions_established, sessions, why);
  assert.equal(r.errors, 0, `errors ${JSON.stringify(r.errors_by_kind)}${why}`);
  assert.ok(r.messages_sent > 0, why);
  assert.equal(r.messages_received, r.messages_sent, why);
  assert.equal(r.messages_lost, 0, why);
  assert.equal(r.messages_duplicated, 0, why);
  assert.equal(r.messages_reordered, 0, why);
  assert.equal(run.status, 0, `exit status${why}`);
  // The fields the issue promises to scripts.
  for (const k of ['p50', 'p90', 'p99', 'p999', 'max']) assert.equal(typeof r.latency_ms[k], 'number');
  assert.ok(r.latency_ms.max >= r.latency_ms.p50);
  assert.equal(r.timeline.length >= 3, true, why);
}

test('20 PLAIN sessions chat through switchboard in front of Prosody', async () => {
  const run = await runSoak(['--url', switchboard.boshUrl, ...login, '--sessions', String(USERS),
    '--duration', '4', '--rate', '40', '--msg-rate', '40', '--wait', '10', '--quiet']);
  assertClean(run, { sessions: USERS });
  assert.equal(run.report.sessions_ended, 0);
  assert.equal(run.report.drops, 0);
});

test('--drop 0.1 through switchboard: resent rids lose, duplicate and reorder nothing', async () => {
  const run = await runSoak(['--url', switchboard.boshUrl, ...login, '--sessions', String(USERS),
    '--duration', '5', '--rate', '40', '--msg-rate', '60', '--wait', '10', '--drop', '0.1', '--quiet']);
  assertClean(run, { sessions: USERS });
  assert.ok(run.report.drops > 0, 'no connection was cut');
  assert.equal(run.report.resends, run.report.drops);
  assert.equal(run.report.sessions_ended, 0);
});

test('two generator processes (--procs 2) merge into one report', async () => {
  const run = await runSoak(['--url', switchboard.boshUrl, ...login, '--sessions', String(USERS),
    '--duration', '3', '--rate', '40', '--msg-rate', '40', '--wait', '10', '--procs', '2', '--quiet']);
  assertClean(run, { sessions: USERS });
  assert.equal(run.report.generator.procs, 2);
});

test("Prosody's own mod_bosh: the same login and chat", async () => {
  const run = await runSoak(['--url', prosody.boshUrl, ...login, '--sessions', '10', '--duration', '3',
    '--rate', '40', '--msg-rate', '20', '--wait', '10', '--quiet']);
  assertClean(run, { sessions: 10 });
});

test('a bad command line exits with status 2', async () => {
  const run = await runSoak(['--url', 'ftp://nowhere', '--sessions', '1']);
  assert.equal(run.status, 2);
  assert.match(run.output, /--url must start with http/);
});
