'use strict';
// Several worker processes (`--workers 4`) in front of a private Prosody:
//
//   1. the supervisor runs four workers, each listening on the same port;
//   2. Strophe clients, each with its own keep-alive connections, log in; the
//      kernel spreads their connections over the workers, so their sessions
//      belong to different workers (the sid prefix "w<I>." says which);
//   3. they chat across workers; Strophe's second connection often lands on a
//      worker that does not own the session and is handed over to the owner;
//   4. a raw BOSH client opens a new TCP connection for every request, so most
//      of its requests reach a worker that is not the owner: each is handed over
//      with its connection, and the client logs in and chats all the same;
//   5. kill -9 of one worker: the supervisor starts it again, which takes up
//      its sessions from the worker's keeper (docs/crash.md): they chat on as
//      the others do, and a new session on the restarted worker works;
//   6. SIGTERM to the supervisor ends every process within a few seconds.
//
// Steps depend on each other: after a failure the rest are skipped, and the
// failing step's error carries the Switchboard and Prosody logs.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const { describe, it, before, after } = require('node:test');
const { startStack, direct } = require('./lib/stack');
const { XmppClient, withTimeout, bare } = require('./lib/strophe_client');
const { sleep, waitUntil } = require('../lib/proc');
const { workerProcesses, processAlive, workerOfSid } = require('./lib/worker_procs');

const WORKERS = 4;
const WAIT = 10; // BOSH wait of the Strophe clients, in seconds
const NS_BOSH = 'http://jabber.org/protocol/httpbind';


const xmlEscape = (s) => String(s).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' }[c]));

/**
 * A minimal BOSH client that sends every request on a new TCP connection (as a
 * browser may, after its keep-alive connections timed out), one request at a
 * time. Requests alternate between "Connection: close" and keep-alive on a fresh
 * agent that is dropped after the answer, so both kinds are handed over.
 */
class RawBoshClient {
  constructor(boshUrl, { name = 'raw', wait = 2 } = {}) {
    this.url = new URL(boshUrl);
    this.name = name;
    this.wait = wait;
    this.rid = 1000000 + Math.floor(Math.random() * 1000000);
    this.sid = null;
    this.inbox = []; // every child element received, in order
    this.requests = 0;
  }

