'use strict';
// One scenario, two servers (converse_prosody.test.js, converse_ejabberd.test.js):
// Converse.js, the real web client (npm `converse.js`, its release build), runs
// in headless Chromium and speaks XMPP over WebSocket (RFC 7395) to switchboard,
// which speaks plain c2s to a real Prosody or ejabberd. Its contact is bob, a
// Strophe.js client in Node over BOSH through the same switchboard.
//
//   alice logs in (Converse, WebSocket) -> bob logs in and sees her presence ->
//   alice types a message in Converse's chat box, bob gets it -> bob replies, the
//   page shows it -> alice logs out, bob sees her unavailable presence and the
//   server no longer has her session.
//
// `discover: true` gives Converse only the domain (`localhost`) and
// `discover_connection_methods: true`: it must find switchboard through XEP-0156.
// Converse asks https://localhost/.well-known/host-meta and takes only wss://
// URLs, so switchboard is put behind a TLS front (lib/converse_site.js) and
// Chromium resolves localhost:443 to that front (--host-resolver-rules);
// switchboard advertises wss://localhost/xmpp-websocket (public_websocket_url),
// as a deployment behind an HTTPS proxy does.
//
// `transport: 'bosh'` has Converse use BOSH (bosh_service_url) instead. With
// `upgrade: true` (over BOSH), switchboard runs with `workers` and upgrades in
// place while alice and bob chat (numbered messages both ways, alice's typed into
// the chat box): alice must notice nothing: no disconnection, no reconnection,
// no login page, the same BOSH sid, no HTTP error, no failed BOSH request, and
// every message shown once and in order. With `crash: true` (two workers) the
// worker holding alice's session is killed with SIGKILL instead (docs/crash.md):
// the same, except that over BOSH the requests that worker held fail with its
// connections and are resent (HTTP errors, failed requests). Over WebSocket
// nothing tells which worker holds alice's connection, so both are killed, one
// after the other: her connection itself is kept and she sees nothing at all.
//
// On failure a screenshot and the page's console go to artifacts/.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { it, before, after } = require('node:test');
const { chromium } = require('playwright-core');
const { startStack } = require('./stack');
const { XmppClient } = require('./strophe_client');
const { startConverseSite, startTlsFront } = require('./converse_site');
const { expectGone, expectNotListed } = require('./chat_checks');
const { processGone } = require('../../lib/switchboard');
const { workerProcesses } = require('./worker_procs');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const UI_TIMEOUT = 20000;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, fn, timeoutMs = UI_TIMEOUT) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The numbers n of the bodies "NAME #n" among `bodies`, in order; other bodies left out. */
function numbered(bodies, name) {
  const pattern = new RegExp(`^${name} #(\\d+)$`);
  return bodies.map((b) => pattern.exec((b || '').trim())).filter(Boolean).map((m) => Number(m[1]));
}

/** Alice (Converse.js on `page`) types `text` in her chat box with bob; resolves when bob (Strophe.js in Node) has it. */
async function converseTypesToBob(page, bob, text) {
  await page.evaluate(() => window.sbTest.api.chats.open('bob@localhost', {}, true));
  const box = page.locator('converse-chat textarea.chat-textarea');
  await box.waitFor();
  await box.fill(text);
  await box.press('Enter');
  await bob.waitForMessage({ from: 'alice@localhost', body: text });
}

/** Bob sends alice `text`; resolves when Converse shows it. */
async function bobRepliesInConverse(page, bob, text) {
  bob.sendMessage('alice@localhost', text);
  await page.locator('.chat-msg__text', { hasText: text }).waitFor();
}

/**
 * @param opts.server     'prosody' or 'ejabberd'
 * @param opts.discover   Converse gets only the domain and finds switchboard by XEP-0156
 * @param opts.transport  'websocket' (the default) or 'bosh'
 * @param opts.upgrade    an upgrade in place while alice and bob chat (BOSH only)
 * @param opts.workers    switchboard's worker count for it (1: the lone daemon)
 * @param opts.crash      the worker holding alice's session is killed (SIGKILL) while they chat (2 workers)
 */
