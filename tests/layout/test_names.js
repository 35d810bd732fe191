'use strict';
// Every doctest case reaches ctest under its own name. doctest_discover_tests
// registers each case as `<binary> --test-case=<name>` in a CMake list, where a
// ';' splits one case into two ctest entries that each match no case: doctest
// runs nothing, exits 0, and ctest counts two passes. 32 cases were silently
// never run that way. This check lists the cases of every doctest binary of the
// build (unit_*) and fails on a name that such a list would cut.
//
//   node tests/layout/test_names.js <build dir>
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

function binaries(dir, found = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'CMakeFiles') continue;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) binaries(file, found);
    else if (/^unit_[a-z_]+$/.test(entry.name) && (fs.statSync(file).mode & 0o111)) found.push(file);
  }
  return found;
}

const build = process.argv[2];
if (!build) throw new Error('usage: test_names.js <build dir>');
const found = binaries(path.resolve(build));
if (found.length === 0) throw new Error(`no unit_* binaries under ${build}: build first`);
const bad = [];
let cases = 0;
for (const binary of found) {
  const listed = execFileSync(binary, ['--list-test-cases', '--no-version'], { encoding: 'utf8' });
  for (const line of listed.split('\n')) {
    if (!line || line.startsWith('[doctest]') || /^=+$/.test(line)) continue;
    cases++;
    if (line.includes(';')) bad.push(`${path.basename(binary)}: ${line}`);
  }
}
if (bad.length > 0) {
  console.error(`${bad.length} test case names hold ';', which cuts them in two in ctest (use ','):`);
  for (const b of bad) console.error(`  ${b}`);
  process.exit(1);
}
console.log(`${cases} test cases in ${found.length} binaries, every name whole in ctest`);
