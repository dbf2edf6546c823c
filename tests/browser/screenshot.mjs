// Makes the README's screenshot of a real report:
//   cargo run --release -- report fixtures/call-freed-early/caller.log \
//       fixtures/call-freed-early/callee.log -o target/readme-report.html
//   node tests/browser/screenshot.mjs target/readme-report.html docs/img/report.png "603 Decline"
// It opens the report in headless Chromium (as the browser test does), opens the first call,
// clicks the arrow with the given label, and saves a screenshot of the page.
import { chromium } from 'playwright-core';
import path from 'node:path';

const [report, out, label] = process.argv.slice(2);
if (!report || !out) {
  console.error('usage: node screenshot.mjs REPORT.html OUT.png [ARROW-LABEL]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await page.goto('file://' + path.resolve(report));
  await page.waitForSelector('body[data-ready="1"]');
  await page.click('#call-list .row');
  await page.waitForSelector('#ladder svg.ladder g.msg');
  const arrows = page.locator('#ladder g.msg');
  const arrow = label ? arrows.filter({ hasText: label }).first() : arrows.first();
  await arrow.click();
  await page.waitForSelector('#panel pre.raw');
  await page.screenshot({ path: out, fullPage: true });
} finally {
  await browser.close();
}
