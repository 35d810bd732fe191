'use strict';
// The worker processes of a supervising switchboard, read from /proc: which pid
// runs which worker index (its `--worker-index` argument), the same for its
// keepers (`--keeper I`, docs/crash.md), and what state a process is in. Tests
// and benchmarks use it to stop, kill or watch one process by its pid.

const fs = require('node:fs');

/** The fields of /proc/PID/stat after the command name (which may hold spaces), or null. */
function statFields(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;  // no such process (any more)
  }
}

/** The children of `supervisorPid` whose command line has `flag I`: [{ pid, index }] by index, zombies left out. */
function childrenWith(supervisorPid, flag) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (!fields || Number(fields[1]) !== supervisorPid || fields[0] === 'Z') continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = args.indexOf(flag);
      if (at >= 0) found.push({ pid: Number(entry), index: Number(args[at + 1]) });
    } catch { /* the process ended while we looked */ }
  }
  return found.sort((a, b) => a.index - b.index);
}

/** The worker processes of `supervisorPid`: [{ pid, index }] by index. */
const workerProcesses = (supervisorPid) => childrenWith(supervisorPid, '--worker-index');
/** Its keeper processes (keep_sessions): [{ pid, index }] by index. */
const keeperProcesses = (supervisorPid) => childrenWith(supervisorPid, '--keeper');

/** The state letter of a process (R, S, T for stopped, Z for a zombie...), or null if gone. */
function processState(pid) {
  const fields = statFields(pid);
  return fields ? fields[0] : null;
}

/** True while a process with this pid exists (zombies count as gone). */
function processAlive(pid) {
  const state = processState(pid);
  return state !== null && state !== 'Z';
}

/** The worker index a sid names ("w2.xyz" -> 2), or null. */
function workerOfSid(sid) {
  const match = /^(?:[A-Za-z0-9]+\.)?w(\d+)\./.exec(sid || '');
  return match ? Number(match[1]) : null;
}

module.exports = { workerProcesses, keeperProcesses, processState, processAlive, workerOfSid };
