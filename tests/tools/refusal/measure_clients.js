'use strict';
// What real clients do when a connection manager refuses their login with HTTP 503
// and Retry-After (docs/operations.md, "Clients and a refused login"). Not part of
// ctest: run by hand, it takes up to three minutes a case.
//
//   node tests/tools/refusal/measure_clients.js CASE [REFUSE] [RETRY_AFTER] [UPSTREAM]
//
// CASE: strophe-bosh, strophe-ws (Strophe.js 5 in Node, as tests/integration
// runs it), converse-bosh, converse-ws (Converse.js 14 in Chromium, auto_reconnect
// on, its default). REFUSE: how many creations/upgrades the front refuses
// (default: all). RETRY_AFTER: the header's seconds (default 5; "none": no header).
// UPSTREAM: a switchboard base URL (http://127.0.0.1:PORT) the front forwards to
// once it has refused REFUSE times, to see the client get in.
// Prints every attempt's time (seconds since the first), the client's status
// changes, and a JSON line at the end.

const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { startRefusingFront } = require(path.join(__dirname, '..', 'lib', 'refusing_front'));

const integration = path.resolve(__dirname, '..', '..', 'integration');
const [, , which = 'strophe-bosh', refuseArg = 'all', raArg = '5', upstream = null] = process.argv;
const refuse = refuseArg === 'all' ? Infinity : Number(refuseArg);
const retryAfter = raArg === 'none' ? null : Number(raArg);
const OBSERVE_MS = Number(process.env.OBSERVE_MS || 180000);

const log = (front, what) => console.log(`${((Date.now() - front.t0) / 1000).toFixed(3).padStart(8)} s  ${what}`);

async function strophe(front, websocket) {
  const { Strophe } = require(path.join(integration, 'node_modules', 'strophe.js'));
  require(path.join(integration, 'lib', 'strophe_client'));  // installs the XHR with responseXML
  const names = Object.fromEntries(Object.entries(Strophe.Status).map(([k, v]) => [v, k]));
  const conn = new Strophe.Connection(websocket ? front.wsUrl : front.boshUrl);
  const statuses = [];
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, OBSERVE_MS);
    // wait: Strophe's own default (60 s), which sets its backoff cap (1.1 * wait).
    conn.connect('alice@localhost', 'alice', (status, condition) => {
      statuses.push({ at: Date.now() - front.t0, status: names[status], condition: condition || null });
      log(front, `status ${names[status]}${condition ? ` (${condition})` : ''}`);
      if (status === Strophe.Status.CONNECTED || status === Strophe.Status.DISCONNECTED) {
        clearTimeout(timer);
        setTimeout(resolve, 2000);  // anything after the end?
      }
    });
  });
  try { conn.reset(); } catch { /* over */ }
  return statuses;
}

async function converse(front, websocket) {
  const { chromium } = require(path.join(integration, 'node_modules', 'playwright-core'));
  const { startConverseSite } = require(path.join(integration, 'lib', 'converse_site'));
  const site = await startConverseSite();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-refusal-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true, timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = context.pages()[0] || (await context.newPage());
  const statuses = [];
  page.on('console', (m) => {
    const text = m.text();
    if (process.env.ALL_CONSOLE || /Status changed|RECONNECTING|DISCONNECTED|reconnect|An error occurred/i.test(text)) {
      statuses.push({ at: Date.now() - front.t0, line: text.slice(0, 160) });
      log(front, `console ${text.slice(0, 160)}`);
    }
  });
  const settings = {
    jid: 'alice@localhost', password: 'alice', discover_connection_methods: false,
    auto_reconnect: true, loglevel: 'debug',
    ...(websocket ? { websocket_url: front.wsUrl } : { bosh_service_url: front.boshUrl }),
  };
  await page.goto(site.pageUrl(settings));
  // Until connected, or OBSERVE_MS, or no attempt for QUIET_MS (Converse's
  // 'disconnected' event comes after every failed attempt, reconnecting or not).
  const quietMs = Number(process.env.QUIET_MS || (websocket ? 20000 : 75000));
  const kind = websocket ? 'ws' : 'bosh';
  const until = Date.now() + OBSERVE_MS;
  let events = [];
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    events = await page.evaluate(() => window.sbTest.events.slice()).catch(() => events);
    const list = front.attempts[kind];
    const last = list.length ? front.t0 + list[list.length - 1].at : Date.now();
    if (events.includes('connected') || Date.now() - last > quietMs) break;
  }
  const status = await page.evaluate(() => {
    const c = window.sbTest.api.connection.get();
    return c ? { status: c.status, reconnecting: !!c.reconnecting } : null;
  }).catch(() => null);
  statuses.push({ at: Date.now() - front.t0, events, final: status });
  await context.close().catch(() => {});
  await site.close();
  fs.rmSync(profile, { recursive: true, force: true });
  return statuses;
}

(async () => {
  const front = await startRefusingFront({ refuse, retryAfter, upstream });
  const websocket = which.endsWith('-ws');
  const kind = websocket ? 'ws' : 'bosh';
  const seen = { n: 0 };
  const poll = setInterval(() => {
    const list = front.attempts[kind];
    while (seen.n < list.length) {
      const a = list[seen.n++];
      log(front, `attempt ${seen.n}: ${a.refused ? `refused (503, Retry-After ${a.retryAfter})` : 'let in'}` +
        ` at ${(a.at / 1000).toFixed(3)} s`);
    }
  }, 50);
  const statuses = which.startsWith('strophe') ? await strophe(front, websocket) : await converse(front, websocket);
  clearInterval(poll);
  const times = front.attempts[kind].map((a) => a.at / 1000);
  const gaps = times.slice(1).map((t, i) => +(t - times[i]).toFixed(3));
  console.log(JSON.stringify({ case: which, refuse: refuseArg, retryAfter, attempts: front.attempts[kind], gaps_s: gaps, statuses }));
  await front.close();
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
