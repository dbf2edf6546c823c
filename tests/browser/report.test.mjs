// Opens sipflow HTML reports in headless Chromium and checks them through the page's DOM
// contract (body[data-ready], #call-list rows, #call-view, #ladder svg.ladder, #panel, …).
// Run by tests/integration/browser.rs:  node tests/browser/report.test.mjs MANIFEST.json
//
// The manifest: { "screenshots": DIR?, "reports": [{ name, path, calls, findings, hostile, big,
// last_key?, keyboard?, width?, clipped?, searches?: [{ query, count?, call_ids?, hint? }] }],
// "mermaid": [{ name, path }] }. `keyboard` runs the arrow-key checks, `width` sets the window
// width, `clipped` asks that some cell of the list be clipped (so that its tooltip is tested),
// and each search expects that many lines, or exactly the lines of those Call-IDs. Prints one
// line per check; exits 1 with the list of failures when any check fails. Nothing here asserts
// timing.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const READY_TIMEOUT = 30_000;
const BIG_READY_TIMEOUT = 180_000;
const STEP_TIMEOUT = 10_000;
const SIP_START = /^(\w+ \S+ SIP\/2\.0|SIP\/2\.0 \d{3})/;
const HOSTILE = ['<script>', '"><img src=x onerror=', '</svg>'];

const manifestPath = process.argv[2];
if (!manifestPath) {
  console.error('usage: node report.test.mjs MANIFEST.json');
  process.exit(2);
}
const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
const shotDir = manifest.screenshots || path.resolve('target/browser');
fs.mkdirSync(shotDir, { recursive: true });

const failures = [];
let passed = 0;

function check(name, what, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok    ${name}: ${what}`);
  } else {
    const line = `${name}: ${what}${detail !== undefined ? ' — ' + detail : ''}`;
    failures.push(line);
    console.log(`FAIL  ${line}`);
  }
  return ok;
}

// Distinct messages, at most `n`, each shortened.
function listed(messages, n = 5) {
  const distinct = [...new Set(messages)];
  const more = distinct.length > n ? ` (+${distinct.length - n} more distinct)` : '';
  return distinct.slice(0, n).map((m) => short(m, 400)).join(' | ') + more;
}

function short(text, max = 200) {
  const t = String(text).replace(/\x1b\[[0-9;]*m/g, '').replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max) + '…' : t;
}

// Clicks a point inside `locator` whose hit-test lands on the element or a descendant (SVG
// groups have empty space inside their bounding box, where a click would hit the <svg>).
async function clickInside(page, locator) {
  await locator.scrollIntoViewIfNeeded({ timeout: STEP_TIMEOUT });
  const point = await locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const cols = 24;
    const rows = 9;
    for (let j = 0; j <= rows; j++) {
      for (let i = 0; i <= cols; i++) {
        const x = r.left + 1 + ((r.width - 2) * i) / cols;
        const y = r.top + 1 + ((r.height - 2) * (j % 2 ? rows - j : j)) / rows;
        const hit = document.elementFromPoint(x, y);
        if (hit && el.contains(hit) && (!el.matches('g.msg, g.note') || !hit.closest('g.badge'))) return { x, y };
      }
    }
    return null;
  });
  if (!point) throw new Error('no point of the element receives clicks');
  await page.mouse.click(point.x, point.y);
}

async function countText(page) {
  return (await page.locator('#count').textContent()) || '';
}

function parseCount(text) {
  const m = /^(\d+) of (\d+) shown$/.exec(text.trim());
  return m ? { shown: Number(m[1]), total: Number(m[2]) } : null;
}

// Scrolls the call list down by about a screen, as a user would; false at its end.
async function scrollCallListDown(page) {
  return page.evaluate(() => {
    const l = document.querySelector('#call-list');
    const before = l.scrollTop;
    l.scrollTop = before + Math.max(1, l.clientHeight - 10);
    l.dispatchEvent(new Event('scroll'));
    return l.scrollTop !== before;
  });
}

// Scrolls #call-list from the top until a row matching `selector` is rendered.
async function findRow(page, selector) {
  await page.evaluate(() => {
    const l = document.querySelector('#call-list');
    l.scrollTop = 0;
    l.dispatchEvent(new Event('scroll'));
  });
  for (let guard = 0; guard < 100_000; guard++) {
    const row = page.locator(`#call-list ${selector}`).first();
    if (await row.count()) return row;
    const moved = await scrollCallListDown(page);
    if (!moved) return null;
  }
  return null;
}

