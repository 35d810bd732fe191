'use strict';
// TLS between Switchboard and the XMPP server, against a private Prosody that
// requires it (c2s_require_encryption = true, a self-signed certificate made at
// start; see lib/prosody_tls.js). Prosody refuses to authenticate in clear, so a
// login that succeeds proves the stream was encrypted.
//
//   - upstream_tls = auto (the default) trusting the certificate as its CA file:
//     Strophe clients log in through Switchboard (STARTTLS), chat, log out;
//   - upstream_tls = direct to Prosody's direct TLS port (XEP-0368): log in, chat;
//   - upstream_tls = off: the session ends with remote-connection-failed;
//   - verification against the system store (which does not know the
//     self-signed certificate): remote-connection-failed, and the reason logged.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const { describe, it, before, after } = require('node:test');
const { ProsodyTlsServer } = require('./lib/prosody_tls');
const { Switchboard } = require('../lib/switchboard');
const { XmppClient } = require('./lib/strophe_client');

const debug = Boolean(process.env.SB_DEBUG);
const jid = (user) => `${user}@localhost`;

describe('TLS to the XMPP server (Prosody requiring encryption)', { timeout: 120000 }, () => {
  let server;

  before(async () => {
    server = new ProsodyTlsServer({ debug });
    await server.start();
    server.addUsers({ alice: 'alice', bob: 'bob' });
    server.befriend(['alice', 'bob']);
  });

  after(async () => {
    if (server) await server.stop();
  });

  /**
   * Runs `fn(switchboard, clients)` with a Switchboard in front of `port` and
   * fresh clients; on failure the error carries the Switchboard and Prosody logs.
   */
  async function through({ port, settings }, fn) {
    const switchboard = new Switchboard({ upstreamPort: port, settings: { inactivity: 30, ...settings } });
    const clients = [];
    const client = (name) => {
      const c = new XmppClient(switchboard.boshUrl, { name, wait: 10 });
      clients.push(c);
      return c;
    };
    try {
      await switchboard.start();
      await fn(switchboard, client);
    } catch (err) {
      err.message += `\n${switchboard.logs()}\n${server.logs()}`;
      throw err;
    } finally {
      for (const c of clients) await c.close();
      await switchboard.stop();
    }
  }

  async function chat(alice, bob) {
    await Promise.all([alice.connect(jid('alice'), 'alice'), bob.connect(jid('bob'), 'bob')]);
    assert.match(alice.jid, /^alice@localhost\/.+/);
    alice.sendPresence();
    bob.sendPresence();
    await alice.waitForPresence({ from: jid('bob') });
    alice.sendMessage(jid('bob'), 'over TLS <&> é');
    await bob.waitForMessage({ from: jid('alice'), body: 'over TLS <&> é' });
    bob.sendMessage(jid('alice'), 'and back');
    await alice.waitForMessage({ from: jid('bob'), body: 'and back' });
  }

  it('STARTTLS (upstream_tls = auto): log in, chat both ways, log out', async () => {
    await through({ port: server.c2sPort, settings: { upstream_tls_ca_file: server.certFile } },
      async (switchboard, client) => {
        const alice = client('alice');
        const bob = client('bob');
        await chat(alice, bob);
        const since = Date.now();
        await alice.disconnect();
        await bob.waitForPresence({ from: jid('alice'), type: 'unavailable', after: since });
      });
  });

  it('direct TLS (upstream_tls = direct): log in and chat', async () => {
    const settings = { upstream_tls: 'direct', upstream_tls_ca_file: server.certFile };
    await through({ port: server.directTlsPort, settings }, async (switchboard, client) => {
      await chat(client('alice'), client('bob'));
    });
  });

  it('upstream_tls = off against a server that requires TLS: remote-connection-failed', async () => {
    await through({ port: server.c2sPort, settings: { upstream_tls: 'off' } }, async (switchboard, client) => {
      await assert.rejects(client('alice').connect(jid('alice'), 'alice'), /CONNFAIL \(remote-connection-failed\)/);
      assert.match(fs.readFileSync(switchboard.logFile, 'utf8'), /requires TLS and upstream_tls is off/);
    });
  });

  it('a certificate the system store does not trust: remote-connection-failed', async () => {
    await through({ port: server.c2sPort, settings: { upstream_tls: 'required' } }, async (switchboard, client) => {
      await assert.rejects(client('alice').connect(jid('alice'), 'alice'), /CONNFAIL \(remote-connection-failed\)/);
      assert.match(fs.readFileSync(switchboard.logFile, 'utf8'), /certificate verification failed/);
    });
  });
});
