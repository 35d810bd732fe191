'use strict';
// Scraping Switchboard's /metrics in the tests: the text, checked by
// Prometheus's own `promtool check metrics` (Debian package `prometheus`), and
// parsed into { 'name{labels}': value } for comparing with what a test did.

const http = require('node:http');
const { spawnSync } = require('node:child_process');

function get(url, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}

/** `promtool check metrics` on `text`: { ok, output }. Lint problems fail it too. */
function promtoolCheck(text) {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10000 });
  if (run.error) throw new Error(`promtool: ${run.error.message} (install the Debian package prometheus)`);
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}

/** Samples of the exposition text: { 'name' or 'name{a="b",...}': number }. */
function parseMetrics(text) {
  const samples = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return samples;
}

/** Scrapes `url`; throws unless it answers 200 with the 0.0.4 content type. */
async function scrape(url) {
  const res = await get(url);
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  if (!/^text\/plain; version=0\.0\.4/.test(res.headers['content-type'] || '')) {
    throw new Error(`GET ${url}: content type ${res.headers['content-type']}`);
  }
  return { text: res.text, samples: parseMetrics(res.text) };
}

/** The sum of every sample of `name` (all label sets). */
function total(samples, name) {
  let sum = 0;
  for (const [key, value] of Object.entries(samples)) {
    if (key === name || key.startsWith(`${name}{`)) sum += value;
  }
  return sum;
}

module.exports = { get, promtoolCheck, parseMetrics, scrape, total };
