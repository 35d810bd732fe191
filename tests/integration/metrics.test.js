'use strict';
// Prometheus metrics of two workers in front of a private Prosody:
//
//   1. before any traffic /metrics already passes `promtool check metrics`
//      (Debian package prometheus) and shows two workers and no session;
//   2. four Strophe clients log in (through both workers: the kernel spreads
//      their connections, and hand-overs move requests to their session's
//      owner), two of them chat, one logs out;
//   3. the scrape passes promtool again and its numbers are what the test did:
//      4 sessions created, 3 open, 1 ended (no condition), 4 creation requests
//      and 1 terminate, 3 upstream connections, every request answered once
//      (responses = requests + refusals, less those still held), stanzas both ways;
//   4. kill -9 of the worker owning a session: the supervisor starts it again,
//      the counters do not go down (its counts are kept), its sessions count as
//      ended with "worker-lost", and one worker restart is counted;
//   5. a real Prometheus scrapes the endpoint and answers a query with the
//      same number of created sessions.
//
// Steps depend on each other: after a failure the rest are skipped.

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, it, before, after } = require('node:test');
const { startStack, direct } = require('./lib/stack');
const { XmppClient, bare } = require('./lib/strophe_client');
const { scrape, promtoolCheck, total, get } = require('./lib/metrics');
const { freePort } = require('../lib/ports');
const { startLogged, waitForPort, stopProcess, tail, sleep } = require('../lib/proc');
const { workerProcesses } = require('./lib/worker_procs');

const USERS = { alice: 'pw-a', bob: 'pw-b', carol: 'pw-c', dave: 'pw-d' };

