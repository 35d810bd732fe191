'use strict';
// switchboard-soak --transport websocket (RFC 7395) against real servers (label
// `tools`): switchboard's /xmpp-websocket in front of a real Prosody and a real
// ejabberd, Prosody's own mod_websocket and ejabberd's own ejabberd_http_ws, all
// started privately by the test harness (tests/lib/). Each
// test runs the soak for a few seconds and checks its JSON report and exit
// status:
//   - every session logs in over WebSocket, every message arrives exactly once;
//   - --drop: the sessions cut end (WebSocket has no resume), are counted as
//     ended, not as errors, and nothing else is lost;
//   - the server sees every session go at the end (ejabberd's connected_users);
//   - a refused handshake (wrong path) is an error of kind http_<status>;
//   - the generator's idle memory per WebSocket session stays within 2 KB and
//     one socket (2,000 sessions through switchboard to the scale-test stub,
//     which logs in fast enough for the count on a busy machine).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { ProsodyServer } = require('../../lib/prosody');
const { EjabberdServer } = require('../../lib/ejabberd');
const { Switchboard } = require('../../lib/switchboard');
const { startStub } = require(path.join(__dirname, '..', 'lib', 'stub_process'));
const { runSoak } = require(path.join(__dirname, '..', 'lib', 'run_soak'));

const USERS = 20;
const login = ['--user-pattern', 'u%d', '--password', 'p%d', '--domain', 'localhost'];

function assertClean(run, { sessions, logs }) {
  const r = run.report;
  const why = `\n${run.output}\n${logs()}`;
  assert.ok(r, `no JSON report${why}`);
  assert.equal(r.transport, 'websocket', why);
  assert.equal(r.sessions_established, sessions, why);
  assert.equal(r.errors, 0, `errors ${JSON.stringify(r.errors_by_kind)}${why}`);
  assert.ok(r.messages_sent > 0, why);
  assert.equal(r.messages_received, r.messages_sent - r.messages_cut_off, why);
  assert.equal(r.messages_lost, 0, why);
  assert.equal(r.messages_duplicated, 0, why);
  assert.equal(r.messages_reordered, 0, why);
  assert.equal(run.status, 0, `exit status${why}`);
  for (const k of ['p50', 'p90', 'p99', 'p999', 'max']) assert.equal(typeof r.latency_ms[k], 'number');
}

test.describe("Prosody's own mod_websocket", () => {
  let prosody;
  test.before(async () => {
    prosody = new ProsodyServer({ websocket: true });
    await prosody.start();
    const users = {};
    for (let i = 1; i <= USERS; i++) users[`u${i}`] = `p${i}`;
    prosody.addUsers(users);
  });
  test.after(async () => { if (prosody) await prosody.stop(); });
  const logs = () => prosody.logs();

  test('20 PLAIN sessions chat over WebSocket, one connection each', async () => {
    const run = await runSoak(['--url', prosody.wsUrl, ...login, '--sessions', String(USERS),
      '--duration', '4', '--rate', '40', '--msg-rate', '40', '--roster'], { quiet: true });
    assertClean(run, { sessions: USERS, logs });
    assert.equal(run.report.connections, USERS);
    assert.equal(run.report.sessions_ended, 0);
    assert.equal(run.report.messages_cut_off, 0);
  });

  test('--drop 0.3: cut sessions end and are counted, nothing else is lost', async () => {
    const run = await runSoak(['--url', prosody.wsUrl, ...login, '--sessions', String(USERS),
      '--duration', '6', '--rate', '40', '--msg-rate', '60', '--drop', '0.3'], { quiet: true });
    assertClean(run, { sessions: USERS, logs });
    assert.ok(run.report.drops > 0, `no session was cut\n${run.output}`);
    assert.equal(run.report.sessions_ended, run.report.drops);
  });

  test('a refused handshake counts as http_<status>, and the run fails', async () => {
    const url = prosody.wsUrl.replace('/xmpp-websocket', '/no-such-endpoint');
    const run = await runSoak(['--url', url, '--transport', 'websocket', ...login, '--sessions', '2',
      '--duration', '2', '--rate', '10'], { quiet: true });
    assert.ok(run.report, run.output);
    assert.equal(run.report.sessions_established, 0);
    assert.equal(run.report.errors_by_kind.http_404, 2, run.output);
    assert.equal(run.status, 1);
  });
});

test.describe("ejabberd's own WebSocket", () => {
  let ejabberd;
  test.before(async () => {
    ejabberd = new EjabberdServer({});
    await ejabberd.start();
    const users = {};
    for (let i = 1; i <= USERS; i++) users[`u${i}`] = `p${i}`;
    await ejabberd.addUsers(users);
  });
  test.after(async () => { if (ejabberd) await ejabberd.stop(); });

  test('20 PLAIN sessions chat, and ejabberd sees every session go at the end', async () => {
    const run = await runSoak(['--url', ejabberd.wsUrl, ...login, '--sessions', String(USERS),
      '--duration', '4', '--rate', '40', '--msg-rate', '40'], { quiet: true });
    assertClean(run, { sessions: USERS, logs: () => ejabberd.logs() });
    let connected = await ejabberd.connectedUsers();
    for (let i = 0; i < 20 && connected.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      connected = await ejabberd.connectedUsers();
    }
    assert.deepEqual(connected, []);
  });
});

