'use strict';
// Operation: SIGHUP reloads the config file without dropping a session
// (docs/operations.md, "Reloading"). A switchboard started from a TOML file,
// alone (workers = 1: it reads the file itself) and as a supervisor with two
// workers (which passes the new configuration to each worker over its pipe):
//
// - a session with a request held across the reload stays up and works after it;
// - a raised max_sessions_per_ip lets a creation through that was refused before;
// - a narrowed cors_origins refuses an origin allowed before, in every worker;
// - a bad file is refused with its problem logged (FILE:LINE), and the old
//   configuration stays (the cap and the origins of before still apply);
// - a restart-only key (listen) is logged as such and the listener stays.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const { BoshSession, bodyXml } = require('../lib/bosh');
const { request, destroyAllSockets } = require('../lib/raw_http');
const { attrPattern, uniqueDomain, stillPending, startStackFor } = require('./lib/stack');

after(() => destroyAllSockets());

// A fresh connection per preflight: with two workers, the kernel spreads them
// over both (SO_REUSEPORT), so 24 of them reach each worker with near certainty.
async function preflightsAllowed(port, origin, count) {
  let allowed = 0;
  for (let i = 0; i < count; i += 1) {
    const res = await request(port, {
      method: 'OPTIONS', body: '',
      headers: [['Origin', origin], ['Access-Control-Request-Method', 'POST'], ['Connection', 'close']],
    });
    if (res.status === 200 && res.header('access-control-allow-origin') === origin) allowed += 1;
  }
  return allowed;
}

async function creation(port, to) {
  const res = await request(port, {
    body: bodyXml(BoshSession.creationAttrs(to)),
    headers: [['Content-Type', 'text/xml; charset=utf-8']],
  });
  return res;
}

for (const workers of [1, 2]) {
  test(`SIGHUP with ${workers} worker(s): live keys change, sessions stay, a bad file changes nothing`, async (t) => {
    const { sb, upstream } = await startStackFor(t,
      { workers, max_sessions_per_ip: 1, cors_origins: ['https://a.example', 'https://b.example'] });
    if (workers > 1) await sb.waitForLog(/all 2 workers listening/);
    const done = /reload (\d+ )?done/;

    // One session, with a request held by switchboard while the reload happens.
    const to = uniqueDomain('reload');
    const session = await BoshSession.create(sb.port, to);
    const conn = await upstream.connection(to);
    const held = session.send();
    assert.ok(await stillPending(held, 300), 'the empty request should be held');

    // With one worker, the per-address cap of 1 refuses a second session.
    if (workers === 1) {
      const refused = await creation(sb.port, uniqueDomain('capped'));
      assert.match(refused.body, /condition=['"]policy-violation['"]/, 'cap 1: refused before the reload');
    }
    assert.equal(await preflightsAllowed(sb.port, 'https://b.example', 24), 24, 'b.example allowed before');

    // Reload: a higher cap, b.example no longer allowed, and a new listen address.
    sb.writeConfig({ workers, max_sessions_per_ip: 3, cors_origins: ['https://a.example'], listen: '127.0.0.1:1' });
    sb.reload();
    let log = await sb.waitForLog(done);
    assert.match(log, /reload: listen changed, which takes a restart: the running value stays/);
    assert.match(log, /changed cors_origins, max_sessions_per_ip/);

    // The held request is still there and carries the server's next stanza.
    assert.ok(await stillPending(held, 100), 'the held request survives the reload');
    conn.send("<message id='after-reload' from='peer@example.net'><body>still here</body></message>");
    const answer = await held;
    assert.equal(answer.status, 200, answer.describe());
    assert.match(answer.payload, attrPattern('id', 'after-reload'));

    if (workers === 1) {
      for (const label of ['second', 'third']) {
        const res = await creation(sb.port, uniqueDomain(label));
        assert.equal(res.status, 200);
        assert.match(res.body, /sid=/, `cap 3 after the reload: the ${label} session is created`);
      }
      const fourth = await creation(sb.port, uniqueDomain('fourth'));
      assert.match(fourth.body, /condition=['"]policy-violation['"]/, 'cap 3: the fourth is refused');
    }
    assert.equal(await preflightsAllowed(sb.port, 'https://b.example', 24), 0, 'b.example refused after the reload');
    assert.equal(await preflightsAllowed(sb.port, 'https://a.example', 24), 24, 'a.example still allowed');

    // A bad file: refused with its line, nothing changes.
    sb.writeConfig({ workers, max_sessions_per_ip: 0, cors_origins: ['https://b.example'], max_wait: 'soon' });
    sb.reload();
    log = await sb.waitForLog(/reload refused \(1 problem\): the running configuration stays/);
    assert.match(log, /reload refused: .*switchboard\.toml:\d+: 'max_wait' must be a whole number of seconds/);
    assert.equal((log.match(/reload (\d+ )?done/g) || []).length, 1, 'no second reload happened');
    assert.equal(await preflightsAllowed(sb.port, 'https://b.example', 24), 0, 'the refused file did not allow b.example');
    if (workers === 1) {
      const res = await creation(sb.port, uniqueDomain('fifth'));
      assert.match(res.body, /condition=['"]policy-violation['"]/, 'the cap of 3 still holds');
    }

    // The session lived through both and still works.
    const ping = session.send({ payload: "<message id='ping-2' to='peer@example.net'><body>ping</body></message>" });
    await conn.waitStanza(attrPattern('id', 'ping-2'));
    conn.send("<message id='pong-2' from='peer@example.net'><body>pong</body></message>");
    const pong = await ping;
    assert.equal(pong.status, 200, pong.describe());
    assert.match(pong.payload, attrPattern('id', 'pong-2'));
  });
}
