'use strict';
// Hostile clients that do get a session of their own (hostile_soak.js):
// each creates a real session (switchboard opens a real XMPP stream to Prosody
// for it) and then misbehaves with it. Expected answers, from
// docs/conformance.md:
//
//   a bad rid on its own sid              terminate bad-request, session not ended
//   a rid far above the window            terminate item-not-found, session gone (R6)
//   a second empty poll while one is held terminate policy-violation (R10)
//   terminate                             terminate, no condition (R13)
//   going silent                          ended after `inactivity` (R8); a later
//                                         request hears item-not-found
//   more sessions from one address than
//   max_sessions_per_ip                   terminate policy-violation
//
// The flood loop takes one address at a time (round robin over its own range,
// so an address is reused only long after its sessions ended) and asks for
// FLOOD_SIZE sessions: exactly `cap` must be created and the rest refused.

const {
  openConnection, nextAnswer, attribute, pick, randomInt, sleep, bodyXml, creationAttrs, postBytes,
} = require('./hostile_wire');

const FLOOD_SIZE = 55;
const FLOOD_CONCURRENCY = 11;

/**
 * Sends a creation request on `conn`; records the answer as `action` and
 * returns the session ({ sid, rid }) or null.
 */
async function createOn(ctx, conn, action) {
  const rid = randomInt(1, 2 ** 32);
  const started = Date.now();
  const answering = nextAnswer(conn, 15000);
  await conn.send(postBytes(ctx.port, bodyXml(creationAttrs(rid))));
  const { name, res } = await answering;
  ctx.tally.record(action, name, { expected: ['200 body'], ms: Date.now() - started });
  const sid = res && name === '200 body' ? attribute(res.body, 'sid') : undefined;
  return sid ? { sid, rid } : null;
}

/** Sends one body on `conn` and records its answer as `action`. */
async function request(ctx, conn, action, attrs, payload, expected) {
  const started = Date.now();
  const answering = nextAnswer(conn, 15000);
  await conn.send(postBytes(ctx.port, bodyXml(attrs, payload)));
  const { name } = await answering;
  ctx.tally.record(action, name, { expected, ms: Date.now() - started });
  return name;
}

/** Runs `fn(conn)` on a fresh connection from `address`; never leaves it open. */
async function withConnection(ctx, address, action, fn) {
  let conn;
  try {
    conn = await openConnection(ctx.port, address);
  } catch (err) {
    ctx.tally.record(action, `connect failed (${err.code || err.message})`, { expected: [] });
    return undefined;
  }
  try {
    return await fn(conn);
  } finally {
    conn.close();
  }
}

const TERMINATE_OK = ['200 terminate (none)'];
const NOT_FOUND = ['200 terminate item-not-found'];

/** Own session, then a bad rid on it, then a terminate with the right rid. */
function ownBadRid(ctx) {
  return withConnection(ctx, ctx.address(), 'own session: create', async (conn) => {
    const s = await createOn(ctx, conn, 'own session: create');
    if (!s) return;
    await request(ctx, conn, 'own session: bad rid on it', { rid: pick(['abc', '0', '9007199254740992']), sid: s.sid },
      "<message to='nobody@localhost'/>", ['200 terminate bad-request']);
    await request(ctx, conn, 'own session: terminate after the bad rid (still alive)', { rid: s.rid + 1, sid: s.sid, type: 'terminate' },
      '', TERMINATE_OK);
  });
}

/** Own session, a rid far out of the window, then the right rid: the session is gone. */
function ownOutOfWindow(ctx) {
  return withConnection(ctx, ctx.address(), 'own session: create', async (conn) => {
    const s = await createOn(ctx, conn, 'own session: create');
    if (!s) return;
    await request(ctx, conn, 'own session: rid far above the window', { rid: s.rid + randomInt(3, 1e6), sid: s.sid }, '', NOT_FOUND);
    await request(ctx, conn, 'own session: next rid after that (gone)', { rid: s.rid + 1, sid: s.sid }, '', NOT_FOUND);
  });
}

/** Own session, two empty polls at once (pipelined): policy-violation for both. */
function ownOveractive(ctx) {
  return withConnection(ctx, ctx.address(), 'own session: create', async (conn) => {
    const s = await createOn(ctx, conn, 'own session: create');
    if (!s) return;
    const first = nextAnswer(conn, 15000);
    const second = nextAnswer(conn, 15000);
    await conn.send(postBytes(ctx.port, bodyXml({ rid: s.rid + 1, sid: s.sid })));
    await conn.send(postBytes(ctx.port, bodyXml({ rid: s.rid + 2, sid: s.sid })));
    const expected = ['200 terminate policy-violation'];
    ctx.tally.record('own session: two empty polls at once, the held one', (await first).name, { expected });
    ctx.tally.record('own session: two empty polls at once, the second', (await second).name, { expected });
  });
}