  /** POSTs one <body/> on a new connection; resolves with the parsed <body/> element. */
  post(attrs, payload = '') {
    const attrText = Object.entries({ rid: this.rid++, ...(this.sid ? { sid: this.sid } : {}), ...attrs })
      .map(([k, v]) => ` ${k}='${xmlEscape(v)}'`).join('');
    const data = `<body${attrText} xmlns='${NS_BOSH}' xmlns:xmpp='urn:xmpp:xbosh'>${payload}</body>`;
    const keepAlive = this.requests++ % 2 === 1;
    const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
    const answer = new Promise((resolve, reject) => {
      const req = http.request({
        host: this.url.hostname,
        port: this.url.port,
        path: this.url.pathname,
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(data) },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`${this.name}: HTTP ${res.statusCode}: ${text}`));
          const body = new globalThis.DOMParser().parseFromString(text, 'text/xml').documentElement;
          if (!body || body.localName !== 'body') return reject(new Error(`${this.name}: not a <body/>: ${text}`));
          resolve(body);
        });
      });
      req.on('error', reject);
      req.end(data);
    });
    return withTimeout(answer, (this.wait + 10) * 1000, `${this.name}: answer to rid ${this.rid - 1}`).finally(() => {
      if (agent) agent.destroy();
    });
  }

  /** Sends one request and files what came back; rejects on a terminal body. */
  async exchange(attrs, payload) {
    const body = await this.post(attrs, payload);
    if (body.getAttribute('sid')) this.sid = body.getAttribute('sid');
    if (body.getAttribute('type') === 'terminate') {
      const error = new Error(`${this.name}: session ended: ${body.getAttribute('condition')}`);
      error.condition = body.getAttribute('condition');
      throw error;
    }
    for (const child of Array.from(body.childNodes)) if (child.nodeType === 1) this.inbox.push(child);
    return body;
  }

  /** Polls (empty requests) until an element of the inbox matches; returns it and drops it. */
  async receive(what, match, { timeoutMs = 15000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.inbox.findIndex(match);
      if (at >= 0) return this.inbox.splice(at, 1)[0];
      if (Date.now() > deadline) assert.fail(`${this.name}: timed out waiting for ${what}`);
      await this.exchange({});
    }
  }

  /** Creates the session only (one request); returns its sid. */
  async create(domain) {
    await this.exchange({ to: domain, 'xml:lang': 'en', wait: this.wait, hold: 1, ver: '1.6', 'xmpp:version': '1.0' });
    return this.sid;
  }

  /** SASL PLAIN, stream restart, resource bind: resolves with the full JID. */
  async login(user, password, domain) {
    if (!this.sid) await this.create(domain);
    await this.receive('SASL mechanisms', (el) => el.localName === 'features');
    const auth = Buffer.from(`\0${user}\0${password}`).toString('base64');
    await this.exchange({}, `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
    const outcome = await this.receive('SASL outcome', (el) => el.localName === 'success' || el.localName === 'failure');
    assert.equal(outcome.localName, 'success', `${this.name}: SASL`);
    await this.exchange({ 'xmpp:restart': 'true' });
    await this.receive('stream features after restart', (el) => el.localName === 'features');
    await this.exchange({}, "<iq type='set' id='bind1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" +
      `<resource>${this.name}</resource></bind></iq>`);
    const bound = await this.receive('bind result', (el) => el.localName === 'iq' && el.getAttribute('id') === 'bind1');
    assert.equal(bound.getAttribute('type'), 'result', `${this.name}: bind`);
    this.jid = bound.getElementsByTagName('jid')[0].textContent;
    await this.exchange({}, "<presence xmlns='jabber:client'/>");
    return this.jid;
  }

  async sendMessage(to, text) {
    await this.exchange({}, `<message to='${xmlEscape(to)}' type='chat' xmlns='jabber:client'><body>${xmlEscape(text)}</body></message>`);
  }

  receiveMessage(from, text) {
    return this.receive(`message from ${from} saying ${JSON.stringify(text)}`, (el) => el.localName === 'message' &&
      bare(el.getAttribute('from') || '') === from && el.getElementsByTagName('body')[0]?.textContent === text);
  }

  /** Ends the session (best effort). */
  async terminate() {
    if (!this.sid) return;
    await this.post({ type: 'terminate' }, "<presence type='unavailable' xmlns='jabber:client'/>").catch(() => {});
  }
}

describe(`${WORKERS} worker processes with Prosody`, { timeout: 170000, skip: direct && 'SB_DIRECT=1: no Switchboard to test' }, () => {
  let stack;
  let supervisorPid;
  let earlierStepFailed = false;
  const users = Object.fromEntries(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9', 'raw1', 'raw2'].map((u) => [u, u]));
  const clients = []; // { name, client, worker }
  const rawClients = [];
  const seenWorkerPids = new Set();
  let victim; // the client whose worker is killed
  let survivors; // clients on other workers

  const jid = (user) => `${user}@localhost`;
  const logText = () => fs.readFileSync(stack.switchboard.logFile, 'utf8');
  const noteWorkers = () => {
    const workers = workerProcesses(supervisorPid);
    for (const w of workers) seenWorkerPids.add(w.pid);
    return workers;
  };

  const step = (name, fn) => it(name, async (t) => {
    if (earlierStepFailed || !stack) return t.skip('an earlier step failed');
    try {
      await fn(t);
    } catch (err) {
      earlierStepFailed = true;
      err.message += `\n${stack.logs()}`;
      throw err;
    }
  });

  async function loginStrophe(name) {
    const client = new XmppClient(stack.boshUrl, { name, wait: WAIT });
    await client.connect(jid(name), name);
    const entry = { name, client, worker: workerOfSid(client.conn._proto.sid) };
    clients.push(entry);
    return entry;
  }

  before(async () => {
    stack = await startStack({
      server: 'prosody',
      users,
      settings: { workers: WORKERS, inactivity: 10, log_level: 'debug' },
    });
    supervisorPid = stack.switchboard.child.pid;
  });

  after(async () => {
    for (const { client } of clients) if (!client.frozen) client.freeze();
    if (stack) await stack.stop();
    // Whatever happened, leave no worker behind.
    for (const pid of seenWorkerPids) {
      if (processAlive(pid)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  });

  step(`the supervisor runs ${WORKERS} workers`, async () => {
    const workers = await waitUntil(`${WORKERS} workers`, () => {
      const found = noteWorkers();
      return found.length === WORKERS ? found : null;
    });
    assert.deepEqual(workers.map((w) => w.index), [0, 1, 2, 3]);
    assert.match(logText(), /\[supervisor\] starting 4 workers/);
    // The port accepted as soon as the first worker listened; wait for the rest.
    await waitUntil('every worker listening', () => {
      const log = logText();
      return workers.every((w) => log.includes(`[worker ${w.index}] listening on`));
    });
  });

  step('Strophe clients log in; their sessions spread over the workers', async (t) => {
    await Promise.all(['u0', 'u1', 'u2', 'u3', 'u4', 'u5'].map(loginStrophe));
    // The kernel picks the worker by hashing the connection: with six clients
    // on four workers a single worker is unlikely; log in more if it happens.
    for (const extra of ['u6', 'u7', 'u8']) {
      if (new Set(clients.map((c) => c.worker)).size >= 2) break;
      await loginStrophe(extra);
    }
    for (const { name, client, worker } of clients) {
      assert.match(client.jid, new RegExp(`^${name}@localhost/`));
      assert.ok(worker !== null && worker >= 0 && worker < WORKERS, `${name}'s sid names a worker: ${client.conn._proto.sid}`);
    }
    const spread = new Set(clients.map((c) => c.worker));
    t.diagnostic(`sessions per worker: ${JSON.stringify(clients.map((c) => [c.name, c.worker]))}`);
    assert.ok(spread.size >= 2, 'sessions on at least two workers');
  });

  step('they chat across workers (messages and pings between every neighbour)', async () => {
    for (let i = 0; i < clients.length; i++) {
      const from = clients[i];
      const to = clients[(i + 1) % clients.length];
      const text = `hello ${to.name} from ${from.name} (worker ${from.worker} -> ${to.worker}) ${Date.now()}`;
      from.client.sendMessage(to.client.jid, text);
      await to.client.waitForMessage({ from: jid(from.name), body: text });
      assert.equal(await to.client.ping(from.client.jid), 'result');
    }
  });

  step('a client with a new connection per request: every request reaches its owner', async (t) => {
    const raw = new RawBoshClient(stack.boshUrl, { name: 'raw1' });
    rawClients.push(raw);
    const fullJid = await raw.login('raw1', 'raw1', 'localhost');
    assert.match(fullJid, /^raw1@localhost\/raw1/);
    const alice = clients[0];
    const toAlice = `hi ${alice.name}, this is raw1 on worker ${workerOfSid(raw.sid)} <&> ü`;
    await raw.sendMessage(alice.client.jid, toAlice);
    await alice.client.waitForMessage({ from: jid('raw1'), body: toAlice });
    const back = `hello raw1, ${alice.name} here ${Date.now()}`;
    alice.client.sendMessage(fullJid, back);
    await raw.receiveMessage(jid(alice.name), back);

    // With four workers most of these requests reached another worker first.
    const log = logText();
    const handedOver = (log.match(/connection handed over to worker/g) || []).length;
    const adopted = (log.match(/connection adopted from another worker/g) || []).length;
    t.diagnostic(`${raw.requests} requests on fresh connections; ${handedOver} hand-overs, ${adopted} adoptions`);
    assert.ok(raw.requests >= 6, `raw1 sent ${raw.requests} requests`);
    assert.ok(handedOver >= 1, 'some requests were handed over');
    assert.ok(adopted >= 1, 'and adopted by their owner');
  });

  step('kill -9 of a worker: it is restarted, its keeper gives its sessions back, all chat on', async (t) => {
    victim = clients[0];
    survivors = clients.filter((c) => c.worker !== victim.worker);
    // Make sure two survivors can chat afterwards (the spread step guarantees one).
    for (const extra of ['u6', 'u7', 'u8', 'u9']) {
      if (survivors.length >= 2) break;
      if (clients.some((c) => c.name === extra)) continue;
      const entry = await loginStrophe(extra);
      if (entry.worker !== victim.worker) survivors.push(entry);
    }
    assert.ok(survivors.length >= 2, `two sessions outside worker ${victim.worker}`);
    const revived = clients.filter((c) => c.worker === victim.worker);

    const before = noteWorkers().find((w) => w.index === victim.worker);
    assert.ok(before, `worker ${victim.worker} is running`);
    const killedAt = Date.now();
    process.kill(before.pid, 'SIGKILL');
    const restarted = await waitUntil(`worker ${victim.worker} restarted`, () =>
      noteWorkers().find((w) => w.index === victim.worker && w.pid !== before.pid));
    t.diagnostic(`worker ${victim.worker}: pid ${before.pid} killed, pid ${restarted.pid} running ${Date.now() - killedAt} ms later`);
    assert.match(logText(), new RegExp(`worker ${victim.worker} \\(pid ${before.pid}\\) killed by signal 9`));
    assert.ok(!processAlive(before.pid), 'the killed worker was reaped');
    assert.equal(noteWorkers().length, WORKERS, 'the other workers still run');

    // The sessions of the dead worker continue (docs/crash.md): its keeper held
    // their records and server sockets, the new process took them up, and each
    // client's resent request (the one the dead worker held) found its session.
    // (The raw clients' sessions of step 4 may be there too: all continue.)
    const line = await waitUntil('the new process took up the kept sessions', () =>
      new RegExp(`\\[worker ${victim.worker}\\] keeper: (\\d+) of \\1 sessions continue`).exec(logText()));
    assert.ok(Number(line[1]) >= revived.length, line[0]);
    for (const { name, client } of revived) {
      const partner = survivors[0];
      const text = `${name} carries on after its worker died ${Date.now()}`;
      client.sendMessage(partner.client.jid, text);
      await partner.client.waitForMessage({ from: jid(name), body: text });
      assert.equal(await client.ping(partner.client.jid), 'result');
      assert.ok(!client.statuses.includes('DISCONNECTED'), `${name} is still connected`);
    }

    // The others carry on as if nothing happened.
    const [a, b] = survivors;
    const text = `still here after worker ${victim.worker} died ${Date.now()}`;
    a.client.sendMessage(b.client.jid, text);
    await b.client.waitForMessage({ from: jid(a.name), body: text });
    assert.equal(await b.client.ping(a.client.jid), 'result');
    for (const { name, client } of survivors) {
      assert.ok(!client.statuses.includes('DISCONNECTED'), `${name} is still connected`);
    }
  });

  step('a new session on the restarted worker works', async (t) => {
    // Sessions go to whichever worker accepts the creation request: try new
    // connections until one lands on the restarted worker.
    let raw;
    let attempts = 0;
    for (; attempts < 60; attempts++) {
      const candidate = new RawBoshClient(stack.boshUrl, { name: 'raw2' });
      await candidate.create('localhost');
      if (workerOfSid(candidate.sid) === victim.worker) {
        raw = candidate;
        break;
      }
      await candidate.terminate();
    }
    assert.ok(raw, `no session landed on worker ${victim.worker} in ${attempts} tries`);
    t.diagnostic(`session ${raw.sid} after ${attempts + 1} tries`);
    rawClients.push(raw);
    const fullJid = await raw.login('raw2', 'raw2', 'localhost');
    const peer = survivors[0];
    const text = `raw2 on the new worker ${victim.worker} says hi ${Date.now()}`;
    await raw.sendMessage(peer.client.jid, text);
    await peer.client.waitForMessage({ from: jid('raw2'), body: text });
    peer.client.sendMessage(fullJid, 'welcome back');
    await raw.receiveMessage(jid(peer.name), 'welcome back');
  });

  step('SIGTERM to the supervisor ends every process within a few seconds', async (t) => {
    const workers = noteWorkers();
    assert.equal(workers.length, WORKERS);
    const child = stack.switchboard.child;
    const since = Date.now();
    process.kill(supervisorPid, 'SIGTERM');
    const exited = await Promise.race([child.exited, sleep(8000).then(() => 'still running')]);
    t.diagnostic(`supervisor exited (${exited}) after ${Date.now() - since} ms`);
    assert.equal(exited, 0, 'the supervisor exits 0 within 8 s');
    for (const pid of seenWorkerPids) assert.ok(!processAlive(pid), `worker pid ${pid} is gone`);
    const log = logText();
    assert.match(log, /\[supervisor\] signal 15: stopping 4 workers/);
    assert.match(log, /\[supervisor\] all workers stopped/);
    for (const { index } of workers) assert.match(log, new RegExp(`\\[worker ${index}\\] stopped`));
    // The surviving clients were told: system-shutdown ends their sessions.
    for (const { name, client } of survivors) {
      await waitUntil(`${name} disconnected`, () => client.statuses.includes('DISCONNECTED'), { timeoutMs: 5000 });
    }
  });
});
