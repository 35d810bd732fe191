'use strict';
// The servers a benchmark or the hostile soak runs against, built from the
// harness beside it (prosody.js, switchboard.js): a private Prosody on loopback
// with many users, and optionally switchboard in front of it. Everything started
// here is registered so that stopAll() (called on success, failure, timeout or
// Ctrl-C) stops it by PID.
//
// Users are written straight into Prosody's account files in one go and handed
// to the prosody user with a single chown: the harness's addUsers() runs one
// chown per user, which is fine for three users and slow for thousands.

const fs = require('node:fs');
const path = require('node:path');
const { ProsodyServer, encodeName } = require('./prosody');
const { Switchboard } = require('./switchboard');

const running = new Set(); // objects with stop()

/** User name of the i-th benchmark account; every password is `pw`. */
const userName = (i) => `u${String(i).padStart(6, '0')}`;
const PASSWORD = 'pw';

/**
 * Starts a private Prosody with `users` accounts. With `bosh: true` its own
 * mod_bosh serves /http-bind (server.boshUrl), with `inactivity` seconds.
 */
async function startProsody({ users, bosh = false, inactivity = 90 }) {
  const server = new ProsodyServer({ bosh, inactivity });
  running.add(server);
  await server.start();
  const folder = path.join(server.dir, 'data', encodeName(server.domain), 'accounts');
  fs.mkdirSync(folder, { recursive: true });
  for (let i = 0; i < users; i++) {
    fs.writeFileSync(path.join(folder, `${encodeName(userName(i))}.dat`),
      `return {\n\t["password"] = "${PASSWORD}";\n};\n`, { mode: 0o640 });
  }
  server.chownToProsody();
  return server;
}

/** Starts switchboard in front of `server`'s c2s port with `--set` `settings`. */
async function startSwitchboard(server, settings = {}) {
  const switchboard = new Switchboard({ upstreamPort: server.c2sPort, settings });
  running.add(switchboard);
  await switchboard.start();
  return switchboard;
}

/** Stops one thing started here (switchboard before its server, please). */
async function stop(thing) {
  if (!thing || !running.has(thing)) return;
  running.delete(thing);
  await thing.stop();
}

/** Stops everything still running, front ends first; never throws. */
async function stopAll() {
  const all = [...running].sort((a, b) => Number(b instanceof Switchboard) - Number(a instanceof Switchboard));
  for (const thing of all) await stop(thing).catch((err) => console.error(`stopping: ${err.message}`));
}

module.exports = { startProsody, startSwitchboard, stop, stopAll, userName, PASSWORD };