async function openRow(page, row) {
  await row.click({ timeout: STEP_TIMEOUT });
  await page.waitForFunction(() => {
    const v = document.querySelector('#call-view');
    return v && !v.hidden && document.querySelector('#ladder svg.ladder');
  }, null, { timeout: STEP_TIMEOUT });
}

async function checkReport(browser, r) {
  const name = r.name;
  const context = await browser.newContext({ viewport: { width: r.width || 1500, height: 1000 } });
  const page = await context.newPage();
  const consoleMsgs = [];
  const pageErrors = [];
  const external = [];
  // A console error or an uncaught exception ends the wait for data-ready at once (a blocked
  // or broken script would otherwise only show as a timeout).
  let broken;
  const fatal = new Promise((_, reject) => {
    broken = reject;
  });
  fatal.catch(() => {});
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    consoleMsgs.push(`${m.type()}: ${m.text()}`);
    if (m.type() === 'error') broken(new Error(`console error: ${m.text()}`));
  });
  page.on('pageerror', (e) => {
    pageErrors.push(String(e && e.stack ? e.stack : e));
    broken(new Error(`uncaught page error: ${e}`));
  });
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith('file:') && !u.startsWith('data:')) external.push(`${req.method()} ${u}`);
  });
  page.on('websocket', (ws) => external.push(`websocket ${ws.url()}`));
  await context.route(/^(?!file:|data:)/, (route) => {
    external.push(`routed ${route.request().url()}`);
    return route.abort();
  });

  try {
    const timeout = r.big ? BIG_READY_TIMEOUT : READY_TIMEOUT;
    // After a console error, give the page a second; if it is still not ready, stop waiting.
    const abort = fatal.catch(async (e) => {
      await page.waitForTimeout(1000).catch(() => {});
      const ready = await page.evaluate(() => document.body && document.body.dataset.ready).catch(() => undefined);
      if (!['1', 'error'].includes(ready)) throw e;
      return new Promise(() => {});
    });
    abort.catch(() => {});
    await Promise.race([page.goto(pathToFileURL(r.path).href, { waitUntil: 'load', timeout }), abort]);
    await Promise.race([
      page.waitForFunction(() => ['1', 'error'].includes(document.body && document.body.dataset.ready), null, { timeout }),
      abort,
    ]);
    const ready = await page.evaluate(() => document.body.dataset.ready);
    const loadError = await page.locator('#load-error').textContent();
    if (!check(name, 'page loads its data (body[data-ready="1"])', ready === '1', `ready=${ready}, #load-error: ${short(loadError || '')}`)) return;
    check(name, '#summary is rendered', (await page.locator('#summary').count()) === 1 && ((await page.locator('#summary').textContent()) || '').trim().length > 0);

    const count = parseCount(await countText(page));
    check(name, `#count reads "N of N shown"`, count && count.shown === count.total, `#count: ${await countText(page)}`);
    if (r.calls !== null && r.calls !== undefined) {
      check(name, `#count totals ${r.calls} calls and flows`, count && count.total === r.calls, `#count: ${await countText(page)}`);
    }
    const total = count ? count.total : 0;
    const rows = await page.locator('#call-list .row').count();
    if (total === 0) {
      check(name, 'an empty report shows no rows', rows === 0, `${rows} rows`);
    } else {
      check(name, 'the call list shows rows', rows > 0, `${rows} rows`);
      check(name, 'the call list renders only visible rows', rows <= total && (total < 200 || rows < 200), `${rows} rows of ${total}`);
      await interact(page, r, total);
    }

    if (total > 0) await tooltipChecks(page, r);
    if (r.searches) await searchChecks(page, r, total);
    if (r.keyboard && total >= 3) await keyboardChecks(page, r, total);
    if (r.hostile) await hostileChecks(page, r);
    if (r.big && total > 0) await bigChecks(page, r, total);

    await page.locator('#call-list').scrollIntoViewIfNeeded().catch(() => {});
    const shot = path.join(shotDir, `${name}.png`);
    await page.screenshot({ path: shot, fullPage: true, timeout: 60_000 });
    check(name, `screenshot ${path.relative(process.cwd(), shot)}`, fs.existsSync(shot));
  } catch (e) {
    check(name, 'no exception while checking', false, short(e && e.message ? e.message : e, 600));
    try {
      await page.screenshot({ path: path.join(shotDir, `${name}.failed.png`), fullPage: true, timeout: 30_000 });
    } catch {}
  } finally {
    // Let late console messages (e.g. a CSP report after a click) arrive.
    await page.waitForTimeout(50).catch(() => {});
    check(name, 'no console errors or warnings', consoleMsgs.length === 0, listed(consoleMsgs));
    check(name, 'no uncaught page errors', pageErrors.length === 0, listed(pageErrors));
    check(name, 'no network requests (only file: and data:)', external.length === 0, listed(external, 10));
    await context.close();
  }
}

