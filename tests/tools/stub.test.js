'use strict';
// switchboard-stub, the scale runs' XMPP server (a test tool, see docs/stub.md):
// login with SASL PLAIN and ANONYMOUS, bind, session, roster, ping, the errors it
// owes, message routing inside one worker and across its two workers, stream
// close, and a stop that leaves no process behind. Raw TCP, Node built-ins only.

const test = require('node:test');
const assert = require('node:assert/strict');
const { XmppClient, STREAM_OPEN } = require('./lib/xmpp_client.js');
const { startStub, alive } = require('./lib/stub_process.js');

const MESSAGE = /<message [^>]*>[^]*?<\/message>/;

async function loginMany(port, count, prefix) {
  const clients = [];
  for (let i = 0; i < count; i++) {
    const c = new XmppClient(port);
    await c.login({ user: `${prefix}${i}` });
    clients.push(c);
  }
  return clients;
}

// Sends a chat message from `a` to `to` and checks `b` receives it stamped with a's JID.
async function roundTrip(a, b, to, body) {
  a.send(`<message to='${to}' type='chat' id='${body}'><body>${body}</body></message>`);
  const got = (await b.waitFor(MESSAGE))[0];
  assert.match(got, new RegExp(`from='${a.jid.replace(/[.]/g, '\\.')}'`));
  assert.match(got, new RegExp(`<body>${body}</body>`));
  assert.match(got, new RegExp(`id='${body}'`));
}

