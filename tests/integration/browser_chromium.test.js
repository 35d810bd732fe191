'use strict';
// A real browser through Switchboard: headless Chromium (Debian's package,
// driven by playwright-core) loads the demo chat page from one origin and logs
// in over BOSH to Switchboard on another, so Chromium sends CORS preflights and
// checks every response's CORS headers. Switchboard runs with its DEFAULT
// configuration: any origin may use BOSH, as with the servers' own BOSH. A wrong
// password first shows its reason next to the form and ends its BOSH session;
// then alice chats from the page with bob, a Strophe.js client in Node, both
// ways, against a private Prosody. Then she picks WebSocket on the same page and
// does it all again over XMPP over WebSocket (RFC 7395), cross-origin too (the
// handshake carries the page's Origin).
//
// On failure a screenshot and the page's console go to artifacts/.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const http = require('node:http');
const path = require('node:path');
const { describe, it, before, after } = require('node:test');
const { chromium } = require('playwright-core');
const { startStack } = require('./lib/stack');
const { XmppClient } = require('./lib/strophe_client');
const { startStaticServer, demoFiles } = require('./lib/static_server');
const { repoRoot } = require('../lib/switchboard');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const UI_TIMEOUT = 15000;

/** Sends a CORS preflight like a browser would before a text/xml POST. */
function preflight(url, origin) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
      timeout: 5000,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    req.on('timeout', () => req.destroy(new Error('preflight timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('headless Chromium chats through BOSH and WebSocket cross-origin', { timeout: 120000 }, () => {
  let stack;
  let site;
  let profileDir;
  let context;
  let page;
  let bob;
  let earlierStepFailed = false;
  const consoleLines = [];
  const boshBodies = []; // every POST body the page sent
  const sockets = []; // every WebSocket the page opened: { url, sent: [], received: [] }

  const step = (name, fn) => it(name, async (t) => {
    if (earlierStepFailed || !page) return t.skip('an earlier step failed');
    try {
      await fn(t);
    } catch (err) {
      earlierStepFailed = true;
      const dir = path.join(__dirname, 'artifacts');
      fs.mkdirSync(dir, { recursive: true });
      const shot = path.join(dir, `browser-${Date.now()}.png`);
      await page.screenshot({ path: shot }).catch(() => {});
      err.message += `\n(screenshot: ${shot})\n--- page console ---\n${consoleLines.join('\n')}\n${stack.logs()}`;
      throw err;
    }
  });

  before(async () => {
    stack = await startStack({
      server: 'prosody',
      users: { alice: 'alice', bob: 'bob' },
      friends: ['alice', 'bob'],
    });
    site = await startStaticServer(demoFiles(repoRoot));
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30000,
    });
    page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT);
    page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${err.message}`));
    page.on('request', (request) => {
      if (request.method() === 'POST') boshBodies.push(request.postData() || '');
    });
    page.on('websocket', (ws) => {
      const record = { url: ws.url(), sent: [], received: [] };
      sockets.push(record);
      ws.on('framesent', (frame) => record.sent.push(String(frame.payload)));
      ws.on('framereceived', (frame) => record.received.push(String(frame.payload)));
    });
    bob = new XmppClient(stack.boshUrl, { name: 'bob' });
  });

  after(async () => {
    if (bob) await bob.close();
    if (context) await context.close().catch(() => {});
    if (site) await site.close();
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    if (stack) await stack.stop();
  });

  step('the BOSH endpoint answers a CORS preflight from another origin', async () => {
    const origin = new URL(site.url).origin;
    assert.notEqual(origin, new URL(stack.boshUrl).origin, 'page and BOSH are on different origins');
    const res = await preflight(stack.boshUrl, origin);
    assert.ok(res.statusCode >= 200 && res.statusCode < 300, `preflight status ${res.statusCode}`);
    const allowed = res.headers['access-control-allow-origin'];
    assert.ok(allowed === '*' || allowed === origin, `Access-Control-Allow-Origin: ${allowed}`);
    assert.match(String(res.headers['access-control-allow-headers'] || ''), /content-type/i);
  });

  step('a wrong password shows its reason next to the form and ends the BOSH session', async () => {
    await page.goto(`${site.url}?bosh=${encodeURIComponent(stack.boshUrl)}`);
    assert.equal(await page.inputValue('#jid'), 'alice@localhost', 'login form is prefilled');
    await page.fill('#password', 'not-alices-password');
    await page.click('#login-button');
    const error = page.locator('#login-form #login-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /Wrong JID or password \(not-authorized\)/);
    await page.waitForSelector('#login-button:not([disabled])');
    // The page sent a terminate for the refused session, and Switchboard ended it.
    const deadline = Date.now() + UI_TIMEOUT;
    while (!boshBodies.some((body) => /type=["']terminate["']/.test(body)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(boshBodies.some((body) => /type=["']terminate["']/.test(body)),
      `a terminate request was sent:\n${boshBodies.join('\n')}`);
    while (!/session .* ended/.test(stack.logs()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(stack.logs(), /session .* ended/);
  });

  step('alice logs in from the page and sees bob in her roster', async () => {
    await page.fill('#password', 'alice');
    await page.click('#login-button');
    assert.equal(await page.isHidden('#login-form #login-error'), true, 'the old error is cleared');
    await page.waitForSelector('#status[data-state="online"]');
    await page.waitForSelector('#roster li[data-jid="bob@localhost"]');
  });

  step('bob (Strophe in Node) comes online and the page shows it', async () => {
    await bob.connect('bob@localhost', 'bob');
    bob.sendPresence();
    await page.waitForSelector('#roster li[data-jid="bob@localhost"].online');
    await bob.waitForPresence({ from: 'alice@localhost' });
  });

  step('alice types a message in the page; bob receives it', async () => {
    const text = `hello bob from Chromium <&> ü ${Date.now()}`;
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
    await bob.waitForMessage({ from: 'alice@localhost', body: text });
  });

  step('bob replies; the page shows the reply', async () => {
    const text = `hi alice, bob here <b>not bold</b> ${Date.now()}`;
    bob.sendMessage('alice@localhost', text);
    await page.locator('#log li.theirs .body', { hasText: text }).waitFor();
  });

  step('alice logs out from the page; bob sees her go', async () => {
    const since = Date.now();
    await page.click('#logout');
    await page.waitForSelector('#login-form:not([hidden])');
    await bob.waitForPresence({ from: 'alice@localhost', type: 'unavailable', after: since });
  });

  step('alice picks WebSocket and logs in again: the page speaks RFC 7395 to switchboard', async () => {
    await page.goto(`${site.url}?bosh=${encodeURIComponent(stack.boshUrl)}&ws=${encodeURIComponent(stack.wsUrl)}`);
    await page.check('#transport-websocket');
    assert.equal(await page.textContent('#endpoint-url'), stack.wsUrl);
    const postsBefore = boshBodies.length;
    await page.fill('#password', 'alice');
    await page.click('#login-button');
    await page.waitForSelector('#status[data-state="online"]');
    await page.waitForSelector('#roster li[data-jid="bob@localhost"].online');
    assert.equal(sockets.length, 1, 'one WebSocket opened');
    assert.equal(sockets[0].url, stack.wsUrl);
    assert.ok(sockets[0].sent.some((f) => /^<open /.test(f)), `an RFC 7395 <open/> went out: ${sockets[0].sent[0]}`);
    assert.ok(sockets[0].received.some((f) => /^<open /.test(f)), 'and one came back');
    assert.equal(boshBodies.length, postsBefore, 'no BOSH request this time');
    assert.match(stack.logs(), /session ws\d+\.\.\. created for localhost/);
  });

  step('over WebSocket: alice and bob chat both ways', async () => {
    const text = `over websocket <&> ü ${Date.now()}`;
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
    await bob.waitForMessage({ from: 'alice@localhost', body: text });
    const reply = `websocket reply <i>plain</i> ${Date.now()}`;
    bob.sendMessage('alice@localhost', reply);
    await page.locator('#log li.theirs .body', { hasText: reply }).waitFor();
  });

  step('over WebSocket: alice logs out; bob sees her go, switchboard ends the session', async () => {
    const since = Date.now();
    await page.click('#logout');
    await page.waitForSelector('#login-form:not([hidden])');
    await bob.waitForPresence({ from: 'alice@localhost', type: 'unavailable', after: since });
    assert.ok(sockets[0].sent.some((f) => /^<close /.test(f)), 'the page sent <close/>');
    const deadline = Date.now() + UI_TIMEOUT;
    while (!/session ws\d+\.\.\. ended/.test(stack.logs()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(stack.logs(), /session ws\d+\.\.\. ended/);
  });
});
