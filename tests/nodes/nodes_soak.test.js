'use strict';
// Three switchboard nodes behind HAProxy (deploy/haproxy/haproxy.cfg as
// shipped) in front of one ejabberd: switchboard-soak over BOSH, then over
// WebSocket, through HAProxy. Every session logs in and chats, no error,
// nothing lost; the creations spread over the nodes within 15 % of even
// (docs/nodes.md).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { NodesStack } = require('../lib/haproxy_nodes');
const { runSoak } = require(path.join(__dirname, '..', 'tools', 'lib', 'run_soak'));

const SESSIONS = 60;
const login = ['--user-pattern', 'u%d', '--password', 'p%d', '--domain', 'localhost'];

let stack;
test.before(async () => {
  // n2 runs two workers: its sids read n2.w0./n2.w1., its agent answers from the supervisor.
  stack = new NodesStack({ users: 2 * SESSIONS, settings: { n2: { workers: 2 } } });
  await stack.start();
});
test.after(async () => { if (stack) await stack.stop(); });

function assertClean(run) {
  const r = run.report;
  const why = `\n${run.output}\n${stack.logs()}`;
  assert.ok(r, `no JSON report${why}`);
  assert.equal(r.sessions_established, SESSIONS, why);
  assert.equal(r.errors, 0, `errors ${JSON.stringify(r.errors_by_kind)}${why}`);
  assert.ok(r.messages_sent > 0, why);
  assert.equal(r.messages_lost, 0, why);
  assert.equal(r.messages_duplicated, 0, why);
  assert.equal(r.messages_received, r.messages_sent, why);
  assert.equal(run.status, 0, `exit status${why}`);
}

function assertSpread(before, after, what) {
  const even = SESSIONS / 3;
  const spread = {};
  for (const name of Object.keys(after)) spread[name] = after[name] - before[name];
  for (const [name, n] of Object.entries(spread)) {
    assert.ok(n >= 0.85 * even && n <= 1.15 * even, `${what}: ${name} got ${n} of ${SESSIONS} (${JSON.stringify(spread)})`);
  }
  return spread;
}

for (const transport of ['bosh', 'websocket']) {
  test(`${SESSIONS} ${transport} sessions chat through HAProxy: no error, nothing lost, spread evenly`, async () => {
    const counter = transport === 'bosh' ? 'switchboard_sessions_created_total'
      : 'switchboard_websocket_sessions_created_total';
    const before = await stack.counts(counter);
    const first = transport === 'bosh' ? 1 : SESSIONS + 1;
    const started = Date.now();
    const run = await runSoak(['--url', transport === 'bosh' ? stack.boshUrl : stack.wsUrl, ...login,
      '--first-user', String(first), '--sessions', String(SESSIONS), '--rate', '30', '--msg-rate', '30',
      '--duration', '6', '--wait', '10'], { quiet: true, timeoutMs: 60000 });
    assertClean(run);
    const spread = assertSpread(before, await stack.counts(counter), transport);
    const r = run.report;
    console.log(`# ${transport}: ${r.sessions_established} sessions, ${r.messages_sent} messages, ` +
      `p99 ${r.latency_ms.p99} ms, spread ${JSON.stringify(spread)}, ${Date.now() - started} ms`);
  });
}

test('host-meta through HAProxy: any node answers, naming the URL the browser used', async () => {
  const http = require('node:http');
  const get = () => new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${stack.frontPort}/.well-known/host-meta`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
  for (let i = 0; i < 3; i++) {
    const { status, body } = await get();
    assert.equal(status, 200);
    assert.ok(body.includes(`href="http://127.0.0.1:${stack.frontPort}/http-bind"`) ||
      body.includes(`href='http://127.0.0.1:${stack.frontPort}/http-bind'`), body);
  }
});

// A node killed in the middle of a soak: the sessions of the other two see no
// error (the soak's errors are at most the dead node's sessions, all told
// item-not-found or cut), and neither live node ends a session badly.
for (const transport of ['bosh', 'websocket']) {
  test(`n3 killed during a ${transport} soak: only its sessions end`, async () => {
    const victim = stack.node('n3');
    if (victim.child.hasExited) {
      await victim.start();
      await stack.waitForServers((s) => s.status === 'UP' && s.weight > 0, ['n3']);
    }
    const live = stack.nodes.filter((n) => n !== victim);
    const counter = transport === 'bosh' ? 'switchboard_sessions_created_total'
      : 'switchboard_websocket_sessions_created_total';
    const created = {};
    const badly = {};
    for (const n of live) {
      created[n.name] = await n.metric(counter);
      badly[n.name] = await n.endedBadly();
    }
    const first = transport === 'bosh' ? 1 : SESSIONS + 1;
    let killedAt = 0;
    const run = await runSoak(['--url', transport === 'bosh' ? stack.boshUrl : stack.wsUrl, ...login,
      '--first-user', String(first), '--sessions', String(SESSIONS), '--rate', '40', '--msg-rate', '30',
      '--duration', '7', '--wait', '10', '--max-errors', String(SESSIONS)], {
      quiet: false,
      timeoutMs: 60000,
      onOutput: (text) => {
        // Every session is in (the progress line says 60/60): kill.
        if (!killedAt && new RegExp(`sessions ${SESSIONS}/${SESSIONS}`).test(text)) {
          killedAt = Date.now();
          victim.kill();
        }
      },
    });
    const r = run.report;
    const why = `\n${run.output.slice(-3000)}\n${stack.logs()}`;
    assert.ok(r && killedAt, `no report or no kill${why}`);
    assert.equal(r.sessions_established, SESSIONS, why);
    let onLive = 0;
    for (const n of live) {
      onLive += (await n.metric(counter)) - created[n.name];
      assert.equal(await n.endedBadly(), badly[n.name], `${n.name} ended sessions badly${why}`);
    }
    const onVictim = SESSIONS - onLive;
    assert.ok(onVictim > 0, why);
    // A live session whose partner was on n3 may have a message to that partner
    // bounced by the server (`service-unavailable`: the partner's session is
    // gone): the truth about n3's sessions, told to a live one, at most once a
    // few seconds per partner. Every other error is n3's own sessions'.
    const kinds = r.errors_by_kind || {};
    const bounced = kinds['message_error:service-unavailable'] || 0;
    assert.ok(r.errors - bounced <= onVictim && bounced <= onVictim,
      `${r.errors} errors for ${onVictim} sessions on n3: ${JSON.stringify(kinds)}${why}`);
    console.log(`# ${transport}, n3 killed: ${onVictim} sessions on n3, ${onLive} on n1+n2; soak errors ${r.errors} ` +
      `${JSON.stringify(r.errors_by_kind)}, sessions ended ${r.sessions_ended}; messages ${r.messages_sent} sent, ` +
      `${r.messages_lost} lost, ${r.messages_cut_off || 0} cut off; live nodes ended no session badly`);
  });
}
