'use strict';
// Three switchboard nodes behind HAProxy (deploy/haproxy/haproxy.cfg as
// shipped) in front of ejabberd, with small BOSH clients idling through HAProxy
// (one held poll each, wait 2 s), one after the other in one stack:
//   - n3 is capped (max_sessions = 6): it fills, says 0 % to the agent-check,
//     and the creations go to the others, BOSH and WebSocket; nobody is refused;
//   - n1 drained in HAProxy (`set server … state drain`): no new session, its
//     own sessions go on;
//   - n2 drained by switchboard (`drain = true`, SIGHUP): the same, through the
//     agent's 0 %;
//   - n1 killed (SIGKILL): its clients get item-not-found at once (timed), the
//     other nodes' sessions see no error, and a new login lands on a live node.

const test = require('node:test');
const assert = require('node:assert/strict');

const { NodesStack } = require('../lib/haproxy_nodes');
const { LightBoshSession } = require('../lib/bosh_light_client');
const { sleep, waitUntil } = require('../lib/proc');
const { runSoak } = require('../tools/lib/run_soak');

const CAP = 6;
let stack;
const sessions = [];
let nextUser = 1;

test.before(async () => {
  stack = new NodesStack({ users: 80, settings: { n3: { max_sessions: CAP } } });
  await stack.start();
});
test.after(async () => {
  for (const s of sessions) s.destroy();
  if (stack) await stack.stop();
});

const nodeOf = (s) => s.sid.split('.')[0];

/** Logs `n` new sessions in through HAProxy, a few at a time, and sets them idling. */
async function loginMany(n) {
  const made = [];
  for (let i = 0; i < n; i += 3) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 3); j++) {
      const user = nextUser++;
      const s = new LightBoshSession(stack.boshUrl, { wait: 2 });
      s.user = user;
      batch.push(s.login(`u${user}`, `p${user}`).then(() => s));
    }
    made.push(...await Promise.all(batch));
  }
  for (const s of made) s.startIdling();
  sessions.push(...made);
  return made;
}

function byNode(list) {
  const out = { n1: 0, n2: 0, n3: 0 };
  for (const s of list) out[nodeOf(s)]++;
  return out;
}

function assertHealthy(list, what) {
  const bad = list.filter((s) => s.error);
  assert.equal(bad.length, 0, `${what}: ${bad.map((s) => `${s.sid}: ${s.error.message}`).join('\n')}\n${stack.logs()}`);
}

test(`a node at its cap (${CAP}) says 0 % and the creations go to the others`, async () => {
  const made = await loginMany(24);
  const spread = byNode(made);
  assert.ok(spread.n3 <= CAP, `n3 took ${spread.n3}: ${JSON.stringify(spread)}`);
  assert.equal(spread.n1 + spread.n2 + spread.n3, 24);
  // The node samples its sessions about once a second: the agent follows.
  await waitUntil('n3 says 0 %', async () => (await stack.node('n3').agentLine()) === '0%\n', { timeoutMs: 3000 });
  const servers = await stack.waitForServers((s) => s.weight === 0, ['n3']);
  assert.equal(servers.n3.status, 'UP');
  const refused = await stack.counts('switchboard_http_responses_total{code="503"}');
  console.log(`# cap: ${JSON.stringify(spread)}, n3 agent 0%, 503 answered by nodes (retried by HAProxy): ${JSON.stringify(refused)}`);
  await sleep(2500); // every session's poll comes back once at least
  assertHealthy(sessions, 'after the cap');

  // WebSocket upgrades too go where there is room.
  const wsBefore = await stack.counts('switchboard_websocket_sessions_created_total');
  const run = await runSoak(['--url', stack.wsUrl, '--user-pattern', 'u%d', '--password', 'p%d',
    '--first-user', '71', '--sessions', '9', '--rate', '20', '--duration', '2'], { quiet: true, timeoutMs: 30000 });
  assert.ok(run.report, run.output);
  assert.equal(run.report.errors, 0, `${JSON.stringify(run.report.errors_by_kind)}\n${run.output}`);
  assert.equal(run.report.sessions_established, 9);
  const wsAfter = await stack.counts('switchboard_websocket_sessions_created_total');
  assert.equal(wsAfter.n3 - wsBefore.n3, 0, 'a WebSocket session on the full node');
});

test('a node drained in HAProxy keeps its sessions and takes no new ones', async () => {
  const own = sessions.filter((s) => nodeOf(s) === 'n1');
  assert.ok(own.length > 0);
  const polls = own.map((s) => s.polls);
  assert.match(await stack.command('set server switchboard/n1 state drain'), /^\s*$/);
  const drained = (s) => s.status.startsWith('DRAIN');
  await stack.waitForServers(drained, ['n1']);
  await sleep(1500); // two agent checks: they must not lift the operator's drain
  assert.ok(drained((await stack.servers()).n1), 'the agent lifted the drain');
  const made = await loginMany(6);
  assert.deepEqual(byNode(made), { n1: 0, n2: 6, n3: 0 });
  await sleep(2500);
  assertHealthy(sessions, 'n1 drained');
  own.forEach((s, i) => assert.ok(s.polls > polls[i], `${s.sid} did not poll while drained`));
  await stack.command('set server switchboard/n1 state ready');
  await stack.waitForServers((s) => s.status === 'UP' && s.weight > 0, ['n1']);
});

