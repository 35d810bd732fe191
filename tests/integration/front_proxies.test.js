'use strict';
// The real client address behind front proxies, with real proxies on both
// sides of switchboard and Strophe clients on several loopback addresses
// (127.0.0.x stand for different machines):
//
//   browser 127.0.0.x ── HAProxy (send-proxy / send-proxy-v2) ── switchboard A
//   browser 127.0.0.x ── nginx (X-Forwarded-For) ── switchboard B
//   switchboard A, B ── PROXY header (v2 from A, v1 from B) ── ejabberd (use_proxy_protocol)
//
//   1. through HAProxy (PROXY v1 and v2) clients log in; ejabberd reports each
//      session's address as the browser's, not 127.0.0.1;
//   2. max_sessions_per_ip = 1 counts browsers, not the proxy: a second session
//      from the same address is refused (policy-violation, counted in the
//      metrics), one from another address is not;
//   3. a connection to switchboard A that does not start with a PROXY header is
//      closed unanswered (counted);
//   4. through nginx, X-Forwarded-For from the trusted proxy names the client:
//      the cap counts browsers and ejabberd sees their addresses;
//   5. a client talking to switchboard B directly cannot pick its address with
//      a forged X-Forwarded-For (it is not a trusted proxy).

const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const http = require('node:http');
const { describe, it, before, after } = require('node:test');
const { EjabberdServer } = require('../lib/ejabberd');
const { Switchboard } = require('../lib/switchboard');
const { Haproxy, Nginx } = require('./lib/front_proxies');
const { XmppClient, withTimeout } = require('./lib/strophe_client');
const { scrape } = require('./lib/metrics');
const { sleep } = require('../lib/proc');
const { direct } = require('./lib/stack');

