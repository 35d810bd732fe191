// The HTML report in headless Chromium: rendered by the real write_html_report()
// (through soak_report_render, SB_REPORT_RENDER), opened from file:// with every
// other request refused, it must draw every chart with no script error, keep the
// embedded JSON exactly as written (a "</script>" in a string included, and no
// script of the report's text ever runs), show the overload warning when the
// generator was overloaded, and survive a report with nothing in it.
// Run: ctest -L tools (or SB_REPORT_RENDER=build/tests/tools/report/soak_report_render
//      node --test tests/tools/report/html_report_browser.test.js).
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '../../..');
const { launchBrowser } = require(path.join(repoRoot, 'scripts/report-png.js'));
const SAMPLE = path.join(__dirname, 'sample_report.json');
const RENDER = process.env.SB_REPORT_RENDER || path.join(repoRoot, 'build/tests/tools/report/soak_report_render');
const CHART_IDS = ['sessions', 'logins', 'messages', 'latency', 'errors', 'rss', 'cpu', 'fds', 'loop-lag'];

let browser;
let dir;

// Writes `report` as JSON, renders it with the C++ writer, opens it.
async function open(name, report) {
  const json = path.join(dir, `${name}.json`);
  const html = path.join(dir, `${name}.html`);
  fs.writeFileSync(json, typeof report === 'string' ? report : JSON.stringify(report));
  execFileSync(RENDER, [json, html], { stdio: 'inherit' });
  const opened = await browser.openReport(html);
  return { ...opened, html };
}

function assertClean(opened) {
  assert.deepEqual(opened.errors, [], 'no script error on the page');
  assert.deepEqual(opened.requests, [], 'no request other than the file itself');
}

describe('the HTML report in headless Chromium', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-report-test-'));
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart of the sample report, offline and without a script error', async () => {
    const sample = JSON.parse(fs.readFileSync(SAMPLE, 'utf8'));
    const r = await open('sample', sample);
    try {
      assertClean(r);
      const drawn = await r.page.evaluate(() => Object.fromEntries(Object.entries(window.sbReportCharts)
          .map(([id, c]) => [id, c.data.datasets.map((d) => d.data.filter((p) => p.y !== null).length)])));
      assert.deepEqual(Object.keys(drawn).sort(), [...CHART_IDS].sort());
      const points = sample.timeline.length;
      assert.deepEqual(drawn.sessions, [points, points], 'sessions held and the target line');
      assert.deepEqual(drawn.messages, [points, points], 'sent/s and received/s');
      assert.deepEqual(drawn.latency, [points, points, points, points], 'p50, p90, p99, max');
      assert.equal(drawn.errors.length, Object.keys(sample.errors_by_kind).length, 'one series per error kind');
      assert.deepEqual(drawn.rss, [points, points], 'one RSS series per watched process');
      assert.deepEqual(drawn.cpu, [points - 1, points - 1], 'CPU % needs two samples');
      // Each canvas was actually painted (not blank).
      for (const id of CHART_IDS) {
        const inked = await r.page.evaluate((cid) => {
          const canvas = document.querySelector(`#chart-${cid} canvas`);
          const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
          let n = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
          return n;
        }, id);
        assert.ok(inked > 1000, `chart ${id} has ${inked} painted pixels`);
      }
      const text = await r.page.locator('#summary').innerText();
      for (const figure of ['10,000', '27,757', '27,754', '5,012', '48.7', 'switchboard-stub pid 4300', 'http_503']) {
        assert.ok(text.includes(figure), `summary shows ${figure}`);
      }
      assert.equal(await r.page.locator('#overload-banner').count(), 0, 'no overload warning');
      assert.equal(await r.page.locator('#errors-banner').count(), 1, 'errors and losses are flagged');

      // The log-scale switch of the latency chart.
      const before = await r.page.evaluate(() => window.sbReportCharts.latency.options.scales.y.type);
      await r.page.locator('#log-latency').click();
      const afterToggle = await r.page.evaluate(() => window.sbReportCharts.latency.scales.y.type);
      assert.notEqual(afterToggle, before);
      assertClean(r);
    } finally {
      await r.page.close();
    }
  });

  it('keeps the embedded JSON intact and runs none of its text', async () => {
    const report = JSON.parse(fs.readFileSync(SAMPLE, 'utf8'));
    report.options['user-pattern'] = 'u%d</script><script>window.pwned = 1</script>';
    report.options.note = '<!-- <script> --> </SCRIPT > \u2028 & "quotes" \\ \u00e9';
    report.target = 'http://127.0.0.1:5280/http-bind?</script><img src=x onerror="window.pwned=2">';
    report.errors_by_kind['terminate:<b>bold</b>'] = 1;
    report.generator.overloaded = true;
    report.generator.verdict = 'overloaded: event-loop lag reached 812 ms';
    const r = await open('hostile', report);
    try {
      assertClean(r);
      const parsed = await r.page.evaluate(() => JSON.parse(document.getElementById('report-data').textContent));
      assert.deepEqual(parsed, report, 'the page reads back exactly the report');
      assert.equal(await r.page.evaluate(() => window.pwned), undefined, 'no text of the report ran');
      assert.equal(await r.page.locator('img').count(), 0, 'no markup of the report was parsed');
      assert.equal(await r.page.locator('script').count(), 3, 'only the three scripts of the template');
      const banner = r.page.locator('#overload-banner');
      assert.equal(await banner.count(), 1, 'the overload warning is shown');
      assert.match(await banner.innerText(), /overloaded.*812 ms/s);
      assert.ok((await r.page.locator('#summary').innerText()).includes('terminate:<b>bold</b>'));
    } finally {
      await r.page.close();
    }
  });

  it('shows an almost empty report without failing', async () => {
    const r = await open('empty', { tool: 'switchboard-soak', target: 'http://127.0.0.1:1/' });
    try {
      assertClean(r);
      assert.equal(await r.page.locator('figure.chart').count(), CHART_IDS.length);
      assert.equal(await r.page.locator('figure.chart canvas').count(), 0);
      assert.equal(await r.page.locator('figure.chart .empty').count(), CHART_IDS.length);
    } finally {
      await r.page.close();
    }
  });
});