async function interact(page, r, total) {
  const name = r.name;
  let row = page.locator('#call-list .row').first();
  if (r.findings) {
    const withFinding = await findRow(page, '.row:has(.findings .sev)');
    check(name, 'a row shows a rule badge', withFinding !== null);
    if (withFinding) row = withFinding;
    else row = page.locator('#call-list .row').first();
  }
  const key = await row.getAttribute('data-key');
  const cid = ((await row.locator('.call-id').textContent()) || '').trim();
  await openRow(page, row);
  check(name, `opening row ${key} shows #call-view with a title`, ((await page.locator('#call-title').textContent()) || '').trim().length > 0);
  const msgs = page.locator('#ladder svg.ladder g.msg');
  const nMsgs = await msgs.count();
  if (check(name, `the ladder of ${key} draws arrows`, nMsgs >= 1, `${nMsgs} g.msg`)) {
    let arrow = page.locator('#ladder svg.ladder g.msg:not(.malformed)').first();
    const wellFormed = (await arrow.count()) > 0;
    if (!wellFormed) arrow = msgs.first();
    await clickInside(page, arrow);
    const raw = page.locator('#panel pre.raw');
    await raw.first().waitFor({ timeout: STEP_TIMEOUT });
    const text = (await raw.first().textContent()) || '';
    if (wellFormed) check(name, 'clicking an arrow shows the raw SIP message', SIP_START.test(text), `panel starts with ${JSON.stringify(text.slice(0, 80))}`);
    else check(name, 'clicking a malformed arrow shows its raw bytes', text.length > 0);
  }
  if (r.findings) {
    const badges = page.locator('#ladder svg.ladder g.badge');
    const nBadges = await badges.count();
    if (check(name, `the ladder of ${key} has finding badges`, nBadges >= 1, `${nBadges} g.badge`)) {
      await clickInside(page, badges.first());
      const finding = page.locator('#panel .finding');
      await finding.first().waitFor({ timeout: STEP_TIMEOUT }).catch(() => {});
      check(name, 'clicking a badge shows the finding in #panel', (await finding.count()) >= 1);
    }
    check(name, '#call-findings lists the findings of the call', (await page.locator('#call-findings .finding').count()) >= 1);
  }
  const notes = page.locator('#ladder svg.ladder g.note');
  if ((await notes.count()) > 0) {
    await clickInside(page, notes.first());
    const raw = page.locator('#panel pre.raw');
    await raw.first().waitFor({ timeout: STEP_TIMEOUT }).catch(() => {});
    const text = (await raw.first().textContent().catch(() => '')) || '';
    check(name, 'clicking a log note shows the log line', text.trim().length > 0 && !SIP_START.test(text), JSON.stringify(text.slice(0, 80)));
  }

  // Search by a fragment of the Call-ID of the opened row.
  const needle = cid.length >= 4 ? cid.slice(Math.floor(cid.length / 4), Math.floor(cid.length / 4) + Math.max(3, Math.min(12, Math.ceil(cid.length / 2)))) : key;
  await page.fill('#search', needle);
  const afterSearch = parseCount(await countText(page));
  const shownRows = await page.locator('#call-list .row').evaluateAll((els) => els.map((e) => [e.dataset.key, e.textContent.toLowerCase()]));
  check(name, `searching ${JSON.stringify(needle)} narrows the list`, afterSearch && afterSearch.shown >= 1 && afterSearch.shown <= total && shownRows.length <= afterSearch.shown, `#count: ${await countText(page)}`);
  check(name, 'the searched row is still listed', shownRows.some(([k]) => k === key), `rows: ${shownRows.map(([k]) => k).join(',')}`);
  if (cid.length >= 4) {
    const n = needle.toLowerCase();
    const stray = shownRows.filter(([, t]) => !t.includes(n)).map(([k]) => k);
    check(name, 'every listed row matches the search', stray.length === 0, `rows without it: ${stray.join(',')}`);
  }
  await page.fill('#search', '');
  const cleared = parseCount(await countText(page));
  check(name, 'clearing the search shows every row again', cleared && cleared.shown === total, `#count: ${await countText(page)}`);

  // The severity filters.
  for (const [value, wantBadges] of [['none', false], ['info', true]]) {
    await page.selectOption('#filter-severity', value);
    const c = parseCount(await countText(page));
    const badgesPerRow = await page.locator('#call-list .row').evaluateAll((els) => els.map((e) => e.querySelectorAll('.findings .sev').length));
    const wrong = badgesPerRow.filter((n) => (n > 0) !== wantBadges).length;
    check(name, `#filter-severity=${value} lists only rows ${wantBadges ? 'with' : 'without'} findings`, c && c.shown <= total && wrong === 0 && badgesPerRow.length <= c.shown, `#count: ${await countText(page)}, ${wrong} wrong rows`);
    if (value === 'info' && r.findings) check(name, '#filter-severity=info keeps the rows with findings', c && c.shown >= 1, `#count: ${await countText(page)}`);
  }
  await page.selectOption('#filter-severity', '');
  const reset = parseCount(await countText(page));
  check(name, 'resetting the severity filter shows every row', reset && reset.shown === total, `#count: ${await countText(page)}`);

  // Leave a raw message in the panel for the screenshot.
  const shown = page.locator('#ladder svg.ladder g.msg');
  if (await shown.count()) {
    const withBadge = page.locator('#ladder svg.ladder g.msg:has(g.badge)');
    await clickInside(page, (await withBadge.count()) ? withBadge.first() : shown.first());
  }
}