const USERS = Object.fromEntries(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'].map((u) => [u, `pw-${u}`]));

/** The address ejabberd holds for `user`'s session, or null. */
async function addressOf(server, user) {
  const sessions = await server.sessionsInfo();
  const mine = sessions.find((s) => String(s.jid).startsWith(`${user}@`));
  return mine ? String(mine.ip).replace(/^::ffff:/, '') : null;
}

describe('front proxies: the client address through HAProxy and nginx to ejabberd', { skip: direct && 'switchboard only' }, () => {
  let server;
  let viaHaproxy;
  let viaNginx;
  let haproxy;
  let nginx;
  const clients = [];
  let failed = null;
  const logs = () => [viaHaproxy, viaNginx, haproxy, nginx, server].filter(Boolean).map((p) => p.logs()).join('\n');
  const step = (name, fn) => it(name, async (t) => {
    if (failed) return t.skip(`an earlier step failed: ${failed}`);
    try {
      await fn();
    } catch (err) {
      failed = name;
      err.message += `\n${logs()}`;
      throw err;
    }
  });
  const login = async (name, url, localAddress) => {
    const client = new XmppClient(url, { name: `${name}@${localAddress}`, wait: 5, localAddress });
    clients.push(client);
    await client.connect(`${name}@localhost`, USERS[name]);
    return client;
  };

  before(async () => {
    try {
      server = new EjabberdServer({ proxyProtocol: true });
      await server.start();
      await server.addUsers(USERS);
      viaHaproxy = new Switchboard({
        upstreamPort: server.c2sPort, metrics: true,
        settings: { proxy_protocol: true, upstream_proxy_protocol: 'v2', max_sessions_per_ip: 1 },
      });
      await viaHaproxy.start();
      viaNginx = new Switchboard({
        upstreamPort: server.c2sPort, metrics: true,
        settings: { trusted_proxies: '127.0.0.1', upstream_proxy_protocol: 'v1', max_sessions_per_ip: 1 },
      });
      await viaNginx.start();
      haproxy = await new Haproxy({ backendPort: viaHaproxy.port }).start();
      nginx = await new Nginx({ backendPort: viaNginx.port }).start();
    } catch (err) {
      err.message += `\n${logs()}`;
      throw err;
    }
  });

  after(async () => {
    for (const client of clients) await client.close().catch(() => {});
    const problems = [];
    for (const part of [haproxy, nginx]) if (part) await part.stop();
    for (const sb of [viaHaproxy, viaNginx]) {
      if (sb) {
        const problem = await sb.stop();
        if (problem) problems.push(problem);
      }
    }
    if (server) await server.stop();
    if (problems.length) throw new Error(problems.join('\n'));
  });

  step('through HAProxy (PROXY v1 and v2) ejabberd sees the browsers\' addresses', async () => {
    await login('u1', haproxy.url(1), '127.0.0.2');
    await login('u2', haproxy.url(2), '127.0.0.3');
    assert.equal(await addressOf(server, 'u1'), '127.0.0.2');
    assert.equal(await addressOf(server, 'u2'), '127.0.0.3');
    const log = fs.readFileSync(viaHaproxy.logFile, 'utf8');
    assert.match(log, /created for localhost from 127\.0\.0\.2/);
    assert.match(log, /created for localhost from 127\.0\.0\.3/);
  });

  step('max_sessions_per_ip counts browsers behind HAProxy, not the proxy', async () => {
    await assert.rejects(login('u3', haproxy.url(2), '127.0.0.2'), /CONNFAIL|policy-violation|disconnected/);
    await login('u3', haproxy.url(1), '127.0.0.4');
    assert.equal(await addressOf(server, 'u3'), '127.0.0.4');
    const { samples } = await scrape(viaHaproxy.metricsUrl);
    assert.equal(samples['switchboard_refused_requests_total{reason="max_sessions_per_ip"}'], 1);
    assert.equal(samples.switchboard_sessions_created_total, 3);
  });

  step('a connection without a PROXY header is closed unanswered', async () => {
    const socket = net.connect(viaHaproxy.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => { answer += chunk; });
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => {});
    socket.write('POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi');
    await withTimeout(closed, 5000, 'switchboard closes the connection');
    assert.equal(answer, '');
    const { samples } = await scrape(viaHaproxy.metricsUrl);
    assert.equal(samples.switchboard_proxy_headers_refused_total, 1);
  });

  step('through nginx, X-Forwarded-For names the browser for the cap and for ejabberd', async () => {
    await login('u4', nginx.boshUrl, '127.0.0.5');
    await assert.rejects(login('u5', nginx.boshUrl, '127.0.0.5'), /CONNFAIL|policy-violation|disconnected/);
    await login('u5', nginx.boshUrl, '127.0.0.6');
    assert.equal(await addressOf(server, 'u4'), '127.0.0.5');
    assert.equal(await addressOf(server, 'u5'), '127.0.0.6');
    const { samples } = await scrape(viaNginx.metricsUrl);
    assert.equal(samples['switchboard_refused_requests_total{reason="max_sessions_per_ip"}'], 1);
  });

  step('a client that is no trusted proxy cannot pick its address', async () => {
    // From 127.0.0.7 straight to switchboard B, claiming to be 127.0.0.5 (whose
    // one session is taken): the claim is ignored, so the cap does not bite.
    const body = "<body xmlns='http://jabber.org/protocol/httpbind' rid='4242' to='localhost' " +
      "wait='5' hold='1' ver='1.6' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>";
    const answer = await withTimeout(new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port: viaNginx.port, path: '/http-bind', method: 'POST', localAddress: '127.0.0.7',
        agent: false,
        headers: { 'Content-Type': 'text/xml', 'X-Forwarded-For': '127.0.0.5', 'Content-Length': Buffer.byteLength(body) },
      }, (res) => {
        let text = '';
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(body);
    }), 10000, 'creation answer');
    assert.match(answer, /sid=/);
    assert.doesNotMatch(answer, /policy-violation/);
    await sleep(100);
    assert.match(fs.readFileSync(viaNginx.logFile, 'utf8'), /created for localhost from 127\.0\.0\.7/);
  });
});
