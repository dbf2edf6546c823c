'use strict';
// sipflow report: draws the call list, the filters and, when a call is opened, its SVG ladder,
// from the data embedded in #sipflow-data. Every string from the data goes into the page as
// text (textContent, or setAttribute on fixed attribute names): nothing is parsed as markup.
(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const ROW_H = 44;
  const LANE_W = 230;
  const TIME_W = 104;
  const HEAD_H = 58;
  const SEV_RANK = { info: 1, warning: 2, error: 3 };

  const $ = (id) => document.getElementById(id);

  function h(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function s(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function tip(parent, text) {
    parent.appendChild(s('title', {}, text));
  }

  // A time as the data gives it; `null` when the input gives none.
  function when(ts) {
    return ts === null ? '--:--:--.---' : String(ts);
  }

  function ms(v) {
    if (v === null || v === undefined) return '-';
    const sign = v < 0 ? '-' : '';
    const a = Math.abs(v);
    return sign + Math.floor(a / 1000) + '.' + String(a % 1000).padStart(3, '0') + 's';
  }

  // `2018-07-19 09:53:05.412` (or with microseconds) as [date, time]; an undated time has
  // no date.
  function splitStart(start) {
    const m = /^(\S+) (\S+)$/.exec(when(start));
    return m ? [m[1], m[2]] : ['', when(start)];
  }

  function clip(text, max) {
    return text.length <= max ? text : text.slice(0, Math.max(0, max - 1)) + '…';
  }

  async function inflate(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return JSON.parse(await new Response(stream).text());
  }

  const state = {
    data: null,
    index: null,
    shown: [],
    selected: -1,
    chunks: new Map(),
    hay: [],
    // The lines' addresses, parsed once (by `ip:`).
    ips: new Map(),
    date: '',
    // The ladder shown: its data and the box width it was drawn for.
    ladder: null,
  };

  function severityOf(item) {
    let best = 0;
    for (const f of item.findings) best = Math.max(best, SEV_RANK[state.index.findings[f].severity] || 0);
    return best;
  }

  // What the search compares: case folded as JavaScript does it (Unicode-aware: `Псков`
  // finds `ПСКОВ`), in one normal form (a name typed with a composed `é` finds a decomposed one).
  function fold(text) {
    return text.normalize('NFC').toLowerCase();
  }

  // The search's `field:value` terms: the selection options' syntax and meaning
  // (docs/selecting.md), AND-ed with each other and with the free text; `call:` and `rule:`
  // terms match any of their values, as the repeatable options do.
  const FIELDS = ['call', 'user', 'ip', 'status', 'outcome', 'rule', 'method', 'since', 'until'];
  const OUTCOMES = ['answered', 'cancelled', 'rejected', 'busy', 'redirected', 'failed', 'incomplete'];
  // Words before a colon that are not fields but text people search for (`sip:bob@host`).
  const SCHEMES = ['sip', 'sips', 'tel', 'urn', 'http', 'https', 'mailto'];
  const DAY_US = 86400000000;

  // An IPv4 or IPv6 address as [bits (BigInt), width], or null.
  function parseIp(text) {
    const t = text.replace(/^\[(.*)\]$/, '$1');
    const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t);
    if (v4) {
      // As the command line: no leading zeros, each at most 255.
      const o = v4.slice(1);
      if (o.some((x) => Number(x) > 255 || /^0\d/.test(x))) return null;
      return [o.reduce((a, x) => (a << 8n) | BigInt(x), 0n), 32];
    }
    if (!/^[0-9a-f:.]+$/i.test(t) || !t.includes(':')) return null;
    const [head, tail, extra] = t.split('::');
    if (extra !== undefined) return null;
    const words = (part) => {
      if (!part) return [];
      const out = [];
      const list = part.split(':');
      for (let k = 0; k < list.length; k++) {
        const w = list[k];
        if (k === list.length - 1 && w.includes('.')) {
          const v = parseIp(w);
          if (!v || v[1] !== 32) return null;
          out.push(Number(v[0] >> 16n), Number(v[0] & 0xffffn));
        } else if (/^[0-9a-f]{1,4}$/i.test(w)) out.push(parseInt(w, 16));
        else return null;
      }
      return out;
    };
    const a = words(head);
    const b = tail === undefined ? [] : words(tail);
    if (!a || !b) return null;
    const fill = 8 - a.length - b.length;
    if (tail === undefined ? fill !== 0 : fill < 1) return null;
    const all = a.concat(new Array(fill).fill(0), b);
    return [all.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n), 128];
  }

  // `ADDR[/PREFIX]` as a test of an address, or null.
  function parseNet(text) {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text);
    const net = m && parseIp(m[1]);
    if (!net) return null;
    const prefix = m[2] === undefined ? net[1] : Number(m[2]);
    if (prefix > net[1]) return null;
    const shift = BigInt(net[1] - prefix);
    return (addr) => {
      if (!state.ips.has(addr)) state.ips.set(addr, parseIp(addr));
      const ip = state.ips.get(addr);
      return !!ip && ip[1] === net[1] && (ip[0] >> shift) === (net[0] >> shift);
    };
  }

  // `486` or `4xx` as [low, high], or null.
  function parseStatus(text) {
    const c = /^([1-6])xx$/i.exec(text);
    if (c) return [Number(c[1]) * 100, Number(c[1]) * 100 + 99];
    return /^[1-6]\d\d$/.test(text) ? [Number(text), Number(text)] : null;
  }

  // `HH:MM[:SS[.ffffff]]`, optionally after `YYYY-MM-DD` and a space or `T`, as
  // { us, dated }, or null (as the command line's --since and --until take it).
  function parseMoment(text) {
    const m = /^(?:(\d{1,6})-(\d{1,2})-(\d{1,2})[ T])?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?$/.exec(text.trim());
    if (!m) return null;
    const [h, mi, sec] = [m[4], m[5], m[6] || '0'].map(Number);
    if (h > 23 || mi > 59 || sec > 60) return null;
    const frac = Number((m[7] || '').padEnd(6, '0'));
    const tod = ((h * 60 + mi) * 60 + sec) * 1e6 + frac;
    if (m[1] === undefined) return { us: tod, dated: false };
    const [y, mo, d] = [m[1], m[2], m[3]].map(Number);
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return null;
    return { us: (Date.UTC(y, mo - 1, d) / 86400000) * DAY_US + tod, dated: true };
  }

  // The two times to compare (in full when both are dated, else by the time of day), or null
  // when the line has no time.
  function timePair(moment, it) {
    if (it.at === undefined || it.at === null) return null;
    const tod = (v) => ((v % DAY_US) + DAY_US) % DAY_US;
    return moment.dated && it.dated ? [moment.us, it.at] : [tod(moment.us), tod(it.at)];
  }

  function ruleCode(text) {
    const t = text.toLowerCase();
    const hit = state.index.catalog.find(([code, name]) => code.toLowerCase() === t || name.toLowerCase() === t);
    return hit ? hit[0] : null;
  }

  // One `field:value` term as a test of a line, or a hint (a string) saying what is wrong.
  function fieldTest(field, value) {
    const idx = state.index;
    switch (field) {
      case 'call':
        return (it) => it.call_id === value || (it.kind === 'call' ? /^\d+$/.test(value) && Number(value) === Number(it.key) : /^f\d+$/i.test(value) && Number(value.slice(1)) === Number(it.key.slice(1)));
      case 'user': {
        const u = fold(value);
        return (it) => it.users.some((x) => fold(x).includes(u));
      }
      case 'ip': {
        const inNet = parseNet(value);
        if (!inNet) return 'ip: takes an address or a network (10.0.0.7, 192.168.1.0/24, 2001:db8::/32), not ' + JSON.stringify(value);
        return (it) => it.ips.some(inNet);
      }
      case 'status': {
        const r = parseStatus(value);
        if (!r) return 'status: takes a code (486) or a class (4xx), not ' + JSON.stringify(value);
        return (it) => it.code !== undefined && it.code >= r[0] && it.code <= r[1];
      }
      case 'outcome': {
        const o = value.toLowerCase();
        if (!OUTCOMES.includes(o)) return 'outcome: takes one of ' + OUTCOMES.join(', ') + ', not ' + JSON.stringify(value);
        return (it) => it.kind === 'call' && it.outcome === o;
      }
      case 'rule': {
        const code = ruleCode(value);
        if (!code) return 'rule: no rule is named ' + JSON.stringify(value) + ' (a code like SF002 or a name like missing-ack)';
        return (it) => it.findings.some((f) => idx.findings[f].rule === code);
      }
      case 'method': {
        const want = value.toUpperCase();
        return (it) => it.methods.includes(want);
      }
      case 'since':
      case 'until': {
        const moment = parseMoment(value);
        if (!moment) return field + ': takes a time of day (14:05, 14:05:30.250) or a date and time (2026-11-21T14:05), not ' + JSON.stringify(value);
        return (it) => {
          const p = timePair(moment, it);
          return !!p && (field === 'since' ? p[0] <= p[1] : p[0] >= p[1]);
        };
      }
    }
    return null;
  }

  // The search box's text as { text, tests, hints }: the free text (case folded), a test per
  // field (those of one repeatable field OR-ed), and what could not be used.
  function parseQuery(raw) {
    const text = [];
    const byField = new Map();
    const hints = [];
    const re = /([A-Za-z]+):(?:"([^"]*)"?|(\S*))|\S+/g;
    let m;
    while ((m = re.exec(raw)) !== null) {
      const word = m[1] && m[1].toLowerCase();
      if (!word || (!FIELDS.includes(word) && SCHEMES.includes(word))) {
        text.push(m[0]);
        continue;
      }
      if (!FIELDS.includes(word)) {
        hints.push('unknown field ' + JSON.stringify(word + ':') + ' (searched as text)');
        text.push(m[0]);
        continue;
      }
      let value = m[2] !== undefined ? m[2] : m[3];
      // `since:2026-11-21 14:05`: a date and the time after it.
      if ((word === 'since' || word === 'until') && /^\d{1,6}-\d{1,2}-\d{1,2}$/.test(value)) {
        const next = /^\s+(\d{1,2}:\S*)/.exec(raw.slice(re.lastIndex));
        if (next) {
          value += ' ' + next[1];
          re.lastIndex += next[0].length;
        }
      }
      if (!value.trim()) {
        hints.push(word + ': needs a value');
        continue;
      }
      const test = fieldTest(word, value.trim());
      if (typeof test === 'string') {
        hints.push(test);
        continue;
      }
      const any = word === 'call' || word === 'rule';
      const key = any ? word : word + byField.size;
      if (!byField.has(key)) byField.set(key, []);
      byField.get(key).push(test);
    }
    const tests = [...byField.values()].map((list) => (it) => list.some((t) => t(it)));
    return { text: fold(text.join(' ')), tests, hints };
  }

  function applyFilters() {
    const query = parseQuery($('search').value);
    const hint = $('search-hint');
    hint.textContent = query.hints.join('; ');
    hint.hidden = !query.hints.length;
    const q = query.text;
    const outcome = $('filter-outcome').value;
    const rule = $('filter-rule').value;
    const sev = $('filter-severity').value;
    const idx = state.index;
    // The `field:value` terms select as the options do: a call with its B2BUA legs (the lines
    // of its group), a flow alone. The free text and the filters then narrow line by line.
    const groupOf = (it) => (it.kind === 'call' ? 'c' + (it.group ?? it.key) : 'f' + it.key);
    let selected = null;
    if (query.tests.length) {
      selected = new Set();
      for (const it of idx.items) if (query.tests.every((t) => t(it))) selected.add(groupOf(it));
    }
    state.shown = [];
    idx.items.forEach((item, i) => {
      if (outcome && item.outcome !== outcome) return;
      if (rule && !item.findings.some((f) => idx.findings[f].rule === rule)) return;
      if (sev === 'none' && item.findings.length) return;
      if (sev && sev !== 'none' && severityOf(item) < SEV_RANK[sev]) return;
      if (q && !state.hay[i].includes(q)) return;
      if (selected && !selected.has(groupOf(item))) return;
      state.shown.push(i);
    });
    $('count').textContent = state.shown.length + ' of ' + idx.items.length + ' shown';
    const list = $('call-list');
    list.querySelector('.spacer').style.height = state.shown.length * ROW_H + 'px';
    // The list grows with its rows, up to most of the window (it scrolls beyond that).
    list.style.height = Math.min(Math.max(state.shown.length, 2) * ROW_H + 2, Math.round(window.innerHeight * 0.85)) + 'px';
    list.scrollTop = 0;
    renderRows();
  }

  function renderRows() {
    const list = $('call-list');
    const spacer = list.querySelector('.spacer');
    const first = Math.max(0, Math.floor(list.scrollTop / ROW_H) - 4);
    const last = Math.min(state.shown.length, first + Math.ceil(list.clientHeight / ROW_H) + 8);
    const frag = document.createDocumentFragment();
    for (let k = first; k < last; k++) frag.appendChild(rowElement(state.shown[k], k));
    spacer.replaceChildren(frag);
  }

  function rowElement(i, k) {
    const item = state.index.items[i];
    const row = h('div', 'row');
    row.setAttribute('role', 'row');
    row.setAttribute('tabindex', '-1');
    row.dataset.item = String(i);
    row.dataset.key = item.key;
    if (i === state.selected) row.classList.add('selected');
    row.style.top = k * ROW_H + 'px';
    row.appendChild(h('span', 'key', item.key));
    // The date is in the column head once; a row shows it only when it is another day.
    const [date, time] = splitStart(item.start);
    const start = h('span', 'start', date === state.date ? time : when(item.start));
    start.title = item.start === null ? 'the input gives no time' : item.start;
    row.appendChild(start);
    const id = h('span', 'call-id', item.call_id);
    id.title = item.call_id;
    row.appendChild(id);
    const from = h('span', 'from', item.from);
    from.title = item.from;
    row.appendChild(from);
    const to = h('span', 'to', item.to);
    to.title = item.to;
    row.appendChild(to);
    const out = h('span', 'outcome');
    const o = h('b', 'o-' + item.outcome, item.outcome);
    out.appendChild(o);
    out.appendChild(document.createTextNode(' ' + item.status));
    out.title = item.outcome + ' ' + item.status;
    if (item.explanation) {
      out.appendChild(h('small', null, item.explanation));
      out.title += ': ' + item.explanation;
    }
    row.appendChild(out);
    row.appendChild(h('span', 'setup', ms(item.setup_ms)));
    row.appendChild(h('span', 'duration', ms(item.duration_ms)));
    const fs = h('span', 'findings');
    const codes = new Map();
    for (const f of item.findings) {
      const fi = state.index.findings[f];
      // One badge per rule, in the most severe of its findings' severities.
      const prev = codes.get(fi.rule);
      if (!prev || SEV_RANK[fi.severity] > SEV_RANK[prev]) codes.set(fi.rule, fi.severity);
    }
    const names = [];
    for (const [code, sev] of codes) {
      const b = h('span', 'sev sev-' + sev, code);
      b.title = code + ' ' + state.index.rules[code].name;
      names.push(b.title);
      fs.appendChild(b);
    }
    if (names.length) fs.title = names.join('\n');
    row.appendChild(fs);
    return row;
  }

  async function detailOf(conv) {
    const size = state.index.chunk_size;
    const c = Math.floor(conv / size);
    if (!state.chunks.has(c)) state.chunks.set(c, inflate(state.data.chunks[c]));
    const chunk = await state.chunks.get(c);
    return chunk[conv % size];
  }

  async function openItem(i, scroll) {
    const item = state.index.items[i];
    if (!item) return;
    state.selected = i;
    renderRows();
    history.replaceState(null, '', '#call=' + encodeURIComponent(item.key));
    const detail = await detailOf(item.conv);
    const view = $('call-view');
    view.hidden = false;
    $('call-title').textContent = detail.title;
    const sum = $('call-summary');
    sum.replaceChildren();
    for (const line of detail.summary) sum.appendChild(h('li', null, line));
    showLadder(detail);
    $('ladder').scrollTop = 0;
    const panel = $('panel');
    panel.replaceChildren(h('p', 'hint', 'Click an arrow to see the message, a note to see the log line, a badge to see the finding.'));
    listFindings(detail);
    if (scroll) view.scrollIntoView({ block: 'start' });
  }

  function listFindings(detail) {
    const box = $('call-findings');
    box.replaceChildren();
    const all = [];
    detail.badges.forEach((b) => b.forEach((f) => { if (!all.includes(f)) all.push(f); }));
    detail.unplaced.forEach((f) => { if (!all.includes(f)) all.push(f); });
    if (!all.length) return;
    box.appendChild(h('h3', null, 'Findings in this call'));
    for (const f of all) box.appendChild(findingElement(f));
  }

  function findingElement(f) {
    const fi = state.index.findings[f];
    const rule = state.index.rules[fi.rule];
    const box = h('div', 'finding sev-line-' + fi.severity);
    box.dataset.finding = String(f);
    const head = h('p');
    head.appendChild(h('span', 'sev sev-' + fi.severity, fi.severity));
    head.appendChild(document.createTextNode(' ' + fi.rule + ' ' + rule.name + ': '));
    head.appendChild(h('b', null, fi.message));
    box.appendChild(head);
    if (fi.help) box.appendChild(h('p', 'help', fi.help));
    if (fi.places.length) box.appendChild(h('p', 'help', 'Evidence: ' + fi.places.join('; ')));
    const more = h('details');
    more.appendChild(h('summary', null, 'About ' + fi.rule + ': ' + rule.summary));
    more.appendChild(h('pre', null, rule.docs));
    box.appendChild(more);
    return box;
  }

  // The ladder's geometry. Lanes narrow from LANE_MAX down to LANE_MIN to fit the box; only
  // below that does the ladder scroll sideways (with the time column kept in view). Labels and
  // notes wrap to the width they have, up to LABEL_LINES / NOTE_LINES lines, and are cut with
  // `…` beyond that; the full text is in each element's <title> and in the panel.
  const LANE_MIN = 130;
  const LANE_MAX = 230;
  const LINE_H = 14;
  const LABEL_LINES = 3;
  const NOTE_LINES = 3;
  const FONT = '12px system-ui, sans-serif';
  let measurer = null;

  function textWidth(text, font) {
    if (!measurer) measurer = document.createElement('canvas').getContext('2d');
    if (!measurer) return text.length * 6.6;
    measurer.font = font || FONT;
    return measurer.measureText(text).width;
  }

  // `text` in at most `max` lines of at most `px` pixels, broken at spaces where it can be
  // (inside a word longer than a line); the last line ends with `…` when text is left over.
  function wrapText(text, px, max, font) {
    const fits = (t) => textWidth(t, font) <= px;
    const lines = [];
    let line = '';
    for (const word of String(text).split(' ')) {
      const joined = line ? line + ' ' + word : word;
      if (fits(joined)) {
        line = joined;
        continue;
      }
      if (line) lines.push(line);
      line = word;
      while (!fits(line) && line.length > 1) {
        let n = line.length - 1;
        while (n > 1 && !fits(line.slice(0, n))) n--;
        lines.push(line.slice(0, n));
        line = line.slice(n);
      }
    }
    lines.push(line);
    if (lines.length <= max) return lines;
    const kept = lines.slice(0, max);
    let last = kept[max - 1];
    while (last.length && !fits(last + '…')) last = last.slice(0, -1);
    kept[max - 1] = last + '…';
    return kept;
  }

  // One line cut with `…` to `px` pixels.
  function clipText(text, px, font) {
    return wrapText(text, px, 1, font)[0];
  }

  function laneX(g, l) {
    return l * g.laneW + g.laneW / 2;
  }

  function badgesWidth(list) {
    let w = 0;
    for (const f of list) w += state.index.findings[f].rule.length * 7 + 12;
    return w;
  }

  // What a message's arrow says: its label with its marks.
  function arrowLabel(row) {
    const tags = [];
    if (row.retransmission) tags.push('retransmission');
    if (row.truncated) tags.push('cut record');
    return row.label + (tags.length ? ' (' + tags.join(', ') + ')' : '');
  }

  // Lane width for the box: what is left of it after the time column and the badges beside
  // the last lane, shared between the lanes.
  function geometry(d, boxWidth) {
    const lanes = Math.max(1, d.lanes.length);
    const last = d.lanes.length - 1;
    let reserve = 8;
    d.rows.forEach((row, r) => {
      const w = badgesWidth(d.badges[r]);
      if (!w) return;
      const rightmost = row.kind === 'note' ? row.lane
        : row.from === null || row.from === undefined || row.to === null || row.to === undefined ? null
          : Math.max(row.from, row.to);
      if (rightmost === null || rightmost === undefined || rightmost === last || row.from === row.to) reserve = Math.max(reserve, w + 8);
    });
    const room = boxWidth - TIME_W - reserve - 4;
    const laneW = Math.max(LANE_MIN, Math.min(LANE_MAX, Math.floor(room / lanes)));
    return { laneW: laneW, lanes: lanes };
  }

  // The ladder shows milliseconds; the message panel has the microseconds of a capture.
  function ladderTime(ts) {
    const time = when(ts).replace(/(\.\d{3})\d{3}(?!\d)/, '$1');
    return time.length > 12 ? time.slice(-12) : time;
  }

  function drawLadder(d, boxWidth) {
    const g = geometry(d, boxWidth);
    // Rows first, to know their heights, then the time column beside them.
    const body = s('svg', { class: 'ladder ladder-body', role: 'img' });
    body.setAttribute('aria-label', 'Ladder of ' + d.title);
    const times = s('svg', { class: 'ladder ladder-times', width: TIME_W });
    const lifelines = s('g', { class: 'lifelines' });
    body.appendChild(lifelines);
    let y0 = 0;
    let right = g.lanes * g.laneW;
    d.rows.forEach((row, r) => {
      const draw = row.kind === 'message' ? drawMessage : row.kind === 'stream' ? drawStream : drawNote;
      const drawn = draw(d, g, row, r, y0);
      body.appendChild(drawn.el);
      right = Math.max(right, drawn.right);
      const t = s('text', { class: 'time', x: 6, y: y0 + 19 }, ladderTime(row.ts));
      tip(t, row.ts === null ? 'the input gives no time' : row.ts);
      times.appendChild(t);
      if (row.delta_ms !== undefined) {
        times.appendChild(s('text', { class: 'delta', x: 6, y: y0 + 32 }, '+' + ms(row.delta_ms)));
      } else if (row.kind === 'stream') {
        // A stream's span: first packet (above) to last.
        times.appendChild(s('text', { class: 'delta', x: 6, y: y0 + 32 }, '→ ' + ladderTime(row.last)));
      }
      y0 += drawn.height;
    });
    const height = y0 + 16;
    const width = Math.ceil(right + 8);
    for (let l = 0; l < d.lanes.length; l++) {
      const x = laneX(g, l);
      lifelines.appendChild(s('line', { class: 'lifeline', x1: x, y1: 0, x2: x, y2: height - 6 }));
    }
    for (const [el, w, hgt] of [[body, width, height], [times, TIME_W, height]]) {
      el.setAttribute('width', w);
      el.setAttribute('height', hgt);
      el.setAttribute('viewBox', '0 0 ' + w + ' ' + hgt);
    }
    // The lane names stay in view while the ladder scrolls down, the times while it scrolls
    // sideways: a head, a time column and their corner, each sticky.
    const head = s('svg', { class: 'ladder ladder-head', width: width, height: HEAD_H, viewBox: '0 0 ' + width + ' ' + HEAD_H });
    d.lanes.forEach((lane, l) => {
      const x = laneX(g, l);
      const room = g.laneW - 10;
      const addr = s('text', { class: 'lane-addr', x: x, y: 20, 'text-anchor': 'middle' }, clipText(lane.addr, room, '600 ' + FONT));
      const ports = lane.endpoints && lane.endpoints.length ? '\nmessages from and to ' + lane.endpoints.join(', ') : '';
      tip(addr, lane.addr + (lane.side ? ' (' + lane.side + ')' : '') + ports);
      head.appendChild(addr);
      if (lane.side) {
        const side = s('text', { class: 'lane-side', x: x, y: 38, 'text-anchor': 'middle' }, clipText(lane.side, room));
        tip(side, lane.side);
        head.appendChild(side);
      }
      head.appendChild(s('line', { class: 'lifeline', x1: x, y1: HEAD_H - 12, x2: x, y2: HEAD_H }));
    });
    const corner = s('svg', { class: 'ladder ladder-corner', width: TIME_W, height: HEAD_H });
    body.addEventListener('click', onLadderClick);
    body.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        onLadderClick(ev);
        ev.preventDefault();
      }
    });
    const grid = h('div', 'ladder-grid');
    grid.style.gridTemplateColumns = TIME_W + 'px ' + width + 'px';
    grid.append(corner, head, times, body);
    return grid;
  }

  // Text lines starting at baseline `y`, one `tspan` per line.
  function lines(attrs, list, y) {
    const t = s('text', Object.assign({ y: y }, attrs));
    list.forEach((line, k) => t.appendChild(s('tspan', { x: attrs.x, y: y + k * LINE_H }, line)));
    return t;
  }

  function drawMessage(d, g, row, r, y0) {
    const classes = ['msg'];
    if (row.retransmission) classes.push('retransmission');
    if (row.malformed) classes.push('malformed');
    if (row.truncated) classes.push('cut');
    const el = s('g', { class: classes.join(' '), tabindex: 0, role: 'button' });
    el.dataset.row = String(r);
    const x1 = laneX(g, row.from);
    const x2 = laneX(g, row.to);
    const label = arrowLabel(row);
    el.setAttribute('aria-label', label);
    const self = x1 === x2;
    // A message to its own lane loops right of the lifeline, its label beside the loop.
    const text = self ? wrapText(label, Math.max(60, g.laneW - 56), 2) : wrapText(label, Math.abs(x2 - x1) - 16, LABEL_LINES);
    const y = y0 + 21 + (text.length - 1) * (self ? LINE_H / 2 : LINE_H);
    let endX;
    if (self) {
      const p = 'M ' + x1 + ' ' + (y - 6) + ' h 40 v 12 h -36';
      el.appendChild(s('path', { class: 'hit', d: p }));
      el.appendChild(s('path', { class: 'shaft', d: p }));
      el.appendChild(s('path', { class: 'arrowhead', d: 'M ' + x1 + ' ' + (y + 6) + ' l 7 -4 v 8 z' }));
      el.appendChild(lines({ class: 'label', x: x1 + 46 }, text, y0 + 16 + 4));
      endX = x1 + 46 + Math.max(...text.map((t) => textWidth(t))) + 6;
    } else {
      const dir = x2 > x1 ? 1 : -1;
      el.appendChild(s('line', { class: 'hit', x1: x1, y1: y, x2: x2, y2: y }));
      el.appendChild(s('line', { class: 'shaft', x1: x1, y1: y, x2: x2 - dir * 8, y2: y }));
      el.appendChild(s('path', { class: 'arrowhead', d: 'M ' + x2 + ' ' + y + ' l ' + -dir * 9 + ' -5 v 10 z' }));
      el.appendChild(lines({ class: 'label', x: (x1 + x2) / 2, 'text-anchor': 'middle' }, text, y0 + 16));
      endX = Math.max(x1, x2) + 4;
    }
    const height = 34 + (text.length - 1) * LINE_H;
    // The whole label, where the message went from and to (a lane may stand for several
    // ports), and why it is malformed.
    const from = d.lanes[row.from];
    const to = d.lanes[row.to];
    tip(el, label + (row.malformed ? ': ' + row.malformed : '') + '\n' + (row.src || from.addr) + ' → ' + (row.dst || to.addr));
    const right = drawBadges(el, d.badges[r], endX, y);
    return { el: el, height: height, right: right };
  }

  function drawNote(d, g, row, r, y0) {
    const el = s('g', { class: 'note', tabindex: 0, role: 'button' });
    el.dataset.row = String(r);
    const l = row.lane === null || row.lane === undefined ? -1 : row.lane;
    const x = l >= 0 ? laneX(g, l) - g.laneW / 2 + 8 : 8;
    const w = l >= 0 ? g.laneW - 16 : g.lanes * g.laneW - 16;
    const text = wrapText(row.text, w - 12, NOTE_LINES);
    const boxH = 22 + (text.length - 1) * LINE_H;
    el.appendChild(s('rect', { x: x, y: y0 + 6, width: w, height: boxH, rx: 4 }));
    el.appendChild(lines({ x: x + 6 }, text, y0 + 21));
    tip(el, (state.index.inputs[row.input] || '?') + ':' + (row.line || 0) + ' ' + row.text);
    el.setAttribute('aria-label', 'log: ' + row.text);
    const right = drawBadges(el, d.badges[r], x + w + 4, y0 + 17);
    return { el: el, height: 34 + (text.length - 1) * LINE_H, right: right };
  }

  // An RTP stream: a thick bar between its lanes at its first packet's time (like sngrep's RTP
  // arrows), labelled with its codec, packets and loss, and its jitter, MOS and span below;
  // across the ladder when its lanes are unknown.
  function drawStream(d, g, row, r, y0) {
    const el = s('g', { class: 'stream', tabindex: 0, role: 'button' });
    el.dataset.row = String(r);
    const known = row.from !== null && row.from !== undefined && row.to !== null && row.to !== undefined && row.from !== row.to;
    const x1 = known ? laneX(g, row.from) : 8;
    const x2 = known ? laneX(g, row.to) : g.lanes * g.laneW - 8;
    const dir = x2 >= x1 ? 1 : -1;
    const y = y0 + 22;
    const span = when(row.ts) + ' → ' + when(row.last);
    const sub = 'jitter ' + row.mean_jitter_ms.toFixed(1) + ' ms · MOS ' + row.mos.toFixed(2);
    el.appendChild(s('line', { class: 'hit', x1: x1, y1: y, x2: x2, y2: y }));
    el.appendChild(s('line', { class: 'bar', x1: x1, y1: y, x2: x2 - dir * 9, y2: y }));
    if (known) el.appendChild(s('path', { class: 'arrowhead', d: 'M ' + x2 + ' ' + y + ' l ' + -dir * 10 + ' -6 v 12 z' }));
    const room = Math.abs(x2 - x1) - 16;
    const mid = (x1 + x2) / 2;
    el.appendChild(s('text', { class: 'label', x: mid, y: y0 + 13, 'text-anchor': 'middle' }, clipText(row.label, room)));
    el.appendChild(s('text', { class: 'sub', x: mid, y: y0 + 38, 'text-anchor': 'middle' }, clipText(sub, room)));
    el.setAttribute('aria-label', row.label);
    tip(el, row.label + '\n' + sub + '\n' + row.details + (span ? '\n' + span : ''));
    const right = drawBadges(el, d.badges[r], Math.max(x1, x2) + 6, y);
    return { el: el, height: 46, right: right };
  }

  // Draws the badges from `x`; returns where they end.
  function drawBadges(g, list, x, y) {
    let bx = x;
    for (const f of list) {
      const fi = state.index.findings[f];
      const rule = state.index.rules[fi.rule];
      const b = s('g', { class: 'badge sev-' + fi.severity });
      b.dataset.finding = String(f);
      const w = fi.rule.length * 7 + 8;
      b.appendChild(s('rect', { x: bx, y: y - 8, width: w, height: 16, rx: 8 }));
      b.appendChild(s('text', { x: bx + 4, y: y + 4 }, fi.rule));
      tip(b, fi.rule + ' ' + rule.name + ' (' + fi.severity + '): ' + fi.message + '\n' + rule.summary);
      g.appendChild(b);
      bx += w + 4;
    }
    return bx;
  }

  // Draws `d` to fit the ladder's box, and again whenever the box changes width (the window
  // is resized); the selected arrow or note stays selected.
  function showLadder(d) {
    const box = $('ladder');
    state.ladder = { detail: d, width: box.clientWidth };
    box.replaceChildren(drawLadder(d, box.clientWidth));
  }

  function refitLadder() {
    const box = $('ladder');
    const shown = state.ladder;
    if (!shown || box.clientWidth === shown.width || $('call-view').hidden) return;
    const sel = box.querySelector('svg.ladder .selected');
    const row = sel ? sel.dataset.row : null;
    const left = box.scrollLeft;
    const top = box.scrollTop;
    showLadder(shown.detail);
    if (row !== null) {
      const again = box.querySelector('svg.ladder [data-row="' + row + '"]');
      if (again) again.classList.add('selected');
    }
    box.scrollLeft = left;
    box.scrollTop = top;
  }

  function currentDetail() {
    const item = state.index.items[state.selected];
    return item ? detailOf(item.conv) : Promise.resolve(null);
  }

  async function onLadderClick(ev) {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    const d = await currentDetail();
    if (!d) return;
    const badge = target.closest('.badge');
    const panel = $('panel');
    if (badge) {
      panel.replaceChildren(findingElement(Number(badge.dataset.finding)));
      return;
    }
    const g = target.closest('.msg, .note, .stream');
    if (!g) return;
    for (const old of document.querySelectorAll('svg.ladder .selected')) old.classList.remove('selected');
    g.classList.add('selected');
    const r = Number(g.dataset.row);
    const row = d.rows[r];
    if (row.kind === 'message') showMessage(d, r);
    else if (row.kind === 'stream') showStream(d, r);
    else showNote(d, r);
  }

  function field(dl, name, value) {
    dl.appendChild(h('dt', null, name));
    dl.appendChild(h('dd', null, value));
  }

  function showMessage(d, r) {
    const row = d.rows[r];
    const m = d.messages[r];
    const panel = $('panel');
    panel.replaceChildren();
    panel.appendChild(h('h3', null, row.malformed ? 'Malformed message' : row.label));
    const dl = h('dl');
    field(dl, 'time', row.delta_ms === undefined ? when(row.ts)
      : row.ts + '  (+' + ms(row.delta_ms) + ' since the previous message)');
    // The ports it went between, with the lane's name where that is another address (a lane
    // stands for a host, with the ephemeral ports of its TCP connections).
    const end = (addr, lane) => {
      const l = d.lanes[lane];
      const name = l.addr !== addr ? l.addr : '';
      const who = [name, l.side].filter((x) => x).join(', ');
      return (addr || l.addr) + (who ? ' (' + who + ')' : '');
    };
    field(dl, 'from', end(row.src, row.from));
    field(dl, 'to', end(row.dst, row.to));
    field(dl, 'transport', (m.transport === '?' ? 'unknown' : m.transport) + ', ' + m.bytes + ' bytes');
    field(dl, 'seen', m.seen.join('; '));
    if (row.retransmission) field(dl, 'note', 'retransmission');
    if (row.truncated) field(dl, 'note', 'cut record: the log lost the end of this message');
    if (row.malformed) field(dl, 'malformed', row.malformed);
    panel.appendChild(dl);
    const pre = h('pre', 'raw');
    pre.setAttribute('aria-label', 'raw message');
    for (const [text, marks] of m.parts) {
      if (!marks.length) {
        pre.appendChild(document.createTextNode(text));
        continue;
      }
      const mark = h('mark', 'evidence', text);
      mark.title = marks.map((f) => {
        const fi = state.index.findings[f];
        return fi.rule + ': ' + fi.message;
      }).join('\n');
      pre.appendChild(mark);
    }
    panel.appendChild(pre);
    for (const f of d.badges[r]) panel.appendChild(findingElement(f));
  }

  function showNote(d, r) {
    const row = d.rows[r];
    const panel = $('panel');
    panel.replaceChildren();
    panel.appendChild(h('h3', null, 'Log line'));
    const dl = h('dl');
    field(dl, 'time', when(row.ts));
    field(dl, 'where', (state.index.inputs[row.input] || '?') + ':' + (row.line || 0));
    panel.appendChild(dl);
    panel.appendChild(h('pre', 'raw', row.text));
    for (const f of d.badges[r]) panel.appendChild(findingElement(f));
  }

  function showStream(d, r) {
    const row = d.rows[r];
    const panel = $('panel');
    panel.replaceChildren();
    panel.appendChild(h('h3', null, row.label));
    const dl = h('dl');
    field(dl, 'first packet', when(row.ts));
    field(dl, 'last packet', when(row.last));
    field(dl, 'from', row.src + (row.direction ? ' (' + row.direction + ')' : ''));
    field(dl, 'to', row.dst);
    field(dl, 'SSRC', row.ssrc);
    field(dl, 'codec', row.codec);
    field(dl, 'packets', String(row.packets) + ' (' + row.expected + ' expected)');
    field(dl, 'lost', String(row.lost));
    field(dl, 'max delta', row.max_delta_ms.toFixed(3) + ' ms');
    field(dl, 'jitter', row.mean_jitter_ms.toFixed(3) + ' ms mean, ' + row.max_jitter_ms.toFixed(3) + ' ms max');
    field(dl, 'MOS', row.mos.toFixed(2) + ' (estimate, ITU-T G.107 simplified)');
    if (row.dtmf_digits) field(dl, 'DTMF', row.dtmf_digits);
    if (row.source_not_in_sdp) field(dl, 'note', 'from an address no SDP of the call named: a NAT, the receiver latching onto it');
    field(dl, 'seen', (state.index.inputs[row.input] || '?') + ', stream ' + (row.index + 1) + ' of `sipflow media`');
    panel.appendChild(dl);
    for (const f of d.badges[r]) panel.appendChild(findingElement(f));
  }

  function fillSelect(id, values) {
    const sel = $(id);
    for (const [value, label] of values) {
      const o = h('option', null, label);
      o.value = value;
      sel.appendChild(o);
    }
  }

  function openFromHash() {
    const m = /^#call=(.+)$/.exec(location.hash);
    if (!m) return;
    const key = decodeURIComponent(m[1]);
    const i = state.index.items.findIndex((it) => it.key === key);
    if (i >= 0) openItem(i, true);
  }

  async function start() {
    const node = $('sipflow-data');
    state.data = JSON.parse(node.textContent);
    if (typeof DecompressionStream === 'undefined') throw new Error('this browser cannot read the report data (no DecompressionStream); use a current Chrome, Edge, Firefox or Safari');
    state.index = await inflate(state.data.index);
    const idx = state.index;
    state.hay = idx.items.map((it) => {
      const rules = it.findings.map((f) => {
        const code = idx.findings[f].rule;
        return code + ' ' + idx.rules[code].name;
      });
      // The line's text, its rules, and its addresses, names, numbers and agents.
      return fold([it.key, it.call_id, it.from, it.to, it.outcome, it.status, it.explanation].concat(rules, it.search || []).join('\n'));
    });
    // The date of the first line, shown once in the list's head.
    state.date = idx.items.length ? splitStart(idx.items[0].start)[0] : '';
    if (state.date) document.querySelector('.list-head .start-head').textContent = 'start (' + state.date + ')';
    const outcomes = [...new Set(idx.items.map((it) => it.outcome))].sort();
    fillSelect('filter-outcome', outcomes.map((o) => [o, o]));
    fillSelect('filter-rule', Object.keys(idx.rules).map((c) => [c, c + ' ' + idx.rules[c].name]));
    $('search').addEventListener('input', applyFilters);
    for (const id of ['filter-outcome', 'filter-rule', 'filter-severity']) $(id).addEventListener('change', applyFilters);
    const list = $('call-list');
    list.addEventListener('scroll', renderRows);
    list.addEventListener('click', (ev) => {
      const row = ev.target instanceof Element ? ev.target.closest('.row') : null;
      if (!row) return;
      // The rows are redrawn: keep the focus on the list, so that the arrow keys go on from
      // the clicked row.
      list.focus({ preventScroll: true });
      openItem(Number(row.dataset.item), false);
    });
    // The arrow keys move from the selected line (the one clicked last), Page Up/Down by a
    // screenful, Home and End to the ends; Enter opens the selected line again.
    list.addEventListener('keydown', (ev) => {
      const last = state.shown.length - 1;
      const page = Math.max(1, Math.floor(list.clientHeight / ROW_H) - 1);
      const from = state.shown.indexOf(state.selected);
      const to = {
        ArrowDown: from + 1,
        ArrowUp: from - 1,
        PageDown: from + page,
        PageUp: from - page,
        Home: 0,
        End: last,
        Enter: from,
      }[ev.key];
      if (to === undefined) return;
      ev.preventDefault();
      const k = Math.max(0, Math.min(last, to));
      if (last < 0 || (ev.key === 'Enter' && from < 0)) return;
      const top = k * ROW_H;
      if (top < list.scrollTop || top + ROW_H > list.scrollTop + list.clientHeight) list.scrollTop = top - list.clientHeight / 2;
      openItem(state.shown[k], false);
    });
    for (const tr of document.querySelectorAll('#summary tr.pick')) {
      tr.addEventListener('click', () => {
        if (tr.dataset.rule) $('filter-rule').value = tr.dataset.rule;
        if (tr.dataset.outcome) $('filter-outcome').value = tr.dataset.outcome;
        applyFilters();
        $('calls').scrollIntoView({ block: 'start' });
      });
    }
    window.addEventListener('hashchange', openFromHash);
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => requestAnimationFrame(refitLadder)).observe($('ladder'));
    applyFilters();
    openFromHash();
    document.body.dataset.ready = '1';
  }

  start().catch((err) => {
    const box = $('load-error');
    box.hidden = false;
    box.textContent = 'The report could not be read: ' + (err && err.message ? err.message : String(err));
    document.body.dataset.ready = 'error';
  });
})();
