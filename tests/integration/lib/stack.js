'use strict';
// One test's whole world: a private XMPP server with users and rosters, and
// the BOSH endpoint the clients talk to.
//
// Normally that endpoint is Switchboard, started in front of the server's
// plain c2s port. With SB_DIRECT=1 the clients talk to the server's own BOSH
// (Prosody's mod_bosh, ejabberd's mod_bosh) instead and Switchboard is not
// started at all: the same scenarios then check the harness itself, and show
// how the reference implementations behave.

const { ProsodyServer } = require('../../lib/prosody');
const { EjabberdServer } = require('../../lib/ejabberd');
const { Switchboard } = require('../../lib/switchboard');

const direct = process.env.SB_DIRECT === '1';
const debug = Boolean(process.env.SB_DEBUG);

/**
 * @param opts.server    'prosody' or 'ejabberd'
 * @param opts.users     { name: password }
 * @param opts.friends   user names that get each other in their rosters
 * @param opts.settings  Switchboard `--set` pairs; `inactivity` also sets the
 *                       server's own BOSH inactivity in direct mode
 * @param opts.metrics   Switchboard also serves /metrics (stack.switchboard.metricsUrl)
 */
async function startStack({ server, users, friends = [], settings = {}, metrics = false }) {
  const inactivity = Number(settings.inactivity || 30);
  const Server = { prosody: ProsodyServer, ejabberd: EjabberdServer }[server];
  if (!Server) throw new Error(`unknown server ${server}`);
  const stack = {
    direct,
    domain: 'localhost',
    server: new Server({ bosh: direct, inactivity, debug }),
    switchboard: null,
    inactivity,
    async stop() {
      // Stop the front first so the server sees its clients go before it stops.
      // A daemon that did not exit cleanly (crash, sanitizer report) fails the
      // test, once the server is stopped too.
      const problem = this.switchboard ? await this.switchboard.stop() : null;
      await this.server.stop();
      if (problem) throw new Error(problem);
    },
    logs() {
      return [this.switchboard && this.switchboard.logs(), this.server.logs()].filter(Boolean).join('\n');
    },
  };
  try {
    await stack.server.start();
    await stack.server.addUsers(users);
    if (friends.length) await stack.server.befriend(friends);
    if (!direct) {
      stack.switchboard = new Switchboard({ upstreamPort: stack.server.c2sPort, settings, metrics });
      await stack.switchboard.start();
    }
  } catch (err) {
    const logs = stack.logs();
    await stack.stop().catch(() => {});  // the start failure is the news
    err.message += `\n${logs}`;
    throw err;
  }
  stack.boshUrl = direct ? stack.server.boshUrl : stack.switchboard.boshUrl;
  stack.wsUrl = direct ? null : stack.switchboard.wsUrl;  // the servers' own WebSocket is not set up
  stack.via = direct ? `${server}'s own BOSH` : 'switchboard';
  return stack;
}

module.exports = { startStack, direct };
