'use strict';
// Operation: overload control for logins (docs/operations.md, "A login storm").
// One worker with max_logins_in_progress = 3, in front of a scripted XMPP server
// that never answers the stream header for three domains: those three logins are
// in progress and stay so. Then:
//
// - a fourth session creation is refused at once: HTTP 503 with a Retry-After
//   of whole seconds (1..10), long before any timeout; a legacy client (no ver)
//   gets the same 503;
// - a WebSocket upgrade is refused the same way, without the upgrade;
// - a session established before goes on working throughout (a stanza each way);
// - the metrics say so: three logins in progress, the refusals counted with
//   reason "overload", and the opening time of the logins that got through;
// - once the server fails those three openings, logins are admitted again.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const integrationLib = path.join(__dirname, '..', 'integration', 'lib');
const { Switchboard } = require('../lib/switchboard');
const { scrape, promtoolCheck } = require(path.join(integrationLib, 'metrics.js'));
const { waitUntil } = require('../lib/proc');
const { ScriptedUpstream } = require('../lib/scripted_upstream');
const { BoshSession, sendBody, bodyXml } = require('../lib/bosh');
const { destroyAllSockets } = require('../lib/raw_http');
const { WsClient, destroyWsSockets } = require('./lib/ws_client');
const { uniqueDomain, assertAlive } = require('./lib/stack');

after(() => {
  destroyAllSockets();
  destroyWsSockets();
});

/** Asserts a fast 503 with a Retry-After of whole seconds in 1..10. */
function assertOverloaded(status, headers, elapsedMs, what) {
  assert.equal(status, 503, what);
  const retryAfter = headers['retry-after'];
  assert.match(String(retryAfter), /^\d+$/, `${what}: Retry-After`);
  assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 10, `${what}: Retry-After ${retryAfter}`);
  assert.ok(elapsedMs < 2000, `${what}: refused after ${elapsedMs} ms, not at once`);
}

test('logins beyond max_logins_in_progress are refused at once with 503 + Retry-After; established sessions unhurt', async (t) => {
  const upstream = await new ScriptedUpstream().start();
  const sb = new Switchboard({
    upstreamPort: upstream.port,
    metrics: true,
    config: { max_logins_in_progress: 3 },
  });
  t.after(async () => {
    destroyAllSockets();
    destroyWsSockets();
    const problem = await sb.stop();
    await upstream.stop();
    if (problem) throw new Error(problem);
  });
  await sb.start();

  // An established session, with its server side.
  const keeperTo = uniqueDomain('keeper');
  const keeper = { session: await BoshSession.create(sb.port, keeperTo), conn: await upstream.connection(keeperTo) };

  // Three logins the server never opens: in progress, and they stay so.
  const stuck = [];
  for (let i = 0; i < 3; i += 1) {
    const to = uniqueDomain('stuck');
    upstream.plan(to, { greet: 'never' });
    const pending = sendBody(sb.port, bodyXml(BoshSession.creationAttrs(to)), { timeoutMs: 20000 });
    stuck.push({ to, pending, conn: await upstream.connection(to) });
  }

  // A fourth creation, a legacy one and a WebSocket upgrade: refused at once.
  let started = Date.now();
  const refused = await sendBody(sb.port, bodyXml(BoshSession.creationAttrs(uniqueDomain('fourth'))));
  assertOverloaded(refused.status, { 'retry-after': refused.res.header('retry-after') }, Date.now() - started, 'fourth creation');
  started = Date.now();
  const legacy = await sendBody(sb.port, bodyXml(BoshSession.creationAttrs(uniqueDomain('legacy'), { ver: undefined })));
  assertOverloaded(legacy.status, { 'retry-after': legacy.res.header('retry-after') }, Date.now() - started, 'legacy creation');
  started = Date.now();
  const ws = await WsClient.open(sb.port);
  assertOverloaded(ws.status, ws.headers, Date.now() - started, 'WebSocket upgrade');
  assert.equal(ws.headers['sec-websocket-accept'], undefined, 'no upgrade');

  // The established session works throughout.
  await assertAlive(keeper, 'established before the overload');

  // The metrics tell it: three in progress (sampled each second), the refusals.
  const { text, samples } = await waitUntil('three logins in progress in the metrics', async () => {
    const scraped = await scrape(sb.metricsUrl);
    return scraped.samples.switchboard_logins_in_progress === 3 && scraped;
  }, { timeoutMs: 5000 });
  assert.equal(samples['switchboard_refused_requests_total{reason="overload"}'], 3, 'refusals counted as overload');
  assert.ok(samples.switchboard_login_opening_seconds_count >= 1, 'the keeper\'s opening timed');
  assert.ok(samples.switchboard_login_rate > 0, 'a login rate');
  const lint = promtoolCheck(text);
  assert.ok(lint.ok, `promtool check metrics:\n${lint.output}`);

  // The server fails those openings (it closes them): logins are admitted again.
  for (const { conn } of stuck) conn.destroy();
  for (const { pending } of stuck) {
    const reply = await pending;
    assert.equal(reply.status, 200, reply.describe());
    assert.equal(reply.condition, 'remote-connection-failed', reply.describe());
  }
  const to = uniqueDomain('after');
  const again = await BoshSession.create(sb.port, to);
  assert.ok(again.sid, 'a login admitted once the stuck ones ended');
});