function ownTerminate(ctx) {
  return withConnection(ctx, ctx.address(), 'own session: create', async (conn) => {
    const s = await createOn(ctx, conn, 'own session: create');
    if (!s) return;
    await request(ctx, conn, 'own session: terminate', { rid: s.rid + 1, sid: s.sid, type: 'terminate' },
      "<presence type='unavailable' xmlns='jabber:client'/>", TERMINATE_OK);
  });
}

const SESSION_ACTIONS = [[ownBadRid, 3], [ownOutOfWindow, 3], [ownOveractive, 2], [ownTerminate, 2]];

/** Runs `fn` over `items`, `limit` at a time. */
async function inPool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The session flood: while `running()`, one address after another asks for
 * FLOOD_SIZE sessions; the created ones then meet a fate (most go silent and
 * must be ended by inactivity; a sample is probed after that). `floodAddresses`
 * must be many enough that an address comes round again only after its
 * sessions ended (inactivity).
 */
async function runFloods(ctx, { floodAddresses, cap, inactivity, running, pauseMs = 2000 }) {
  const probes = new Set(); // pending timers of silent-session probes
  let turn = 0;
  ctx.floods = { floods: 0, created: 0, refused: 0 };
  while (running()) {
    const address = floodAddresses[turn++ % floodAddresses.length];
    const created = [];
    let refused = 0;
    await inPool(Array.from({ length: FLOOD_SIZE }), FLOOD_CONCURRENCY, () =>
      withConnection(ctx, address, 'flood: creation request', async (conn) => {
        const rid = randomInt(1, 2 ** 32);
        const answering = nextAnswer(conn, 15000);
        await conn.send(postBytes(ctx.port, bodyXml(creationAttrs(rid))));
        const { name, res } = await answering;
        ctx.tally.record('flood: creation request', name, { expected: ['200 body', '200 terminate policy-violation'] });
        if (name === '200 body') created.push({ sid: attribute(res.body, 'sid'), rid, address });
        else if (name === '200 terminate policy-violation') refused++;
      }));
    ctx.floods.floods++;
    ctx.floods.created += created.length;
    ctx.floods.refused += refused;
    ctx.tally.record(`flood: sessions per address (max_sessions_per_ip=${cap}), ${FLOOD_SIZE} asked`,
      `${created.length} created, ${refused} refused`, { expected: [`${cap} created, ${FLOOD_SIZE - cap} refused`] });

    // Fates: a few misbehave at once, the rest go silent.
    const silent = [];
    await inPool(created, FLOOD_CONCURRENCY, (s) => withConnection(ctx, address, 'flood session: fate', async (conn) => {
      const r = Math.random();
      if (r < 0.1) {
        await request(ctx, conn, 'flood session: rid far above the window', { rid: s.rid + randomInt(3, 1e9), sid: s.sid }, '', NOT_FOUND);
      } else if (r < 0.2) {
        await request(ctx, conn, 'flood session: terminate', { rid: s.rid + 1, sid: s.sid, type: 'terminate' }, '', TERMINATE_OK);
      } else if (r < 0.25) {
        await request(ctx, conn, 'flood session: bad rid, then silent', { rid: 'x', sid: s.sid }, '', ['200 terminate bad-request']);
        silent.push(s);
      } else silent.push(s);
    }));

    // One silent session per flood is asked again once inactivity must have ended it.
    if (silent.length) {
      const s = pick(silent);
      const timer = setTimeout(() => {
        probes.delete(timer);
        withConnection(ctx, address, 'flood session: request after inactivity', (conn) =>
          request(ctx, conn, `flood session: request ${inactivity + 8} s after going silent (inactivity ${inactivity} s)`,
            { rid: s.rid + 1, sid: s.sid }, '', NOT_FOUND)).catch(() => {});
      }, (inactivity + 8) * 1000);
      probes.add(timer);
    }
    await sleep(pauseMs);
  }
  return { cancelProbes: () => { for (const t of probes) clearTimeout(t); probes.clear(); } };
}

module.exports = { SESSION_ACTIONS, runFloods, createOn, withConnection, FLOOD_SIZE };
