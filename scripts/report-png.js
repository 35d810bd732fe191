#!/usr/bin/env node
// PNG images of the charts of a switchboard-soak HTML report, for docs/benchmarks.md:
//
//   node scripts/report-png.js REPORT.html OUT_DIR [--prefix NAME-] [--scale 2]
//
// writes OUT_DIR/<prefix>chart-sessions.png, ...-logins, -messages, -latency,
// -errors, -rss, -cpu, -fds, -loop-lag (each chart with its title and legend), and
// OUT_DIR/<prefix>summary.png (the tables at the top). It opens the report in
// headless Chromium through playwright-core (tests/integration/node_modules; see
// scripts/install-deps.sh), offline: any request that is not for the file itself
// is refused and makes the script fail, as would a script error on the page.
//
// Also a module: the browser test (tests/tools/report/html_report_browser.test.js)
// uses launchBrowser() and openReport() to check the page the same way.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const repoRoot = path.resolve(__dirname, '..');

function loadPlaywright() {
  try {
    return require('playwright-core');
  } catch {
    return require(path.join(repoRoot, 'tests/integration/node_modules/playwright-core'));
  }
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A headless Chromium of our own (a private profile, removed on close()).
// Returns { openReport(htmlFile), close() }.
async function launchBrowser({ scale = 1, width = 1100 } = {}) {
  const { chromium } = loadPlaywright();
  const executablePath = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-report-png-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30000,
      viewport: { width, height: 900 }, deviceScaleFactor: scale,
    });
  } catch (err) {
    fs.rmSync(profileDir, { recursive: true, force: true });
    throw err;
  }
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profileDir, { recursive: true, force: true });
  };
  return { openReport: (htmlFile) => openReport(context, htmlFile), close };
}

// Opens `htmlFile` in a new page and waits until the page script has drawn
// everything (body[data-ready="1"]). Returns { page, errors, requests }: errors
// are the page's uncaught script errors and console errors, requests every URL
// it tried to load other than the file itself (all refused).
async function openReport(context, htmlFile) {
  const url = pathToFileURL(path.resolve(htmlFile)).href;
  const errors = [];
  const requests = [];
  const page = await context.newPage();
  await page.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    requests.push(route.request().url());
    return route.abort();
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`console: ${msg.text()}`); });
  page.on('request', (req) => { if (req.url() !== url && !requests.includes(req.url())) requests.push(req.url()); });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 }).catch(() => {
    errors.push('the page script did not finish (body[data-ready] never set)');
  });
  return { page, errors, requests };
}

// Screenshots every chart figure and the summary into outDir; returns the paths.
async function screenshotCharts(page, outDir, prefix = '') {
  fs.mkdirSync(outDir, { recursive: true });
  const written = [];
  const summary = path.join(outDir, `${prefix}summary.png`);
  // The heading, the banners and the tables, as one image.
  const top = await page.locator('header').boundingBox();
  const bottom = await page.locator('#summary').boundingBox();
  const width = page.viewportSize().width;
  await page.screenshot({ path: summary, fullPage: true,
    clip: { x: 0, y: Math.max(0, top.y - 8), width, height: bottom.y + bottom.height - top.y + 16 } });
  written.push(summary);
  for (const fig of await page.locator('figure.chart').all()) {
    const id = await fig.getAttribute('id');
    const file = path.join(outDir, `${prefix}${id}.png`);
    await fig.screenshot({ path: file });
    written.push(file);
  }
  return written;
}

async function main(argv) {
  const args = argv.slice(2);
  let prefix = '';
  let scale = 1;
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--prefix') prefix = args[++i] || '';
    else if (args[i] === '--scale') scale = Number(args[++i]) || 1;
    else positional.push(args[i]);
  }
  if (positional.length !== 2) {
    console.error('usage: node scripts/report-png.js REPORT.html OUT_DIR [--prefix NAME-] [--scale 2]');
    return 2;
  }
  const [html, outDir] = positional;
  const browser = await launchBrowser({ scale });
  try {
    const report = await browser.openReport(html);
    const files = await screenshotCharts(report.page, outDir, prefix);
    for (const f of files) console.log(f);
    if (report.errors.length || report.requests.length) {
      console.error(['report-png: the page is not clean:', ...report.errors,
        ...report.requests.map((u) => `request: ${u}`)].join('\n  '));
      return 1;
    }
    return 0;
  } finally {
    await browser.close();
  }
}

module.exports = { launchBrowser, screenshotCharts };

if (require.main === module) {
  main(process.argv).then((code) => { process.exitCode = code; }, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