async function waitUntil(what, predicate, { timeoutMs = 10000, everyMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await predicate();
    if (last && last.ok) return last;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms: ${what}${last && last.why ? `: ${last.why}` : ''}`);
    await sleep(everyMs);
  }
}


const workerOfSid = (sid) => Number((/^w(\d+)\./.exec(sid || '') || [])[1]);

describe('metrics: /metrics over two workers, checked by promtool and by Prometheus', { skip: direct && 'switchboard only' }, () => {
  let stack;
  let clients = [];
  let failed = null;
  const step = (name, fn) => it(name, async (t) => {
    if (failed) return t.skip(`an earlier step failed: ${failed}`);
    try {
      await fn();
    } catch (err) {
      failed = name;
      if (stack) err.message += `\n${stack.logs()}`;
      throw err;
    }
  });

  before(async () => {
    stack = await startStack({
      server: 'prosody', users: USERS, friends: ['alice', 'bob'],
      settings: { workers: 2, inactivity: 30 }, metrics: true,
    });
  });

  after(async () => {
    for (const client of clients) await client.close().catch(() => {});
    if (stack) await stack.stop();
  });

  step('before any traffic: promtool passes, two workers, no session', async () => {
    const { text, samples } = await waitUntil('both workers in the metrics', async () => {
      const got = await scrape(stack.switchboard.metricsUrl);
      return { ok: got.samples.switchboard_workers === 2, ...got, why: `workers ${got.samples.switchboard_workers}` };
    });
    const lint = promtoolCheck(text);
    assert.ok(lint.ok, `promtool check metrics:\n${lint.output}\n${text}`);
    assert.equal(samples.switchboard_sessions, 0);
    assert.equal(samples.switchboard_sessions_created_total, 0);
    // The version the binary reports (`switchboard 0.2.0`) is the label's.
    const version = execFileSync(stack.switchboard.binary, ['--version'], { encoding: 'utf8' }).trim().split(' ')[1];
    assert.equal(samples[`switchboard_build_info{version="${version}"}`], 1);
    assert.ok(samples.process_resident_memory_bytes > 0);
    assert.ok(samples.process_open_fds > 0 && samples.process_max_fds > samples.process_open_fds);
    const res = await get(stack.switchboard.metricsUrl.replace('/metrics', '/other'));
    assert.equal(res.status, 404);
  });

  step('four clients log in, two chat, one logs out', async () => {
    clients = Object.keys(USERS).map((name) => new XmppClient(stack.boshUrl, { name, wait: 5 }));
    await Promise.all(clients.map((c) => c.connect(`${c.name}@localhost`, USERS[c.name])));
    const [alice, bob] = clients;
    alice.sendPresence();
    bob.sendPresence();
    alice.sendMessage(bare(bob.jid), 'counted');
    await bob.waitForMessage({ from: bare(alice.jid), body: 'counted' });
    await clients[3].disconnect();
  });

  step('the numbers are what the clients did, and promtool still passes', async () => {
    const { text, samples } = await waitUntil('3 open sessions sampled, every request answered', async () => {
      const got = await scrape(stack.switchboard.metricsUrl);
      const s = got.samples;
      const requests = total(s, 'switchboard_requests_total');
      const refused = total(s, 'switchboard_refused_requests_total');
      const responses = total(s, 'switchboard_http_responses_total');
      // Every request is answered once, but not yet the ones still held or
      // waiting: at most hold + 1 = 2 per open session.
      const ok = s.switchboard_sessions === 3 && s.switchboard_upstream_connections === 3 &&
        responses <= requests + refused && responses >= requests + refused - 2 * 3 &&
        s.switchboard_held_requests >= 1;
      return { ok, ...got, why: `sessions ${s.switchboard_sessions}, links ${s.switchboard_upstream_connections}, ` +
        `responses ${responses} vs requests ${requests} + refused ${refused}, held ${s.switchboard_held_requests}` };
    });
    const lint = promtoolCheck(text);
    assert.ok(lint.ok, `promtool check metrics:\n${lint.output}`);
    assert.equal(samples.switchboard_sessions_created_total, 4);
    assert.equal(total(samples, 'switchboard_sessions_ended_total'), 1);
    assert.equal(samples['switchboard_sessions_ended_total{condition="none"}'], 1);
    assert.equal(samples['switchboard_requests_total{kind="create"}'], 4);
    assert.equal(samples['switchboard_requests_total{kind="terminate"}'], 1);
    assert.ok(samples['switchboard_requests_total{kind="restart"}'] >= 4, 'one restart per login');
    assert.ok(samples['switchboard_requests_total{kind="payload"}'] >= 4 * 3, 'auth, bind, session at least');
    // Strophe may send one more empty poll with the old sid after its
    // terminate, before it has read the terminate's answer; switchboard
    // refuses that one as an unknown sid, which is right. Nothing else is
    // refused.
    const unknownSid = samples['switchboard_refused_requests_total{reason="unknown_sid"}'];
    assert.ok(unknownSid <= 1, `unknown_sid refusals ${unknownSid}`);
    assert.equal(total(samples, 'switchboard_refused_requests_total') - unknownSid, 0);
    assert.equal(samples['switchboard_upstream_connect_seconds_count'], 4);
    assert.equal(samples['switchboard_upstream_connect_seconds_bucket{le="+Inf"}'], 4);
    assert.equal(samples.switchboard_upstream_connect_failures_total, 0);
    assert.ok(samples['switchboard_stanzas_total{direction="to_server"}'] >= 4 * 3 + 3);
    assert.ok(samples['switchboard_stanzas_total{direction="from_server"}'] >= 4 * 3);
    assert.ok(samples['switchboard_upstream_bytes_total{direction="to_server"}'] > 1000);
    assert.ok(samples['switchboard_upstream_bytes_total{direction="from_server"}'] > 1000);
    assert.equal(samples['switchboard_worker_restarts_total{reason="exited"}'], 0);
    assert.equal(samples['switchboard_worker_restarts_total{reason="hung"}'], 0);
  });

  step('kill -9 of a worker: counters do not go down, its sessions count as lost', async () => {
    const before = (await scrape(stack.switchboard.metricsUrl)).samples;
    const open = clients.slice(0, 3);
    const owners = open.map((c) => workerOfSid(c.conn._proto.sid));
    const victim = owners[0];
    const lost = owners.filter((w) => w === victim).length;
    const worker = workerProcesses(stack.switchboard.child.pid).find((w) => w.index === victim);
    assert.ok(worker, `worker ${victim} not found`);
    process.kill(worker.pid, 'SIGKILL');
    const { samples } = await waitUntil('the worker restarted and its sessions counted as lost', async () => {
      const got = await scrape(stack.switchboard.metricsUrl);
      const s = got.samples;
      const restarts = s['switchboard_worker_restarts_total{reason="exited"}'];
      const ok = restarts === 1 && s['switchboard_worker_restarts_total{reason="hung"}'] === 0 && s.switchboard_workers === 2 &&
        s['switchboard_sessions_ended_total{condition="worker-lost"}'] === lost;
      return { ok, ...got, why: `restarts ${restarts}, workers ${s.switchboard_workers}, lost ${s['switchboard_sessions_ended_total{condition="worker-lost"}']} of ${lost}` };
    }, { timeoutMs: 15000 });
    assert.equal(samples.switchboard_sessions_created_total, 4);
    for (const [key, value] of Object.entries(before)) {
      if (!key.includes('_total') || key.startsWith('process_')) continue;
      assert.ok(samples[key] >= value, `${key} went down: ${value} -> ${samples[key]}`);
    }
    const lint = promtoolCheck((await scrape(stack.switchboard.metricsUrl)).text);
    assert.ok(lint.ok, lint.output);
  });

  step('a real Prometheus scrapes it and sees the same numbers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-prometheus-'));
    const port = await freePort();
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: switchboard',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${stack.switchboard.metricsPort}"]`,
      '',
    ].join('\n'));
    const logFile = path.join(dir, 'prometheus.log');
    const child = startLogged('prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ], { logFile, cwd: dir });
    try {
      await waitForPort(port, { child, timeoutMs: 20000, what: 'prometheus' });
      const query = async (expr) => {
        const res = await get(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
        if (res.status !== 200) return null;  // 503 while it starts up
        const body = JSON.parse(res.text);
        return body.status === 'success' && body.data.result.length > 0 ? Number(body.data.result[0].value[1]) : null;
      };
      await waitUntil('Prometheus scraped switchboard', async () => {
        const up = await query('up{job="switchboard"}');
        const created = await query('switchboard_sessions_created_total');
        return { ok: up === 1 && created === 4, why: `up ${up}, created ${created}` };
      }, { timeoutMs: 20000, everyMs: 500 });
      assert.equal(await query('sum(switchboard_sessions_ended_total)'), 1 + (await query('switchboard_sessions_ended_total{condition="worker-lost"}')));
    } catch (err) {
      err.message += `\n--- prometheus log ---\n${tail(logFile, 30)}`;
      throw err;
    } finally {
      await stopProcess(child, { timeoutMs: 5000 });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
