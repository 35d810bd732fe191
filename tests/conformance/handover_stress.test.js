'use strict';
// Operation: the hand-over path under stress (docs/operations.md, "Hand-overs
// under load"). Six workers in front of a scripted XMPP server; 80 sessions each
// send a chain of stanzas, every request on a new TCP connection, so five in six
// requests reach a worker that does not own their session and travel through the
// supervisor with their socket. Meanwhile the supervisor is starved twice: it
// runs with a file limit of 64 (prlimit) and is stopped with SIGSTOP for a moment
// while the burst goes on, and one owner is stopped too, so that its hand-overs
// pile up in the supervisor.
//
// Before the fix this reproduced the storm's desync: the supervisor took each
// worker's frames one per loop turn, held every socket it could not yet pass on,
// reached its file limit, received frames without their sockets (MSG_CTRUNC),
// stopped reading those pipes and then killed their healthy workers as hung. Now
// it must hold: every request answered (a 503 from a full relay is retried with
// the same rid, as Strophe.js does), every stanza at the server in order, no
// worker killed or restarted, no frame without its socket, and the supervisor's
// descriptors back where they started.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const integrationLib = path.join(__dirname, '..', 'integration', 'lib');
const { Switchboard } = require('../lib/switchboard');
const { workerProcesses, processAlive } = require(path.join(integrationLib, 'worker_procs.js'));
const { waitUntil } = require('../lib/proc');
const { ScriptedUpstream } = require('../lib/scripted_upstream');
const { BoshSession } = require('../lib/bosh');
const { destroyAllSockets } = require('../lib/raw_http');
const { uniqueDomain, sleep } = require('./lib/stack');

after(() => destroyAllSockets());

const WORKERS = 6;
const SESSIONS = 240;
const STANZAS = 4;          // per session, one request each
const FILLER = 'x'.repeat(12 * 1024);  // a pipe holds ~16 such hand-overs
const SUPERVISOR_FILES = 64;

const openFds = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;

/** Sends request `rid` of `session` until it is answered with anything but a 503 (for 30 s at most). */
async function sendUntilTaken(session, rid, payload, counts) {
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    const reply = await session.send({ rid, payload, timeoutMs: 15000 });
    if (reply.status !== 503) return reply;
    counts.refused += 1;
    await sleep(50 + Math.random() * 200);
  }
  return assert.fail(`request ${rid} of ${session.sid} refused for 30 s`);
}

test('a hand-over burst through a starved supervisor: every request answered, no worker lost', async (t) => {
  const upstream = await new ScriptedUpstream().start();
  const sb = new Switchboard({
    upstreamPort: upstream.port,
    config: { workers: WORKERS, worker_hang_timeout: 3 },
  });
  const stopped = new Set();
  t.after(async () => {
    for (const pid of stopped) if (processAlive(pid)) process.kill(pid, 'SIGCONT');
    destroyAllSockets();
    if (process.env.SB_CONFORMANCE_LOGS) process.stderr.write(`${sb.logs()}\n`);
    const problem = await sb.stop();
    await upstream.stop();
    if (problem) throw new Error(problem);
  });
  await sb.start();
  await sb.waitForLog(new RegExp(`all ${WORKERS} workers listening`));
  const supervisor = sb.child.pid;
  const workers = await waitUntil(`${WORKERS} worker processes`, () => {
    const found = workerProcesses(supervisor);
    return found.length === WORKERS && found;
  });
  // Only the supervisor's limit: its workers keep theirs.
  execFileSync('prlimit', [`--pid=${supervisor}`, `--nofile=${SUPERVISOR_FILES}:${SUPERVISOR_FILES}`]);

  // The sessions, each opened on its own connection (so spread over the workers).
  const sessions = [];
  for (let i = 0; i < SESSIONS; i += 1) {
    const to = uniqueDomain('stress');
    const session = await BoshSession.create(sb.port, to, { wait: '20' });
    sessions.push({ session, conn: await upstream.connection(to) });
  }
  const baseline = openFds(supervisor);

  // Starve one owner, and the supervisor in the middle of it, while the burst runs.
  const owner = workers[1].pid;
  const pause = (pid) => { process.kill(pid, 'SIGSTOP'); stopped.add(pid); };
  const resume = (pid) => { process.kill(pid, 'SIGCONT'); stopped.delete(pid); };
  const starve = (async () => {
    pause(owner);
    await sleep(300);
    pause(supervisor);
    await sleep(1000);
    resume(supervisor);
    await sleep(500);  // 1.8 s in all: below the hang timeout (3 s, a beat every 0.75 s)
    resume(owner);
  })();
  let peakFds = baseline;
  const sampler = setInterval(() => {
    if (!stopped.has(supervisor)) peakFds = Math.max(peakFds, openFds(supervisor));
  }, 20);

  // Each session: a chain of stanzas, one per request; request k releases the
  // held request k-1 (hold 1), which must come back answered.
  const counts = { refused: 0, answered: 0 };
  await Promise.all(sessions.map(async ({ session }, i) => {
    let previous = null;
    for (let k = 1; k <= STANZAS; k += 1) {
      const rid = session.rid + 1;
      const payload = `<message id='s${i}-m${k}' to='peer@example.net'><body>${FILLER}</body></message>`;
      const pending = sendUntilTaken(session, rid, payload, counts);
      if (previous) {
        const reply = await previous;
        assert.equal(reply.status, 200, `session ${i} request ${k - 1}: ${reply.describe()}`);
        assert.equal(reply.type, undefined, `session ${i} request ${k - 1}: ${reply.describe()}`);
        counts.answered += 1;
      }
      previous = pending;
    }
    previous.catch(() => {});  // the last one stays held until the end
  }));
  await starve;
  clearInterval(sampler);

  // Every stanza reached the server, in order, on its session's stream.
  await Promise.all(sessions.map(async ({ conn }, i) => {
    await conn.waitStanza(new RegExp(`id=["']s${i}-m${STANZAS}["']`), 10000);
    const ids = conn.stanzas.map((s) => (/id=["']s\d+-m(\d+)["']/.exec(s) || [])[1]).filter(Boolean);
    assert.deepEqual(ids.map(Number), Array.from({ length: STANZAS }, (_, k) => k + 1),
      `session ${i}: every stanza once, in order`);
  }));

  // No worker was killed or restarted; nothing lost step.
  const now = workerProcesses(supervisor);
  assert.deepEqual(now.map((w) => w.pid).sort(), workers.map((w) => w.pid).sort(), 'the same worker processes');
  const logs = sb.logs();
  assert.doesNotMatch(logs, /hung: no heartbeat/, 'a worker was judged hung');
  assert.doesNotMatch(logs, /without its socket|without a frame|corrupt/, 'a hand-over lost step');
  // The supervisor gives its sockets back: nothing accumulates.
  await waitUntil('the supervisor back to its descriptors', () => openFds(supervisor) <= baseline + 2,
    { timeoutMs: 5000 });
  t.diagnostic(`${counts.answered} requests answered, ${counts.refused} refused with 503 and sent again; ` +
    `supervisor descriptors ${baseline} before, ${peakFds} at most, limit ${SUPERVISOR_FILES}`);
  assert.ok(peakFds < SUPERVISOR_FILES, `the supervisor reached its file limit (${peakFds})`);
});
