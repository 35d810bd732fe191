#!/usr/bin/env node
'use strict';
// Runs a private Prosody from the command line until SIGTERM/SIGINT, using the
// same code the tests use (lib/prosody.js). scripts/demo.sh starts its demo
// server with it.
//
//   node tests/integration/lib/prosody_cli.js --users alice:alice,bob:bob \
//        --friends alice,bob [--port-file FILE]
//
// Once Prosody accepts connections it prints `c2s_port=PORT` (and writes PORT
// to FILE). On SIGTERM or SIGINT it stops Prosody and removes its folder.

const fs = require('node:fs');
const { ProsodyServer } = require('../../lib/prosody');

function parseArgs(argv) {
  const args = { users: {}, friends: [], portFile: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--users') {
      for (const pair of value.split(',')) {
        const [user, ...password] = pair.split(':');
        args.users[user] = password.join(':');
      }
    } else if (flag === '--friends') args.friends = value.split(',');
    else if (flag === '--port-file') args.portFile = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const server = new ProsodyServer({});
  let stopping = null;
  const stop = () => {
    stopping = stopping || server.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await server.start();
    server.addUsers(args.users);
    if (args.friends.length) server.befriend(args.friends);
  } catch (err) {
    await server.stop();
    throw err;
  }
  console.log(`c2s_port=${server.c2sPort}`);
  if (args.portFile) fs.writeFileSync(args.portFile, `${server.c2sPort}\n`);
  // If Prosody dies, say so and end: the demo must not go on without it.
  server.child.exited.then((code) => {
    if (stopping) return;
    console.error(`prosody exited (${code})\n${server.logs()}`);
    process.exit(1);
  });
}

main().catch((err) => {
  console.error(`prosody_cli: ${err.message}`);
  process.exit(1);
});
