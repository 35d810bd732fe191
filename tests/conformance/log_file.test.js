'use strict';
// Operation: `log_file` and SIGUSR1 (docs/operations.md, "Log files"). Every
// process appends its lines to the file; after logrotate's rename, SIGUSR1 to
// the daemon makes the supervisor and every worker open the file again by name,
// so new lines (the supervisor's and the workers') go to the new file and none
// to the renamed one.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { Switchboard } = require('../lib/switchboard');
const { ScriptedUpstream } = require('../lib/scripted_upstream');
const { BoshSession } = require('../lib/bosh');
const { destroyAllSockets } = require('../lib/raw_http');
const { uniqueDomain } = require('./lib/stack');

after(() => destroyAllSockets());

for (const workers of [1, 2]) {
  test(`log_file with ${workers} worker(s): lines go to the file, SIGUSR1 follows a rename`, async (t) => {
    const upstream = await new ScriptedUpstream().start();
    const sb = new Switchboard({ upstreamPort: upstream.port, config: { workers } });
    t.after(async () => {
      destroyAllSockets();
      const problem = await sb.stop();
      await upstream.stop();
      if (problem) throw new Error(problem);
    });
    // The folder exists once the daemon is set up; the file goes there.
    sb.config = { workers, log_file: '' };
    await sb.start();
    // Every worker up before the first reload: the supervisor's "all 2 workers
    // listening" goes to stderr only while it still logs there (after the reload it
    // would be in the file, and a slow start, as under ASan, raced the wait below).
    if (workers > 1) await sb.waitForLog(/all 2 workers listening/);
    const logFile = path.join(sb.dir, 'sb.log');
    sb.writeConfig({ workers, log_file: logFile });
    sb.reload();  // log_file is live: the processes switch to the file
    const tag = workers === 1 ? /\[worker 0\]/ : /\[supervisor\]/;
    await sb.waitForLog(/reload (\d+ )?done/, { file: logFile });

    const first = await BoshSession.create(sb.port, uniqueDomain('before-rotate'));
    await sb.waitForLog(/session \S+ created for before-rotate/, { file: logFile });
    assert.match(fs.readFileSync(logFile, 'utf8'), tag);
    assert.doesNotMatch(sb.stderr(), /session \S+ created/, 'no session line on stderr any more');

    // logrotate: rename, then SIGUSR1.
    fs.renameSync(logFile, `${logFile}.1`);
    sb.reopenLogs();
    // Then a reload, which every process logs: each line must be in the new file.
    await new Promise((resolve) => setTimeout(resolve, 300));
    sb.reload();
    await sb.waitForLog(/reload (\d+ )?done/, { file: logFile });
    const sessions = [];
    for (let i = 0; i < 8; i += 1) sessions.push(await BoshSession.create(sb.port, uniqueDomain('after-rotate')));
    const fresh = await sb.waitForLog(/session \S+ created for after-rotate/, { file: logFile, count: 8 });
    const rotated = fs.readFileSync(`${logFile}.1`, 'utf8');
    assert.match(rotated, /session \S+ created for before-rotate/);
    assert.doesNotMatch(rotated, /after-rotate|reload 2|configuration 2/, 'nothing new in the renamed file');
    if (workers > 1) {
      assert.match(fresh, /\[supervisor\] SIGHUP: reloading/);
      assert.match(fresh, /\[worker 0\] configuration 2 applied/);
      assert.match(fresh, /\[worker 1\] configuration 2 applied/);
    }
    assert.ok(first.sid && sessions.length === 8);
  });
}