// Every cell of the list that can be clipped (start, Call-ID, from, to, outcome, findings) and
// every cell that is clipped has its whole text as a tooltip (title): each of its text pieces
// is in the title.
async function tooltipChecks(page, r) {
  const name = r.name;
  const cells = await page.locator('#call-list .row > span').evaluateAll((els) => els.map((e) => {
    const texts = [];
    const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) if (n.textContent.trim()) texts.push(n.textContent.trim());
    const over = (x) => x.scrollWidth > x.clientWidth + 1;
    return {
      cls: e.className,
      key: e.parentElement.dataset.key,
      clipped: over(e) || [...e.querySelectorAll('small')].some(over),
      title: e.title,
      texts,
    };
  }));
  const clippable = ['start', 'call-id', 'from', 'to', 'outcome', 'findings'];
  const missing = cells
    .filter((c) => c.texts.length && (c.clipped || clippable.includes(c.cls)))
    .filter((c) => !c.texts.every((t) => c.title.includes(t)))
    .map((c) => `row ${c.key} .${c.cls} ${JSON.stringify(c.texts.join(' '))} title=${JSON.stringify(c.title)}`);
  const clipped = cells.filter((c) => c.clipped).length;
  check(name, `the list's cells carry their whole text as a tooltip (${clipped} of ${cells.length} clipped)`, missing.length === 0, listed(missing));
  if (r.clipped) check(name, 'some cell of the list is clipped at this width', clipped > 0, `${cells.length} cells`);
}

// The Call-IDs of every line the list shows now (scrolling through it), and how many there are.
async function listedCallIds(page) {
  const seen = new Map();
  await page.evaluate(() => {
    const l = document.querySelector('#call-list');
    l.scrollTop = 0;
    l.dispatchEvent(new Event('scroll'));
  });
  for (let guard = 0; guard < 100_000; guard++) {
    const rows = await page.locator('#call-list .row').evaluateAll((els) => els.map((e) => [e.dataset.key, e.querySelector('.call-id').textContent]));
    for (const [key, cid] of rows) seen.set(key, cid);
    const moved = await scrollCallListDown(page);
    if (!moved) break;
  }
  return [...seen.values()];
}