test('drain = true (SIGHUP) makes the agent say 0 %: no new sessions, the old ones go on', async () => {
  const n2 = stack.node('n2');
  const own = sessions.filter((s) => nodeOf(s) === 'n2');
  await n2.setDrain(true);
  assert.equal(await n2.agentLine(), '0%\n');
  await stack.waitForServers((s) => s.weight === 0, ['n2']);
  const made = await loginMany(6);
  assert.deepEqual(byNode(made), { n1: 6, n2: 0, n3: 0 });
  await sleep(2500);
  assertHealthy(own, 'n2 drained');
  await n2.setDrain(false);
  assert.notEqual(await n2.agentLine(), '0%\n');
  await stack.waitForServers((s) => s.weight > 0, ['n2']);
});

test('the sid is found with either quote, after an XML declaration, and not in a stanza', async () => {
  // A session of its own (not idling), so the test owns its rids.
  const s = new LightBoshSession(stack.boshUrl, { wait: 1 });
  await s.login(`u${nextUser}`, `p${nextUser}`);
  nextUser++;
  const ns = 'http://jabber.org/protocol/httpbind';
  const other = ['n1', 'n2', 'n3'].find((n) => n !== nodeOf(s));
  const bodies = [
    `<?xml version='1.0' encoding='utf-8'?>\n<body rid="${s.rid++}" sid="${s.sid}" xmlns="${ns}"/>`,
    `<body\n  xmlns='${ns}'\n  rid='${s.rid++}'\tsid='${s.sid}'/>`,
    // Another node's sid in a stanza (XEP-0047 names an attribute sid) must not route.
    `<body rid='${s.rid++}' sid='${s.sid}' xmlns='${ns}'><iq type='set' id='x' xmlns='jabber:client'>` +
      `<open xmlns='http://jabber.org/protocol/ibb' sid='${other}.x' block-size='4096'/></iq></body>`,
  ];
  for (const xml of bodies) {
    const text = await s.send(xml);
    assert.match(text, /^<body\b/, xml);
  }
  s.destroy();
});

test('a killed node touches only its sessions; its clients get item-not-found and log in again elsewhere', async () => {
  const victims = sessions.filter((s) => nodeOf(s) === 'n1');
  const others = sessions.filter((s) => nodeOf(s) !== 'n1');
  assert.ok(victims.length > 0 && others.length > 0);
  const polls = others.map((s) => s.polls);
  const killedAt = Date.now();
  stack.node('n1').kill();

  // Each victim's held poll ends with item-not-found (HAProxy's answer for a
  // node that died under a held request, or a live node's for a sid it does not
  // know): when did the last one learn it?
  const learned = new Map();
  const watching = (async () => {
    while (learned.size < victims.length && Date.now() - killedAt < 10000) {
      for (const s of victims) if (s.error && !learned.has(s)) learned.set(s, Date.now() - killedAt);
      await sleep(5);
    }
  })();
  // A new request of a dead session at once, before HAProxy's checks have
  // seen anything: its connection to n1 is refused and redispatched.
  const early = new LightBoshSession(stack.boshUrl, { wait: 2 });
  early.sid = victims[0].sid;
  early.rid = 1;
  await sleep(50);
  const earlyAt = Date.now();
  await assert.rejects(early.post({}), /item-not-found/);
  const earlyMs = Date.now() - earlyAt;
  early.destroy();
  await watching;
  for (const s of victims) {
    assert.ok(s.error, `${s.sid}: no answer 10 s after the kill`);
    assert.match(s.error.message, /item-not-found/, s.sid);
  }
  const times = [...learned.values()].sort((a, b) => a - b);

  // A request of a dead session after HAProxy has marked the node down.
  const down = await stack.waitForServers((s) => s.status.startsWith('DOWN'), ['n1']);
  const probe = new LightBoshSession(stack.boshUrl, { wait: 2 });
  probe.sid = victims[0].sid;
  const askedAt = Date.now();
  await assert.rejects(probe.post({}), /item-not-found/);
  const nextRequestMs = Date.now() - askedAt;
  probe.destroy();

  await sleep(3000);
  assertHealthy(others, 'the other nodes after the kill');
  others.forEach((s, i) => assert.ok(s.polls > polls[i], `${s.sid} stopped polling`));

  // The dead node's users log in again: a live node takes each.
  for (const s of victims) s.destroy();
  const again = [];
  for (const s of victims) {
    const fresh = new LightBoshSession(stack.boshUrl, { wait: 2 });
    await fresh.login(`u${s.user}`, `p${s.user}`);
    again.push(fresh);
  }
  sessions.push(...again);
  assert.equal(byNode(again).n1, 0);
  console.log(`# kill: ${victims.length} sessions on n1, item-not-found after ${times[0]}-${times[times.length - 1]} ms ` +
    `(held polls); a new request 50 ms after the kill answered in ${earlyMs} ms; next request after DOWN (${JSON.stringify(down.n1)}) answered in ${nextRequestMs} ms; ` +
    `${others.length} other sessions: 0 errors; logged in again: ${JSON.stringify(byNode(again))}`);
});
