'use strict';
// What the benchmarks and the hostile soak read about a running process from
// /proc: resident memory (VmRSS, and its anonymous and file-backed parts), the
// number of open file descriptors and the CPU time used so far. Linux only; the
// scripts run the daemons as our children, so we may always read these (as root
// even after they switched user).

const fs = require('node:fs');

/**
 * Memory figures of `pid` in bytes: { rss, anon, file, peak, pss, pssAnon }.
 * PSS (proportional set size, /proc/PID/smaps_rollup) charges each shared page to
 * the processes sharing it in equal parts, so PSS summed over a supervisor and its
 * workers counts the code and library pages they share once, where summed RSS
 * counts them once per process.
 */
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  };
  let pss = NaN;
  let pssAnon = NaN;
  try {
    const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name) => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup);
      return match ? Number(match[1]) * 1024 : NaN;
    };
    pss = field('Pss');
    pssAnon = field('Pss_Anon');
  } catch { /* no smaps_rollup (kernel before 4.14) */ }
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile'), peak: kib('VmHWM'), pss, pssAnon };
}

/** Open file descriptors of `pid`. */
function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

// Clock ticks per second of /proc/PID/stat times: 100 on every Linux we run on.
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds `pid` has used so far. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state (3).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime (14), stime (15)
}

// Whether this kernel keeps each thread's children list (CONFIG_PROC_CHILDREN).
const HAVE_CHILDREN_LISTS = fs.existsSync(`/proc/self/task/${process.pid}/children`);

/**
 * `pid` and all its descendants (a supervisor and its workers, say). Read from
 * the kernel's list of each thread's children (/proc/PID/task/TID/children),
 * which costs a few reads per process, so a sampler may call it every few ms;
 * on a kernel without those lists, from the parent of every process in /proc.
 */
function processTree(pid) {
  if (!HAVE_CHILDREN_LISTS) return processTreeByScan(pid);
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    let tasks = [];
    try { tasks = fs.readdirSync(`/proc/${tree[i]}/task`); } catch { continue; }  // gone meanwhile
    for (const task of tasks) {
      let text = '';
      try { text = fs.readFileSync(`/proc/${tree[i]}/task/${task}/children`, 'utf8'); } catch { continue; }
      for (const child of text.split(' ')) if (child.trim()) tree.push(Number(child));
    }
  }
  return tree;
}

function processTreeByScan(pid) {
  const parentOf = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone meanwhile */ }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/**
 * One snapshot of `pid` and its descendants, summed: memory, fds and CPU time.
 * Summing keeps the figures right if the daemon runs as a supervisor with
 * worker processes (today, with workers = 1, it is a single process).
 */
function snapshot(pid) {
  const total = { rss: 0, anon: 0, file: 0, peak: 0, pss: 0, pssAnon: 0, fds: 0, cpu: 0, processes: 0 };
  for (const p of processTree(pid)) {
    try {
      const m = memory(p);
      const one = { ...m, fds: fdCount(p), cpu: cpuSeconds(p) };
      for (const key of ['rss', 'anon', 'file', 'peak', 'pss', 'pssAnon', 'fds', 'cpu']) total[key] += one[key];
      total.processes++;
    } catch { /* exited meanwhile */ }
  }
  return total;
}

const MiB = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;

module.exports = { memory, fdCount, cpuSeconds, processTree, snapshot, MiB };