// The searches the manifest gives, each with the lines it must list: addresses, display names
// (in any case: the search folds case the Unicode way), numbers, User-Agent/Server.
async function searchChecks(page, r, total) {
  const name = r.name;
  for (const s of r.searches) {
    await page.fill('#search', s.query);
    const c = parseCount(await countText(page));
    const ids = await listedCallIds(page);
    if (s.call_ids) {
      const want = [...s.call_ids].sort();
      const got = [...ids].sort();
      check(name, `searching ${JSON.stringify(s.query)} lists exactly ${want.length === 1 ? want[0] : want.length + ' lines'}`, c && c.shown === want.length && JSON.stringify(got) === JSON.stringify(want), `#count: ${await countText(page)}; listed: ${got.join(', ')}`);
    } else {
      check(name, `searching ${JSON.stringify(s.query)} lists ${s.count} of ${total} lines`, c && c.shown === s.count && ids.length === s.count, `#count: ${await countText(page)}; ${ids.length} lines listed`);
    }
    // A bad or unknown field term is a hint under the box; a good search shows none.
    const hint = await page.locator('#search-hint').evaluate((e) => (e.hidden ? null : e.textContent));
    if (s.hint) check(name, `searching ${JSON.stringify(s.query)} hints ${JSON.stringify(s.hint)}`, hint !== null && hint.includes(s.hint), `#search-hint: ${JSON.stringify(hint)}`);
    else check(name, `searching ${JSON.stringify(s.query)} shows no hint`, hint === null, `#search-hint: ${JSON.stringify(hint)}`);
  }
  await page.fill('#search', '');
}

// After a click on a line, the arrow keys move through the list from that line (and open each
// line they reach); Home and End go to the ends, Page Down by a screenful.
async function keyboardChecks(page, r, total) {
  const name = r.name;
  await page.fill('#search', '');
  await page.evaluate(() => {
    const l = document.querySelector('#call-list');
    l.scrollTop = 0;
    l.dispatchEvent(new Event('scroll'));
  });
  const keys = await page.locator('#call-list .row').evaluateAll((els) => els.map((e) => e.dataset.key));
  // The selected line once it is `want` (or, with `not`, once it is another than `want`).
  const selected = async (want, not = false) => {
    await page.waitForFunction(([k, not]) => {
      const row = document.querySelector('#call-list .row.selected');
      return row && (row.dataset.key === k) !== not && location.hash === '#call=' + encodeURIComponent(row.dataset.key);
    }, [want, not], { timeout: 2000 }).catch(() => {});
    return page.evaluate(() => {
      const row = document.querySelector('#call-list .row.selected');
      return row ? row.dataset.key : `none (hash ${location.hash})`;
    });
  };
  await page.locator(`#call-list .row[data-key="${keys[1]}"] .from`).click({ timeout: STEP_TIMEOUT });
  check(name, `a click selects line ${keys[1]}`, (await selected(keys[1])) === keys[1]);
  const steps = [['ArrowDown', keys[2]], ['ArrowUp', keys[1]], ['ArrowUp', keys[0]], ['ArrowUp', keys[0]]];
  for (const [key, want] of steps) {
    await page.keyboard.press(key);
    const got = await selected(want);
    check(name, `${key} then selects and opens line ${want}`, got === want, `selected ${got}`);
  }
  await page.keyboard.press('End');
  const lastKey = r.last_key;
  const end = await selected(lastKey);
  const shown = await page.locator(`#call-list .row[data-key="${lastKey}"]`).isVisible().catch(() => false);
  check(name, `End selects the last line (${lastKey}) and scrolls to it`, end === lastKey && shown, `selected ${end}, visible ${shown}`);
  await page.keyboard.press('Home');
  check(name, `Home selects the first line (${keys[0]})`, (await selected(keys[0])) === keys[0]);
  if (total > 20) {
    await page.keyboard.press('PageDown');
    const got = await selected(keys[0], true);
    check(name, 'Page Down moves by more than one line', got !== keys[0] && got !== keys[1] && !got.startsWith('none'), `selected ${got}`);
  }
  check(name, 'the list keeps the focus', await page.evaluate(() => document.activeElement && document.activeElement.id === 'call-list'));
}