test('two workers: login, roster, ping, errors, routing, close, clean stop', async (t) => {
  const stub = await startStub(['--procs', '2']);
  const clients = [];
  t.after(() => { for (const c of clients) c.close(); if (alive(stub.pid)) process.kill(stub.pid, 'SIGKILL'); });
  const workers = stub.workers();
  assert.equal(workers.length, 2, 'two worker processes under the parent');

  await t.test('SASL PLAIN with a chosen resource, and ANONYMOUS with a generated one', async () => {
    const alice = new XmppClient(stub.port);
    const bob = new XmppClient(stub.port);
    const anon = new XmppClient(stub.port);
    clients.push(alice, bob, anon);
    assert.equal(await alice.login({ user: 'alice', password: 'whatever', resource: 'desk' }), 'alice@stub.test/desk');
    assert.equal(await bob.login({ user: 'bob', password: '' }), bob.jid);
    assert.match(bob.jid, /^bob@stub\.test\/stub-p\d-[0-9a-f]{16}$/);
    assert.match(await anon.login({}), /^anon-[0-9a-f]{16}@stub\.test\/stub-p\d-[0-9a-f]{16}$/);

    alice.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>");
    await alice.waitFor(/<iq type='result' id='r1' to='alice@stub\.test\/desk'><query xmlns='jabber:iq:roster'\/><\/iq>/);
    alice.send("<iq type='get' id='p1' to='stub.test'><ping xmlns='urn:xmpp:ping'/></iq>");
    await alice.waitFor(/<iq type='result' id='p1' from='stub\.test' to='alice@stub\.test\/desk'\/>/);
    alice.send("<iq type='set' id='u1'><frobnicate xmlns='urn:example:unknown'/></iq>");
    await alice.waitFor(/<iq type='error' id='u1'[^>]*><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'\/><\/error><\/iq>/);
    alice.send("<iq type='get' id='u2'><vCard xmlns='vcard-temp'/></iq>");
    await alice.waitFor(/<iq type='error' id='u2'[^>]*><error type='cancel'><service-unavailable /);
    // Initial presence comes back to the sender only (no roster to broadcast to).
    alice.send('<presence/>');
    await alice.waitFor(/<presence from='alice@stub\.test\/desk'\/>/);
    await roundTrip(alice, bob, 'bob@stub.test', 'hello-bob');
    await roundTrip(bob, alice, alice.jid, 'hello-alice');
    await roundTrip(anon, alice, 'alice@stub.test', 'from-anon');
  });

  await t.test('messages reach sessions in either worker, by full and bare JID', async () => {
    const many = await loginMany(stub.port, 20, 'u');
    clients.push(...many);
    const byWorker = [0, 1].map((w) => many.filter((c) => c.worker === w));
    assert.ok(byWorker[0].length >= 2 && byWorker[1].length >= 2,
      `both workers hold sessions (${byWorker[0].length} and ${byWorker[1].length})`);
    const [a0, b0] = byWorker[0];
    const [a1, b1] = byWorker[1];
    await roundTrip(a0, b0, b0.jid, 'same-worker-full');
    await roundTrip(b0, a0, 'u' + many.indexOf(a0) + '@stub.test', 'same-worker-bare');
    // Across workers, both ways, to every peer in the other worker: whatever worker
    // is the directory of each bare JID, the message arrives.
    for (const x of byWorker[0]) {
      for (const y of byWorker[1]) {
        await roundTrip(x, y, y.jid, `cross-${x.worker}-${many.indexOf(y)}`);
        await roundTrip(y, x, `u${many.indexOf(x)}@stub.test`, `back-${many.indexOf(x)}`);
      }
    }
    // An iq to another user is routed too (and answered by that user).
    a0.send(`<iq type='get' id='peer-ping' to='${a1.jid}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const ping = (await a1.waitFor(/<iq [^>]*id='peer-ping'[^>]*>/))[0];
    assert.match(ping, new RegExp(`from='${a0.jid}'`));
    a1.send(`<iq type='result' id='peer-ping' to='${a0.jid}'/>`);
    await a0.waitFor(/<iq [^>]*type='result' id='peer-ping'[^>]*\/>/);
    // A client cannot speak for someone else: its own 'from' is replaced.
    b1.send(`<message from='mallory@stub.test/x' to='${a0.jid}' id='spoof'><body>s</body></message>`);
    const spoof = (await a0.waitFor(MESSAGE))[0];
    assert.match(spoof, new RegExp(`from='${b1.jid}'`));
    assert.doesNotMatch(spoof, /mallory/);
  });

  await t.test('a message to nobody bounces with service-unavailable, from either worker', async () => {
    const senders = [clients[0], ...clients.slice(3)].slice(0, 6);
    // Ten unknown names: their directory worker is sometimes this one, sometimes the other.
    for (const sender of senders) {
      for (let i = 0; i < 10; i++) {
        sender.send(`<message to='ghost${i}@stub.test/r' type='chat' id='g${i}'><body>x</body></message>`);
        const error = (await sender.waitFor(MESSAGE))[0];
        assert.match(error, new RegExp(`^<message from='ghost${i}@stub\\.test/r' to='${sender.jid.replace(/[.]/g, '\\.')}' type='error' id='g${i}'>`));
        assert.match(error, /<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'\/><\/error>/);
      }
      // A known user with a resource that does not exist: an error as well.
      sender.send(`<message to='alice@stub.test/nope' id='nr'><body>x</body></message>`);
      await sender.waitFor(/<message from='alice@stub\.test\/nope' [^>]*type='error' id='nr'>/);
    }
  });

  await t.test('</stream:stream> is answered and the socket closed; the user is gone', async () => {
    const alice = clients[0];
    const bob = clients[1];
    alice.send('</stream:stream>');
    await alice.waitFor(/<\/stream:stream>/);
    await alice.waitClosed();
    bob.send(`<message to='alice@stub.test/desk' id='late'><body>x</body></message>`);
    await bob.waitFor(/<message from='alice@stub\.test\/desk' [^>]*type='error' id='late'>/);
  });

  await t.test('SIGTERM stops the parent and both workers', async () => {
    const { code, signal } = await stub.stop('SIGTERM');
    assert.equal(signal, null);
    assert.equal(code, 0, stub.stderr());
    for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} is gone`);
    assert.match(stub.stderr(), /\[p0\] info: stopped: /);
    assert.match(stub.stderr(), /\[p1\] info: stopped: /);
  });
});

// The stub's directory worker of a bare JID (router.cpp): FNV-1a 64 modulo N.
function directoryOf(bare, procs) {
  let h = 14695981039346656037n;
  for (const byte of Buffer.from(bare)) h = ((h ^ BigInt(byte)) * 1099511628211n) & 0xffffffffffffffffn;
  return Number(h % BigInt(procs));
}

test('four workers: messages take the two-hop path through a third worker', async (t) => {
  const stub = await startStub(['--procs', '4']);
  const clients = [];
  t.after(() => { for (const c of clients) c.close(); if (alive(stub.pid)) process.kill(stub.pid, 'SIGKILL'); });
  clients.push(...await loginMany(stub.port, 32, 'h'));
  const bareOf = (c) => c.jid.split('/')[0];
  let twoHop = 0;
  let checked = 0;
  for (const x of clients) {
    for (const y of clients) {
      if (x === y || x.worker === y.worker) continue;
      const directory = directoryOf(bareOf(y), 4);
      const hops = directory === x.worker || directory === y.worker ? 1 : 2;
      if (hops === 2 && twoHop >= 20) continue;
      if (hops === 1 && checked - twoHop >= 20) continue;
      await roundTrip(x, y, checked % 2 ? y.jid : bareOf(y), `h${checked}`);
      checked++;
      if (hops === 2) twoHop++;
    }
  }
  assert.ok(twoHop >= 10, `${twoHop} of ${checked} messages went through a third worker`);
  // Unknown JIDs bounce from every directory worker.
  for (let i = 0; i < 12; i++) {
    const sender = clients[i];
    sender.send(`<message to='nobody${i}@stub.test' id='n${i}'><body>x</body></message>`);
    await sender.waitFor(new RegExp(`<message from='nobody${i}@stub\\.test' [^>]*type='error' id='n${i}'>`));
  }
  const { code } = await stub.stop();
  assert.equal(code, 0, stub.stderr());
  assert.match(stub.stderr(), /to owner [1-9]/);
});

test('--domain: other domains get host-unknown; bad SASL gets a failure', async (t) => {
  const stub = await startStub(['--domain', 'only.test']);
  t.after(() => { if (alive(stub.pid)) process.kill(stub.pid, 'SIGKILL'); });
  const wrong = new XmppClient(stub.port);
  await wrong.connect();
  wrong.send(STREAM_OPEN('other.test'));
  await wrong.waitFor(/<stream:stream [^>]*from='only\.test'[^>]*>/);
  await wrong.waitFor(/<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><\/stream:error><\/stream:stream>/);
  await wrong.waitClosed();

  const c = new XmppClient(stub.port);
  await c.connect();
  c.send(STREAM_OPEN('only.test'));
  await c.waitFor(/<mechanism>PLAIN<\/mechanism><mechanism>ANONYMOUS<\/mechanism>/);
  c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!notbase64</auth>");
  await c.waitFor(/<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><malformed-request\/><\/failure>/);
  c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>x</auth>");
  await c.waitFor(/<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><invalid-mechanism\/><\/failure>/);
  // Anything but <auth/> before authentication ends the stream.
  c.send("<message to='x@only.test'><body>early</body></message>");
  await c.waitFor(/<stream:error><not-authorized [^>]*\/><\/stream:error><\/stream:stream>/);
  await c.waitClosed();
  c.close();
  const { code } = await stub.stop('SIGINT');
  assert.equal(code, 0, stub.stderr());
});

test('workers exit when the parent is killed outright', async () => {
  const stub = await startStub(['--procs', '3']);
  const workers = stub.workers();
  assert.equal(workers.length, 3);
  await stub.stop('SIGKILL');
  const deadline = Date.now() + 5000;
  while (workers.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} is gone`);
});

test('--fd-limit: a worker pauses accepting at its fd budget and resumes below it', async (t) => {
  const stub = await startStub(['--fd-limit', '40']);
  const clients = [];
  t.after(() => { for (const c of clients) c.close(); if (alive(stub.pid)) process.kill(stub.pid, 'SIGKILL'); });
  for (let i = 0; i < 40; i++) {
    const c = new XmppClient(stub.port);
    clients.push(c);
    await c.connect(); // the kernel completes the handshake even while the worker waits
    c.send(STREAM_OPEN('stub.test'));
  }
  const first = await Promise.allSettled(clients.map((c) => c.waitFor(/<\/stream:features>/, 1000)));
  const answered = clients.filter((_, i) => first[i].status === 'fulfilled');
  const waiting = clients.filter((_, i) => first[i].status === 'rejected');
  assert.ok(answered.length > 0 && waiting.length > 0, `${answered.length} answered, ${waiting.length} waiting`);
  assert.match(stub.stderr(), /fd budget reached: 40 descriptors open \(limit 40\)/);
  for (const c of answered.slice(0, waiting.length + 5)) c.close();
  await Promise.all(waiting.map((c) => c.waitFor(/<\/stream:features>/, 5000)));
  assert.match(stub.stderr(), /accepting again/);
  const { code } = await stub.stop();
  assert.equal(code, 0);
});
