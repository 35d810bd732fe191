'use strict';
// The house rule of src/ (docs/architecture.md, "Layers" and "app/"), checked over
// the #include lines and the line counts of the source files:
//
// - a layer includes only itself and the layers it is drawn above (LAYER_USES);
// - inside app/, a room includes only itself and the rooms before it (ROOMS);
// - no source file passes MAX_LINES.
//
// `node include_rule.js [src-dir]` prints each breach and exits 1 if there is one;
// include_rule.test.js runs it under ctest (layout_include_rule).

const fs = require('node:fs');
const path = require('node:path');

// Who may include whom, below app/. app/ may use every layer; the tools only the
// generic ones (they are not the daemon).
const LAYER_USES = {
  base: [],
  net: ['base'],
  xml: ['base'],
  http: ['base'],
  engine: ['base'],
  bosh: ['engine', 'xml', 'http', 'base'],
  ws: ['engine', 'http', 'xml', 'base'],
  xmpp: ['engine', 'xml', 'net', 'base'],
  app: ['ws', 'xmpp', 'bosh', 'engine', 'http', 'xml', 'net', 'base'],
  tools: ['net', 'xml', 'http', 'base'],
};
// app/'s rooms, in order: each may include those before it.
const ROOMS = ['log', 'config', 'front', 'metrics', 'handover', 'upgrade', 'keeper', 'process'];
const MAX_LINES = 600;

const INCLUDE = /^\s*#\s*include\s+"([^"]+)"/;

/** Where a file sits: { layer, room } from its path relative to src/. */
function placeOf(relative) {
  const parts = relative.split('/');
  return { layer: parts[0], room: parts[0] === 'app' && parts.length > 2 ? parts[1] : null };
}

/**
 * The breaches of one file, from its path relative to src/ ("app/front/x.cpp")
 * and its text: an array of strings, empty when the file keeps the rule.
 */
function breachesOf(relative, text) {
  const out = [];
  const from = placeOf(relative);
  const lines = text.split('\n');
  const count = text.endsWith('\n') ? lines.length - 1 : lines.length;
  if (count > MAX_LINES) out.push(`${relative}: ${count} lines, over the budget of ${MAX_LINES}`);
  if (!(from.layer in LAYER_USES)) {
    out.push(`${relative}: in no known layer (add it to LAYER_USES in tests/layout/include_rule.js)`);
    return out;
  }
  if (from.layer === 'app' && !ROOMS.includes(from.room)) {
    out.push(`${relative}: in no app/ room (${ROOMS.join(', ')})`);
    return out;
  }
  lines.forEach((line, i) => {
    const match = INCLUDE.exec(line);
    if (!match || !match[1].includes('/')) return;  // a local or generated header
    const target = match[1];
    const to = placeOf(target);
    const where = `${relative}:${i + 1}: includes "${target}"`;
    if (to.layer === from.layer) {
      if (from.layer !== 'app') return;
      const fromIndex = ROOMS.indexOf(from.room);
      const toIndex = ROOMS.indexOf(to.room);
      if (toIndex < 0) {
        out.push(`${where}, which is in no app/ room`);
      } else if (toIndex > fromIndex) {
        out.push(`${where}: app/${from.room}/ may include only ${ROOMS.slice(0, fromIndex + 1).join(', ')}`);
      }
      return;
    }
    if (!(to.layer in LAYER_USES)) return;  // a third-party header with a folder
    if (!LAYER_USES[from.layer].includes(to.layer)) {
      const allowed = LAYER_USES[from.layer].join(', ') || 'nothing';
      out.push(`${where}: ${from.layer}/ may use ${allowed}`);
    }
  });
  return out;
}

/** Every .cpp and .hpp under `dir`, relative to it. */
function sourceFiles(dir, prefix = '') {
  const out = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      out.push(...sourceFiles(dir, relative));
    } else if (/\.(cpp|hpp)$/.test(entry.name)) {
      out.push(relative);
    }
  }
  return out.sort();
}

/** The breaches of every source file under `srcDir`. */
function checkTree(srcDir) {
  const out = [];
  for (const relative of sourceFiles(srcDir)) {
    out.push(...breachesOf(relative, fs.readFileSync(path.join(srcDir, relative), 'utf8')));
  }
  return out;
}

module.exports = { LAYER_USES, ROOMS, MAX_LINES, breachesOf, checkTree, sourceFiles };

if (require.main === module) {
  const srcDir = process.argv[2] || path.join(__dirname, '..', '..', 'src');
  const breaches = checkTree(srcDir);
  for (const breach of breaches) process.stdout.write(`${breach}\n`);
  process.stdout.write(`${sourceFiles(srcDir).length} files checked, ${breaches.length} breaches\n`);
  process.exitCode = breaches.length === 0 ? 0 : 1;
}