async function hostileChecks(page, r) {
  const name = r.name;
  // Open every item and every message, so that every hostile string has been rendered.
  const keys = await page.locator('#call-list .row').evaluateAll((els) => els.map((e) => e.dataset.key));
  const seen = [];
  seen.push((await page.locator('#call-list').textContent()) || '');
  for (const key of keys) {
    const row = page.locator(`#call-list .row[data-key="${key}"]`);
    await openRow(page, row);
    seen.push((await page.locator('#call-title').textContent()) || '');
    seen.push((await page.locator('#ladder').textContent()) || '');
    const n = await page.locator('#ladder svg.ladder g.msg').count();
    for (let i = 0; i < n; i++) {
      await clickInside(page, page.locator('#ladder svg.ladder g.msg').nth(i));
      seen.push((await page.locator('#panel').textContent()) || '');
    }
  }
  const all = seen.join('\n');
  const listText = seen[0];
  for (const s of HOSTILE) {
    check(name, `hostile string ${JSON.stringify(s)} shows as text`, all.includes(s));
  }
  check(name, 'a hostile Call-ID shows as text in the call list', HOSTILE.some((s) => listText.includes(s)), short(listText, 300));
  const dom = await page.evaluate(() => ({
    pwned: typeof window.__pwned,
    scripts: document.querySelectorAll('script').length,
    svgScripts: document.querySelectorAll('svg script').length,
    injected: [...document.querySelectorAll('img, iframe, object, embed, frame, image, foreignObject, base, link, meta[http-equiv="refresh"]')].map((e) => e.outerHTML.slice(0, 120)),
    handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).map((e) => e.outerHTML.slice(0, 120)),
  }));
  check(name, 'window.__pwned is undefined', dom.pwned === 'undefined', `typeof window.__pwned = ${dom.pwned}`);
  check(name, 'only the two shipped <script> elements exist', dom.scripts === 2 && dom.svgScripts === 0, `${dom.scripts} scripts, ${dom.svgScripts} in SVG`);
  check(name, 'no img/iframe/object/embed elements were injected', dom.injected.length === 0, dom.injected.join(' | '));
  check(name, 'no inline event-handler attributes exist', dom.handlers.length === 0, dom.handlers.join(' | '));
}

async function bigChecks(page, r, total) {
  const name = r.name;
  const lastKey = r.last_key || String(total);
  await page.evaluate(() => {
    const l = document.querySelector('#call-list');
    l.scrollTop = l.scrollHeight;
    l.dispatchEvent(new Event('scroll'));
  });
  const last = page.locator(`#call-list .row[data-key="${lastKey}"]`);
  await last.waitFor({ timeout: STEP_TIMEOUT }).catch(() => {});
  const rows = await page.locator('#call-list .row').count();
  if (!check(name, `scrolling to the bottom shows the last row (${lastKey})`, (await last.count()) === 1, `${rows} rows rendered`)) return;
  check(name, 'the bottom of the list still renders only visible rows', rows < 200, `${rows} rows`);
  const cid = ((await last.locator('.call-id').textContent()) || '').trim();
  await openRow(page, last);
  const nMsgs = await page.locator('#ladder svg.ladder g.msg').count();
  check(name, `the last call (${lastKey}) opens with its ladder`, nMsgs >= 1, `${nMsgs} g.msg`);
  if (nMsgs >= 1) {
    await clickInside(page, page.locator('#ladder svg.ladder g.msg').first());
    const text = (await page.locator('#panel pre.raw').first().textContent()) || '';
    check(name, 'the last call shows its raw message', SIP_START.test(text) && text.includes(cid), JSON.stringify(text.slice(0, 80)));
  }
  await page.fill('#search', cid);
  const found = parseCount(await countText(page));
  check(name, 'searching the last Call-ID finds exactly that call', found && found.shown === 1 && (await page.locator(`#call-list .row[data-key="${lastKey}"]`).count()) === 1, `#count: ${await countText(page)}`);
  await page.fill('#search', '');
  await page.selectOption('#filter-severity', 'none');
  const none = parseCount(await countText(page));
  check(name, '#filter-severity=none filters the big list', none && none.total === total && none.shown <= total, `#count: ${await countText(page)}`);
  await page.selectOption('#filter-severity', '');
  check(name, 'the big list is whole again', parseCount(await countText(page))?.shown === total, `#count: ${await countText(page)}`);
}

async function checkMermaid(browser, entries) {
  if (!entries.length) return;
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto('about:blank');
    await page.addScriptTag({ path: path.join(here, 'node_modules/mermaid/dist/mermaid.min.js') });
    await page.evaluate(() => window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' }));
    for (const [i, m] of entries.entries()) {
      const text = fs.readFileSync(m.path, 'utf8');
      const result = await page.evaluate(async ({ text, id }) => {
        try {
          await window.mermaid.parse(text);
          const { svg } = await window.mermaid.render(id, text);
          return { ok: true, svg: svg.length };
        } catch (e) {
          return { ok: false, error: String(e && e.message ? e.message : e) };
        }
      }, { text, id: `d${i}` });
      check(`mermaid ${m.name}`, 'mermaid.parse and mermaid.render accept the diagram', result.ok && text.startsWith('sequenceDiagram'), result.error ? short(result.error, 600) : `${result.svg} bytes of SVG`);
    }
    check('mermaid', 'no uncaught page errors', errors.length === 0, listed(errors));
  } catch (e) {
    check('mermaid', 'no exception while rendering', false, short(e && e.message ? e.message : e, 600));
  } finally {
    await context.close();
  }
}

