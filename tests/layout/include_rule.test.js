'use strict';
// The house rule of src/ holds (include_rule.js): layers include downwards only,
// app/'s rooms only the rooms before them, no file over the line budget. The rule
// itself is tried on made-up files first, so a check that passes everything
// cannot pass here.

const assert = require('node:assert/strict');
const path = require('node:path');
const { test } = require('node:test');

const { breachesOf, checkTree, sourceFiles, MAX_LINES } = require('./include_rule');

test('the rule catches an include up a layer, across rooms the wrong way, and a long file', () => {
  assert.deepEqual(breachesOf('bosh/session.cpp', '#include "bosh/session.hpp"\n#include "xml/escape.hpp"\n'), []);
  assert.deepEqual(breachesOf('app/process/worker.cpp', '#include "app/front/http_socket.hpp"\n'), []);
  assert.deepEqual(breachesOf('app/front/x.cpp', '#include "app/front/y.hpp"\n#include <uv.h>\n#include "llhttp.h"\n'), []);

  const up = breachesOf('net/tcp_stream.cpp', '#include "net/tcp_stream.hpp"\n#include "bosh/session.hpp"\n');
  assert.equal(up.length, 1);
  assert.match(up[0], /net\/tcp_stream\.cpp:2: includes "bosh\/session\.hpp": net\/ may use base/);

  const intoApp = breachesOf('xmpp/upstream_link.cpp', '#include "app/log/log.hpp"\n');
  assert.match(intoApp[0], /xmpp\/ may use engine, xml, net/);

  // The transports share engine/, never each other: ws/ and xmpp/ use no bosh/.
  assert.equal(breachesOf('ws/ws_session.cpp', '#include "bosh/session.hpp"\n').length, 1);
  assert.equal(breachesOf('xmpp/upstream_link.hpp', '#include "bosh/settings.hpp"\n').length, 1);
  assert.deepEqual(breachesOf('ws/ws_session.hpp', '#include "engine/upstream.hpp"\n'), []);

  // base/ is the bottom: every layer may use it, it uses none.
  assert.deepEqual(breachesOf('xml/x.cpp', '#include "base/ascii_case.hpp"\n'), []);
  const baseUp = breachesOf('base/timer_wheel.cpp', '#include "net/loop_context.hpp"\n');
  assert.equal(baseUp.length, 1);
  assert.match(baseUp[0], /base\/ may use nothing/);

  const backwards = breachesOf('app/front/http_socket.hpp', '#include "app/metrics/metrics_recorder.hpp"\n');
  assert.equal(backwards.length, 1);
  assert.match(backwards[0], /app\/front\/ may include only log, config, front/);

  const roomless = breachesOf('app/misc.cpp', '');
  assert.match(roomless[0], /in no app\/ room/);

  const long = breachesOf('ws/frames.cpp', 'x\n'.repeat(MAX_LINES + 1));
  assert.match(long[0], new RegExp(`${MAX_LINES + 1} lines, over the budget of ${MAX_LINES}`));
  assert.deepEqual(breachesOf('ws/frames.cpp', 'x\n'.repeat(MAX_LINES)), []);
});

test('src/ keeps the rule', () => {
  const srcDir = path.join(__dirname, '..', '..', 'src');
  assert.ok(sourceFiles(srcDir).length > 100, 'the source files are found');
  assert.deepEqual(checkTree(srcDir), []);
});