function converseScenario({ server, discover = false, transport = 'websocket', upgrade = false, workers = 1, crash = false }) {
  const bosh = transport === 'bosh';
  if (bosh && discover) throw new Error('discovery is checked over WebSocket only');
  if (upgrade && !bosh) throw new Error('an upgrade in place moves BOSH sessions only');
  let stack;
  let site;
  let front;
  let profileDir;
  let context;
  let page;
  let bob;
  let aliceJid;
  let earlierStepFailed = false;
  const consoleLines = [];
  const sockets = [];  // WebSocket URLs the page opened
  const hostMeta = [];  // the page's XEP-0156 look-ups: "STATUS URL"
  const failedRequests = [];  // "URL ERROR" of every request of the page that failed

  const step = (name, fn) => it(name, async (t) => {
    if (stack && stack.direct) return t.skip('SB_DIRECT=1: these tests are about switchboard');
    if (earlierStepFailed || !page) return t.skip('an earlier step failed');
    try {
      await fn(t);
    } catch (err) {
      earlierStepFailed = true;
      const dir = path.join(__dirname, '..', 'artifacts');
      fs.mkdirSync(dir, { recursive: true });
      const shot = path.join(dir, `converse-${server}-${Date.now()}.png`);
      await page.screenshot({ path: shot }).catch(() => {});
      err.message += `\n(screenshot: ${shot})\n--- page console ---\n${consoleLines.slice(-60).join('\n')}\n${stack.logs()}`;
      throw err;
    }
  });

  before(async () => {
    stack = await startStack({ server, users: { alice: 'alice', bob: 'bob' }, friends: ['alice', 'bob'],
      settings: {
        ...(discover ? {
          public_websocket_url: 'wss://localhost/xmpp-websocket',
          public_bosh_url: 'https://localhost/http-bind',
        } : {}),
        ...(upgrade ? { workers } : {}),
        ...(crash ? { workers: 2 } : {}),
      } });
    if (stack.direct) return;
    site = await startConverseSite();
    const args = [...FLAGS];
    if (discover) {
      front = await startTlsFront(stack.switchboard.port);
      // Only https://localhost (port 443) goes to the front; the page's own origin
      // (127.0.0.1) is untouched.
      args.push(`--host-resolver-rules=MAP localhost:443 127.0.0.1:${front.port}`, '--ignore-certificate-errors');
    }
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-converse-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM, headless: true, args, timeout: 30000, ignoreHTTPSErrors: true,
    });
    page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT);
    page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${err.message}`));
    page.on('websocket', (ws) => sockets.push(ws.url()));
    page.on('requestfailed', (r) => {
      consoleLines.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText}`);
      failedRequests.push(`${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('response', (r) => {
      if (r.url().includes('/.well-known/host-meta')) hostMeta.push(`${r.status()} ${r.url()}`);
    });
    bob = new XmppClient(stack.boshUrl, { name: 'bob' });
  });

  after(async () => {
    if (bob) await bob.close();
    if (context) await context.close().catch(() => {});
    if (site) await site.close();
    if (front) await front.close();
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    if (stack) await stack.stop();
  });

  const settings = discover
    ? { jid: 'alice@localhost', password: 'alice', discover_connection_methods: true }
    : {
      jid: 'alice@localhost', password: 'alice', websocket_url: null, bosh_service_url: null,
      discover_connection_methods: false,
    };

  /** alice's connection as the page sees it. */
  const converseConnection = () => page.evaluate(() => {
    const api = window.sbTest.api;
    const c = api.connection.get();
    return {
      websocket: api.connection.isType('websocket'), bosh: Boolean(api.connection.isType('bosh')),
      service: c.service, jid: c.jid, connected: c.connected, sid: c._proto.sid || null,
    };
  });

  const over = bosh ? 'BOSH' : 'WebSocket';
  step(`alice logs in with Converse.js over ${over}${discover ? ', found through XEP-0156 host-meta' : ''}`, async () => {
    if (bosh) settings.bosh_service_url = stack.switchboard.boshUrl;
    else if (!discover) settings.websocket_url = stack.switchboard.wsUrl;
    await page.goto(site.pageUrl(settings));
    await until('Converse to connect', () => page.evaluate(() => window.sbTest.events.includes('connected')));
    const connection = await converseConnection();
    if (bosh) {
      assert.equal(connection.bosh, true, `Converse uses BOSH: ${JSON.stringify(connection)}`);
      assert.equal(connection.service, stack.switchboard.boshUrl);
      assert.match(connection.sid || '', /./, 'a BOSH sid');
      assert.deepEqual(sockets, [], 'no WebSocket');
    } else {
      assert.equal(connection.websocket, true, `Converse uses WebSocket: ${JSON.stringify(connection)}`);
      const expected = discover ? 'wss://localhost/xmpp-websocket' : stack.switchboard.wsUrl;
      assert.equal(connection.service, expected);
      assert.deepEqual(sockets, [expected], 'one WebSocket, to switchboard');
    }
    // With discovery the URL came from switchboard's host-meta, fetched by the page.
    assert.deepEqual(hostMeta, discover ? ['200 https://localhost/.well-known/host-meta'] : []);
    assert.match(connection.jid, /^alice@localhost\//);
    aliceJid = connection.jid;
  });

  step('bob (Strophe.js in Node) comes online; each sees the other present', async () => {
    await bob.connect('bob@localhost', 'bob');
    bob.sendPresence();
    await bob.waitForPresence({ from: 'alice@localhost' });
    await until("bob online in alice's Converse roster", () => page.evaluate(async () => {
      const contact = await window.sbTest.api.contacts.get('bob@localhost');
      return Boolean(contact) && contact.getStatus() === 'online';
    }));
  });

  step("alice types a message in Converse's chat box; bob receives it", async () => {
    await converseTypesToBob(page, bob, `hello bob from Converse <&> ü ${Date.now()}`);
  });

  step('bob replies; Converse shows the reply', async () => {
    await bobRepliesInConverse(page, bob, `hi alice, bob here <b>not bold</b> ${Date.now()}`);
  });

  if (upgrade || crash) {
    const title = upgrade
      ? 'switchboard upgrades in place while they chat: alice notices nothing, every message arrives once, in order'
      : "the worker holding alice's session is killed while they chat: alice notices nothing, every message arrives once, in order";
    step(title, async (t) => {
      const before = await converseConnection();
      const bobSid = bob.sid;
      const bobStatuses = bob.statuses.length;
      const failedBefore = failedRequests.length;
      // What alice's page gets and what her Strophe counts, as the stanzas come
      // (beside what Converse shows).
      await page.evaluate(() => {
        const c = window.sbTest.api.connection.get();
        window.sbTest.bodies = [];
        window.sbTest.httpErrors = [];
        c.addHandler((stanza) => {
          const body = stanza.getElementsByTagName('body')[0];
          if (body) window.sbTest.bodies.push(body.textContent);
          return true;
        }, null, 'message', 'chat');
        if (!c._proto._hitError) return;  // WebSocket: no HTTP requests
        const hitError = c._proto._hitError.bind(c._proto);
        c._proto._hitError = (status) => {
          window.sbTest.httpErrors.push(status);
          return hitError(status);
        };
      });
      const box = page.locator('converse-chat textarea.chat-textarea');
      // bob sends every 200 ms; alice types hers one after another.
      let bobSent = 0;
      const bobTimer = setInterval(() => bob.sendMessage('alice@localhost', `bob #${++bobSent}`), 200);
      let aliceSent = 0;
      let typing = true;
      const aliceTypes = (async () => {
        while (typing) {
          await box.fill(`alice #${aliceSent + 1}`);
          await box.press('Enter');
          aliceSent++;
          await sleep(200);
        }
      })();
      let moved;
      let recovered;
      try {
        await sleep(2000);
        if (upgrade) {
          moved = await stack.switchboard.upgrade();
        } else if (bosh) {
          recovered = [await killWorker(stack.switchboard, Number(/^w(\d+)\./.exec(before.sid)[1]))];
        } else {
          recovered = [await killWorker(stack.switchboard, 0), await killWorker(stack.switchboard, 1)];
        }
        await sleep(3000);
      } finally {
        clearInterval(bobTimer);
        typing = false;
        await aliceTypes;
      }
      t.diagnostic(`${upgrade ? moved.line : recovered.map((l) => l || 'a worker with nothing kept').join('; ')}; bob sent ${bobSent}, alice typed ${aliceSent}`);

      const shownFromBob = async () => numbered(await page.locator('.chat-msg__text').allTextContents(), 'bob');
      const atBob = () => numbered(bob.messages.filter((m) => m.type === 'chat').map((m) => m.body), 'alice');
      await until("Converse to show bob's messages", async () => (await shownFromBob()).length >= bobSent);
      await until("bob to get alice's messages", () => atBob().length >= aliceSent);

      if (upgrade) {
        assert.equal(moved.moved, 2, `alice's and bob's sessions moved: ${moved.line}`);
        assert.match(moved.line, /, 0 ended \(none\),/);
        assert.ok(processGone(moved.oldPid), `the old daemon (pid ${moved.oldPid}) exited`);
      } else {
        const taken = recovered.filter((line) => line !== null);
        assert.ok(taken.length > 0, 'a killed worker held alice\'s or bob\'s session');
        for (const line of taken) assert.match(line, /keeper: (\d+) of \1 sessions continue/, 'every session of the dead worker continues');
      }
      // alice: the same session, never dropped, never shown the login page.
      const after = await converseConnection();
      assert.equal(after.connected, true, 'Converse is connected');
      assert.equal(after.sid, before.sid, "alice's BOSH sid is unchanged");
      const events = await page.evaluate(() => window.sbTest.events);
      assert.deepEqual(events, ['connected'], 'no disconnection or reconnection');
      assert.equal(await page.locator('converse-login-form').isVisible(), false, 'no login page');
      if (upgrade || !bosh) {
        assert.deepEqual(await page.evaluate(() => window.sbTest.httpErrors), [], "alice's Strophe saw no HTTP error");
        const boshFailed = failedRequests.slice(failedBefore).filter((r) => r.startsWith(stack.switchboard.boshUrl));
        assert.deepEqual(boshFailed, [], 'no BOSH request of the page failed');
      } else {
        t.diagnostic(`alice's Strophe saw HTTP errors ${JSON.stringify(await page.evaluate(() => window.sbTest.httpErrors))} (the dead worker's connections)`);
      }
      // bob: likewise.
      assert.deepEqual(bob.statuses.slice(bobStatuses), [], 'bob stayed CONNECTED');
      assert.equal(bob.sid, bobSid, "bob's BOSH sid is unchanged");
      if (upgrade) {
        assert.deepEqual(bob.httpErrors, {}, 'bob saw no HTTP error');
        assert.equal(bob.resends, 0, 'bob resent no request');
      }
      // Every message once, in order: as stanzas and on alice's screen.
      const upTo = (n) => Array.from({ length: n }, (_, k) => k + 1);
      const atAlice = numbered(await page.evaluate(() => window.sbTest.bodies), 'bob');
      assert.deepEqual(atAlice, upTo(bobSent), "bob's messages reached alice's page");
      assert.deepEqual(await shownFromBob(), upTo(bobSent), "Converse shows bob's messages");
      assert.deepEqual(atBob(), upTo(aliceSent), "alice's typed messages reached bob");
    });
  }

  step('alice logs out; bob sees her go and the server no longer holds her session', async () => {
    const since = Date.now();
    await page.evaluate(() => window.sbTest.api.user.logout());
    await bob.waitForPresence({ from: 'alice@localhost', type: 'unavailable', after: since });
    // The server itself answers for a full JID it no longer holds (RFC 6120
    // §10.5.3.2: an error), and its own session list where it has one (ejabberd).
    await expectGone(bob, aliceJid);
    await expectNotListed(stack.server, aliceJid);
  });
}

/**
 * Kills (SIGKILL) worker `index` and resolves with the line its successor logs
 * once it took up the kept sessions (docs/crash.md), or null when its keeper
 * had none to hand over.
 */
async function killWorker(switchboard, index) {
  const victim = workerProcesses(switchboard.child.pid).find((w) => w.index === index);
  const handed = new RegExp(`\\[keeper ${index}\\] \\d+ sessions handed`, 'g');
  const pattern = new RegExp(`\\[worker ${index}\\] keeper: \\d+ of \\d+ sessions continue[^\\n]*`, 'g');
  const count = (p) => (switchboard.stderr().match(p) || []).length;
  const seenHanded = count(handed);
  const seen = count(pattern);
  process.kill(victim.pid, 'SIGKILL');
  const text = await switchboard.waitForLog(handed, { count: seenHanded + 1, timeoutMs: 15000 });
  if (/\] 0 sessions handed/.test(text.match(handed).pop())) return null;
  return (await switchboard.waitForLog(pattern, { count: seen + 1 })).match(pattern).pop();
}

module.exports = { converseScenario, converseTypesToBob, bobRepliesInConverse };