// The ladder fits its box beside the message panel (lanes narrow down to a minimum), cut
// labels, notes and stream bars carry their full text in a <title>, and when even the narrowest lanes do
// not fit, the ladder scrolls sideways with its time column kept in view. Each report's first
// call, at a width where the panel takes 45% of the page.
async function checkFit(browser, reports) {
  for (const r of reports.filter((x) => !x.big && !x.hostile)) {
    const name = r.name;
    for (const width of [1100, 760]) {
      const context = await browser.newContext({ viewport: { width: width, height: 900 } });
      const page = await context.newPage();
      try {
        await page.goto(pathToFileURL(path.resolve(r.path)).href);
        await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: READY_TIMEOUT });
        const row = page.locator('#call-list .row').first();
        if (!(await row.count())) continue;
        await openRow(page, row);
        const fit = await page.evaluate(() => {
          const box = document.querySelector('#ladder');
          const lanes = document.querySelectorAll('#ladder svg.ladder-head .lane-addr').length;
          const cut = [];
          for (const t of document.querySelectorAll('#ladder svg.ladder text')) {
            const spans = t.querySelectorAll('tspan');
            const shown = spans.length ? [...spans].map((x) => x.textContent).join(' ') : t.textContent;
            if (!shown.endsWith('…')) continue;
            const holder = t.closest('g.msg, g.note, g.stream') || t;
            const title = holder.querySelector(':scope > title');
            const words = shown.replace(/…$/, '').split(' ').filter((w) => w);
            if (!title || !words.every((w) => title.textContent.includes(w))) cut.push(shown);
          }
          const overflow = box.scrollWidth - box.clientWidth;
          box.scrollLeft = box.scrollWidth;
          const times = document.querySelector('#ladder svg.ladder-times').getBoundingClientRect();
          const inView = Math.abs(times.left - box.getBoundingClientRect().left) <= 2;
          // Lanes are laneW apart, the first lifeline at laneW / 2.
          const first = document.querySelector('#ladder svg.ladder-head line.lifeline');
          const laneW = first ? 2 * Number(first.getAttribute('x1')) : 0;
          return { lanes, overflow, box: box.clientWidth, cut, inView, laneW };
        });
        // Sideways scrolling only as a last resort: when the lanes are at their narrowest (130 px).
        check(name, `the ladder fits its ${fit.box}px box at ${width}px, or its ${fit.lanes} lanes are at their narrowest`, fit.overflow <= 0 || fit.laneW <= 130, `${fit.overflow}px too wide with ${fit.laneW}px lanes`);
        if (fit.overflow > 0) check(name, `scrolled sideways at ${width}px, the time column stays in view`, fit.inView);
        check(name, `every cut label or note has its full text in a <title> at ${width}px`, fit.cut.length === 0, listed(fit.cut));
      } catch (e) {
        check(name, `fit at ${width}px: no exception`, false, short(e && e.message ? e.message : e, 600));
      } finally {
        await context.close();
      }
    }
  }
}

const started = Date.now();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // A few pages at a time (each in its own context) in the one browser.
  const queue = [...(manifest.reports || [])];
  const jobs = Math.max(1, Math.min(Number(process.env.BROWSER_JOBS) || 2, queue.length));
  await Promise.all(Array.from({ length: jobs }, async () => {
    for (let r = queue.shift(); r; r = queue.shift()) await checkReport(browser, r);
  }));
  await checkMermaid(browser, manifest.mermaid || []);
  await checkFit(browser, manifest.reports || []);
} finally {
  await browser.close();
}

const reports = (manifest.reports || []).length;
const diagrams = (manifest.mermaid || []).length;
const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`\n${reports} reports and ${diagrams} mermaid diagrams: ${passed} checks passed, ${failures.length} failed (${secs}s)`);
if (failures.length) {
  console.log('\nFAILURES:');
  for (const f of failures) console.log(`  - ${f}`);
  process.exit(1);
}