test.describe('through switchboard in front of Prosody', () => {
  let prosody;
  let switchboard;
  test.before(async () => {
    prosody = new ProsodyServer({});
    await prosody.start();
    const users = {};
    for (let i = 1; i <= USERS; i++) users[`u${i}`] = `p${i}`;
    prosody.addUsers(users);
    switchboard = new Switchboard({ upstreamPort: prosody.c2sPort, settings: { log_level: 'warn' } });
    await switchboard.start();
  });
  test.after(async () => {
    const problem = switchboard ? await switchboard.stop() : null;
    if (prosody) await prosody.stop();
    if (problem) throw new Error(problem);
  });
  const logs = () => `${switchboard.logs()}\n${prosody.logs()}`;

  test('20 PLAIN sessions chat through /xmpp-websocket', async () => {
    const run = await runSoak(['--url', switchboard.wsUrl, ...login, '--sessions', String(USERS),
      '--duration', '4', '--rate', '40', '--msg-rate', '40', '--roster'], { quiet: true });
    assertClean(run, { sessions: USERS, logs });
    assert.equal(run.report.connections, USERS);
    assert.equal(run.report.sessions_ended, 0);
  });

  test('--drop 0.3 through switchboard: cut sessions end, nothing else is lost', async () => {
    const run = await runSoak(['--url', switchboard.wsUrl, ...login, '--sessions', String(USERS),
      '--duration', '6', '--rate', '40', '--msg-rate', '60', '--drop', '0.3'], { quiet: true });
    assertClean(run, { sessions: USERS, logs });
    assert.ok(run.report.drops > 0, `no session was cut\n${run.output}`);
    assert.equal(run.report.sessions_ended, run.report.drops);
  });
});

test.describe('through switchboard in front of ejabberd', () => {
  let ejabberd;
  let switchboard;
  test.before(async () => {
    ejabberd = new EjabberdServer({});
    await ejabberd.start();
    const users = {};
    for (let i = 1; i <= USERS; i++) users[`u${i}`] = `p${i}`;
    await ejabberd.addUsers(users);
    switchboard = new Switchboard({ upstreamPort: ejabberd.c2sPort, settings: { log_level: 'warn' } });
    await switchboard.start();
  });
  test.after(async () => {
    const problem = switchboard ? await switchboard.stop() : null;
    if (ejabberd) await ejabberd.stop();
    if (problem) throw new Error(problem);
  });

  test('20 PLAIN sessions chat, and ejabberd sees every session go at the end', async () => {
    const run = await runSoak(['--url', switchboard.wsUrl, ...login, '--sessions', String(USERS),
      '--duration', '4', '--rate', '40', '--msg-rate', '40'], { quiet: true });
    assertClean(run, { sessions: USERS, logs: () => `${switchboard.logs()}\n${ejabberd.logs()}` });
    let connected = await ejabberd.connectedUsers();
    for (let i = 0; i < 20 && connected.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      connected = await ejabberd.connectedUsers();
    }
    assert.deepEqual(connected, []);
  });
});

test('idle generator memory: at most 2 KB of RSS and one socket per WebSocket session', { timeout: 120000 }, async (t) => {
  const stub = await startStub(['--log-level', 'warn']);
  const switchboard = new Switchboard({ upstreamPort: stub.port, settings: { log_level: 'warn' } });
  t.after(async () => {
    const problem = await switchboard.stop();
    await stub.stop();
    if (problem) throw new Error(problem);
  });
  await switchboard.start();
  const run = await runSoak(['--url', switchboard.wsUrl, ...login, '--sessions', '2000', '--duration', '15',
    '--rate', '400', '--msg-rate', '0', '--drain', '0'], { quiet: true, timeoutMs: 90000 });
  const g = run.report && run.report.generator;
  assert.ok(g, run.output);
  assert.equal(run.report.sessions_established, 2000, `${run.output}\n${switchboard.logs()}`);
  assert.equal(g.sessions_measured, 2000, run.output);
  // Under the sanitizers (scripts/sanitize.sh) RSS holds ASan's shadow and
  // quarantine: the byte figure means nothing there, the socket count still does.
  if (process.env.SB_SANITIZED !== '1') {
    assert.ok(g.bytes_per_session > 0 && g.bytes_per_session <= 2048, `bytes per session ${g.bytes_per_session}\n${run.output}`);
  }
  assert.ok(Math.abs(g.fds_per_session - 1) < 0.01, `fds per session ${g.fds_per_session}`);
});
