//! pjsip's line prefix (`pj_log` decor) and the layout of its columns.
//!
//! A prefixed line is: an optional application prefix (the *wrapper*: logcat, Python logging,
//! NSLog, log4net …), then pjsip's decor: optional level text (`DEBUG:`), day name, date
//! (`YYYY-MM-DD`, or the parts the year/month/day flags leave), `HH:MM:SS[.mmm]`, the sender
//! column right-aligned in 14 or 22 bytes (long names cut), an optional 12-byte thread column,
//! one separator space, the `!`/space thread-switch marker and the indent dots. The sender and
//! thread widths are not visible on one line alone, so they are learned once per input
//! ([`Layout::learn`]).
//!
//! A log whose records do not carry pjsip's decor (an application's own logger with pjsip's
//! decor switched off, or no time at all) is read by what precedes its dump headers, which are
//! constant: [`Learnt`] learns that record prefix ([`RecordShape`]) and what the dumps'
//! continuation lines carry ([`Cont`]) from the head of the input.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::{Captures, Regex};

use super::anchor;
use super::dump::{end_marker, find_header};
use super::line::{Cont, Lines, RecordShape, strip_ansi, trim_cr};
use crate::event::parse_date;

/// The pjsip prefix is looked for in this many leading bytes of a line (wrapper included).
const SEARCH: usize = 512;
/// pjsip's `PJ_LOG_THREAD_WIDTH`.
const THREAD_WIDTH: usize = 12;
/// [`Layout::learn`] reads until this many lines fit a sender layout, or this many bytes.
const SAMPLE_FITS: usize = 2000;
const SAMPLE_BYTES: usize = 4 << 20;

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)(?:(?:FATAL|ERROR| WARN| INFO|DEBUG|TRACE|DETRC): ?)?(?:(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat) ?)?(?P<date>(?:[0-9]{4}(?:-[0-9]{2}){0,2}|(?:-[0-9]{2}){1,2}) )?(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?",
    )
    .expect("static regex")
});

static WRAPPER_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)(?:^|[^0-9])([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[^0-9]|$)").expect("static regex")
});

/// What the prefix of one line says. Ranges index the cleaned line given to [`Layout::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Prefix {
    /// The application's own prefix before pjsip's (empty when there is none).
    pub wrapper: Range<usize>,
    /// Days since 1970-01-01, from pjsip's date or else the wrapper's.
    pub date: Option<i64>,
    /// Microseconds since midnight (`None` for a learnt record prefix without a time).
    pub tod: Option<i64>,
    /// The sender column, without its padding (empty when the decor has no sender).
    pub sender: Range<usize>,
    /// The message text, after the thread-switch marker and the indent.
    pub text: Range<usize>,
}

/// The column layout of an input's pjsip prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout {
    /// Width of the sender column: 22 (64-bit builds), 14, or 0 when the decor has no sender.
    pub sender: usize,
    /// Whether a thread column follows the sender.
    pub thread: bool,
}

const fn layout(sender: usize, thread: bool) -> Layout {
    Layout { sender, thread }
}

/// The layouts [`Layout::learn`] tries, in the order [`Layout::choose`] reads their counts.
const CANDIDATES: [Layout; 6] = [
    layout(22, false),
    layout(14, false),
    layout(22, true),
    layout(14, true),
    layout(0, false),
    layout(0, true),
];

impl Layout {
    /// Learns the layout from the head of an input: the sender width that most lines fit, and
    /// a thread column if nearly every such line has one.
    pub fn learn(text: &[u8]) -> Layout {
        let mut counts = [0usize; CANDIDATES.len()];
        let mut named = false;
        for line in Lines::new(text).take_while(|l| l.start < SAMPLE_BYTES) {
            let clean = clean_head(line.bytes);
            let head = search_head(&clean);
            // Every time holds `DD:DD:DD`: most lines (a dump's) are ruled out without the regex.
            if !may_hold_time(head) {
                continue;
            }
            let times: Vec<Stamp> = TIME
                .captures_iter(head)
                .filter_map(|c| Stamp::of(&c))
                .collect();
            for (i, layout) in CANDIDATES.iter().enumerate() {
                if let Some(p) = layout.first_fit(&clean, &times) {
                    counts[i] += 1;
                    named |= layout.sender > 0 && pjsip_sender(&clean[p.sender]);
                }
            }
            if counts[0].max(counts[1]) >= SAMPLE_FITS {
                break;
            }
        }
        Layout::choose(&counts, named)
    }

    /// Picks from the counts of sampled lines each candidate fits (same order as
    /// [`CANDIDATES`]). A sender layout wins if a line showed a real pjsip sender, or else
    /// unless hardly any line fits it (chance fits) while many lines start with a bare time.
    fn choose(c: &[usize; CANDIDATES.len()], named: bool) -> Layout {
        let (sender, plain, threaded) = if c[1] > c[0] {
            (14, c[1], c[3])
        } else {
            (22, c[0], c[2])
        };
        let (sender, plain, threaded) = if plain > 0 && (named || plain * 20 >= c[4]) {
            (sender, plain, threaded)
        } else {
            (0, c[4], c[5])
        };
        Layout {
            sender,
            thread: threaded > 0 && threaded * 10 >= plain * 9,
        }
    }

    /// Finds pjsip's prefix in a cleaned line (see [`clean_head`]). With a thread column, lines
    /// without one are accepted too: pjsua2 writes its first lines before applying the decor.
    pub fn parse(&self, line: &[u8]) -> Option<Prefix> {
        let head = search_head(line);
        // Most lines are a dump's: without `HH:MM:SS` they cannot hold a prefix, and looking
        // for the two digits around each colon is much cheaper than the regex.
        if !may_hold_time(head) {
            return None;
        }
        // pjsip's own decor starts the line with the time: the regex's first match, so when this
        // layout's columns follow it, it is the answer the search would give.
        if let Some(p) = leading_time(head).and_then(|t| self.prefix_at(line, &t)) {
            return Some(p);
        }
        self.search(line)
    }

    /// [`Layout::parse`] by the regex alone: every time match in the head, in order.
    pub(super) fn search(&self, line: &[u8]) -> Option<Prefix> {
        let head = search_head(line);
        let plain = layout(self.sender, false);
        let times: Vec<Stamp> = TIME
            .captures_iter(head)
            .filter_map(|c| Stamp::of(&c))
            .collect();
        self.first_fit(line, &times)
            .or_else(|| self.thread.then(|| plain.first_fit(line, &times)).flatten())
    }

    /// The prefix at the first time match that this layout's columns follow.
    fn first_fit(&self, line: &[u8], times: &[Stamp]) -> Option<Prefix> {
        times
            .iter()
            .filter(|t| self.sender > 0 || t.whole.start == 0)
            .find_map(|t| self.prefix_at(line, t))
    }

    fn prefix_at(&self, line: &[u8], t: &Stamp) -> Option<Prefix> {
        let whole = t.whole.clone();
        let tod = t.tod?;
        let mut at = whole.end;
        let mut sender = at..at;
        if self.sender > 0 {
            sender = column(line, at, self.sender)?;
            at = sender.end;
        }
        if self.thread {
            at = column(line, at, THREAD_WIDTH)?.end;
        }
        if !matches!(line.get(at), None | Some(b' ')) {
            return None;
        }
        let wrapper = &line[..whole.start];
        let date = t
            .date
            .clone()
            .and_then(|d| date(line.get(d)?))
            .or_else(|| wrapper_date(wrapper));
        Some(Prefix {
            wrapper: 0..whole.start,
            date,
            tod: Some(tod),
            sender,
            text: text_start(line, at)..line.len(),
        })
    }
}

/// How many dump headers and end markers [`Learnt::learn`] looks at.
const SAMPLE_MARKS: usize = 16;

/// What is learnt from the head of an input: pjsip's column layout, the record prefix of a log
/// whose dump headers do not carry pjsip's decor, and what the dumps' continuation lines carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Learnt {
    pub layout: Layout,
    /// The record prefix learnt from the dump headers, when pjsip's decor does not read them.
    pub record: Option<RecordShape>,
    /// What precedes `--end msg--` on most end marker lines.
    pub cont: Cont,
}

impl Learnt {
    pub fn learn(text: &[u8]) -> Learnt {
        let layout = Layout::learn(text);
        let (mut decors, mut ends) = (Vec::new(), Vec::new());
        // Records found by their anchors (see [`anchored`]): whether pjsip's decor reads them,
        // and the decor before their text.
        let mut anchors: Vec<(bool, Vec<u8>)> = Vec::new();
        for line in Lines::new(text).take_while(|l| l.start < SAMPLE_BYTES) {
            let clean = clean_head(line.bytes);
            if anchors.len() < SAMPLE_MARKS
                && let Some((p, _)) = anchored(&clean)
            {
                let pjsip = layout.parse(&clean).is_some();
                anchors.push((pjsip, clean[..p.text.start].to_vec()));
            }
            if let Some(found) = find_header(&clean) {
                if decors.len() < SAMPLE_MARKS && found.collapsed.is_none() {
                    let pjsip = layout.parse(&clean).is_some();
                    decors.push((pjsip, clean[..found.at].to_vec()));
                }
            } else if let Some(at) = end_marker(&clean)
                && ends.len() < SAMPLE_MARKS
            {
                ends.push(Cont::of(&clean[..at], None));
            }
            if decors.len() >= SAMPLE_MARKS && ends.len() >= SAMPLE_MARKS {
                break;
            }
        }
        // pjsip's decor reads most headers: nothing more to learn about records. A log without
        // dump headers learns from its anchored records instead: the most common shape of what
        // precedes their text (wrapper, and sender column if any).
        let marks = if decors.is_empty() { &anchors } else { &decors };
        let unread = || marks.iter().filter(|(pjsip, _)| !pjsip).map(|(_, d)| d);
        let record = if unread().count() * 2 <= marks.len() {
            None
        } else if decors.is_empty() {
            most_common(
                unread()
                    .filter_map(|d| RecordShape::of(trim_decor_end(d)))
                    .collect(),
            )
        } else {
            unread()
                .next()
                .and_then(|d| RecordShape::of(trim_decor_end(d)))
        };
        Learnt {
            layout,
            record,
            cont: most_common(ends).unwrap_or(Cont::Plain),
        }
    }

    /// [`Layout::parse`], or else the learnt record prefix: its time (if it shows one) and the
    /// text after it; or else a record found by its anchor (see [`anchored`]).
    pub fn parse(&self, line: &[u8]) -> Option<Prefix> {
        if let Some(p) = self.layout.parse(line) {
            return Some(p);
        }
        if let Some(mut p) = self.record_prefix(line) {
            // A shape learnt from anchored records covers their sender column: name it.
            if p.sender.is_empty()
                && let Some(a) = anchor::find(search_head(line)).filter(|a| a.text == p.text.start)
            {
                p.sender = a.sender;
            }
            return Some(p);
        }
        anchored(line).map(|(p, _)| p)
    }

    fn record_prefix(&self, line: &[u8]) -> Option<Prefix> {
        let shape = self.record.as_ref()?;
        let len = shape.len(line)?;
        let head = &line[..len];
        let stamp = TIME
            .captures_iter(head)
            .filter_map(|c| Stamp::of(&c))
            .find(|s| s.tod.is_some());
        let date = stamp
            .as_ref()
            .and_then(|s| s.date.clone())
            .and_then(|d| date(line.get(d)?))
            .or_else(|| wrapper_date(head));
        Some(Prefix {
            wrapper: 0..len,
            date,
            tod: stamp.and_then(|s| s.tod_in(head)),
            sender: len..len,
            text: text_start(line, len)..line.len(),
        })
    }
}

/// A record inside another logger's line, found by a well-known sender or one of pjsip's
/// message texts ([`anchor::find`]) with a time before it on the line; everything before the
/// sender (or the text) is the wrapper.
pub(super) fn anchored(line: &[u8]) -> Option<(Prefix, anchor::Anchor)> {
    let head = search_head(line);
    if !may_hold_time(head) {
        return None;
    }
    let a = anchor::find(head)?;
    let (date, tod) = loose_time(line, a.sender.start)?;
    let p = Prefix {
        wrapper: 0..a.sender.start,
        date,
        tod: Some(tod),
        sender: a.sender.clone(),
        text: a.text..line.len(),
    };
    Some((p, a))
}

/// Whether a line holds a record in pjsip's own columns: after a time and whatever else precedes
/// it (pjsip's time, or an application's prefix when pjsip's time is off), a sender
/// right-aligned in a 14- or 22-byte column, then a space or the line's end
/// (`05:28:17.580                  rtp.c  .…`, `22:37:23.191 tsx0000020273A1  …`,
/// `[2024-05-01 10:31:46.624] [pjsua2] [info]      strm0x55b9d692b508  .…`, or after a tab). The
/// sender must be one pjsip writes: a source file or an object with its pointer (`0x…`, or
/// Windows' upper-case hex). The alignment and such a sender together are pjsip's decor whatever the record's text says,
/// so one such line is enough to call an input a pjsip log.
pub(super) fn in_pjsip_columns(line: &[u8]) -> bool {
    let head = search_head(line);
    let mut spaces = 0;
    for (i, &b) in head.iter().enumerate() {
        if b == b' ' {
            spaces += 1;
            continue;
        }
        let (padding, start) = (spaces, i);
        spaces = 0;
        if padding == 0 || padding == start {
            continue;
        }
        let word = &head[start..];
        let word = &word[..word.iter().position(|&b| b == b' ').unwrap_or(word.len())];
        // The column's own width, or one more: pjsip puts a space before the column when
        // something precedes it on the line. After a single space, only a sender that fills the
        // column (cut to it) is told from a word that merely follows a space.
        let width = padding + word.len();
        let fits = if padding == 1 {
            [14, 22].contains(&word.len())
        } else {
            [14, 15, 22, 23].contains(&width)
        };
        if fits
            && (pjsip_sender(word) || windows_object(word))
            && may_hold_time(&head[..start - padding])
        {
            return true;
        }
    }
    false
}

/// An object sender as pjsip writes it on Windows, where `%p` is upper-case hex without `0x`
/// (`tsx0000020273A1`, `tdta039500D4`): a short lower-case name, then at least 8 hex digits.
fn windows_object(sender: &[u8]) -> bool {
    let name = sender.iter().take_while(|b| b.is_ascii_lowercase()).count();
    let hex = &sender[name..];
    (2..=8).contains(&name)
        && hex.len() >= 8
        && hex
            .iter()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
}

/// A decor without its thread-switch marker and indent (`pjsua_core.c !..` → `pjsua_core.c `).
fn trim_decor_end(decor: &[u8]) -> &[u8] {
    let end = decor.iter().rposition(|&b| b != b'.').map_or(0, |p| p + 1);
    let decor = &decor[..end];
    decor.strip_suffix(b"!").unwrap_or(decor)
}

fn most_common<T: PartialEq>(items: Vec<T>) -> Option<T> {
    let mut counts: Vec<(T, usize)> = Vec::new();
    for item in items {
        match counts.iter_mut().find(|(c, _)| *c == item) {
            Some((_, n)) => *n += 1,
            None => counts.push((item, 1)),
        }
    }
    // The first of the most common, so that the answer does not depend on anything but order.
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(c, _)| c)
}

/// The time of a line that holds no pjsip prefix (a dump header after an unknown wrapper): the
/// last time shown before `end`, and a date if the line shows one.
pub(super) fn loose_time(line: &[u8], end: usize) -> Option<(Option<i64>, i64)> {
    let head = line.get(end.saturating_sub(SEARCH)..end)?;
    if !may_hold_time(head) {
        return None;
    }
    let stamp = TIME
        .captures_iter(head)
        .filter_map(|c| Stamp::of(&c))
        .filter(|s| s.tod.is_some())
        .last()?;
    let date = stamp
        .date
        .clone()
        .and_then(|d| date(head.get(d)?))
        .or_else(|| wrapper_date(head));
    Some((date, stamp.tod_in(head)?))
}

/// A match of [`TIME`]: where it is, the time of day it reads (`None` if out of range), and
/// where its date is.
struct Stamp {
    whole: Range<usize>,
    tod: Option<i64>,
    date: Option<Range<usize>>,
}

impl Stamp {
    /// The time of day, with the milliseconds an application's logger writes after a comma or
    /// a colon (`12:06:44,061`, `12:06:44:061`) when the match has no fraction.
    fn tod_in(&self, line: &[u8]) -> Option<i64> {
        let tod = self.tod?;
        let end = self.whole.end;
        let after = line.get(end..).unwrap_or_default();
        let millis = match after {
            [b',' | b':', a, b, c, rest @ ..]
                if [a, b, c].iter().all(|d| d.is_ascii_digit())
                    && !rest.first().is_some_and(u8::is_ascii_digit)
                    && !line
                        .get(self.whole.clone())
                        .unwrap_or_default()
                        .contains(&b'.') =>
            {
                i64::from(a - b'0') * 100 + i64::from(b - b'0') * 10 + i64::from(c - b'0')
            }
            _ => 0,
        };
        Some(tod + millis * 1000)
    }

    fn of(c: &Captures<'_>) -> Option<Stamp> {
        Some(Stamp {
            whole: c.get(0)?.range(),
            tod: time_of_day(c),
            date: c.name("date").map(|d| d.range()),
        })
    }
}

/// `HH:MM:SS[.f…]` at the very start of `head`, read by hand as [`TIME`] would read it there
/// (its other parts cannot match a line that starts with a digit and a colon at 2).
fn leading_time(head: &[u8]) -> Option<Stamp> {
    let two = |at: usize| -> Option<i64> {
        let d = head.get(at..at + 2)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| i64::from(d[0] - b'0') * 10 + i64::from(d[1] - b'0'))
    };
    if head.get(2) != Some(&b':') || head.get(5) != Some(&b':') {
        return None;
    }
    let (h, m, s) = (two(0)?, two(3)?, two(6)?);
    let mut end = 8;
    let mut micros = 0;
    if head.get(8) == Some(&b'.') {
        let digits = head
            .get(9..)
            .unwrap_or_default()
            .iter()
            .take(6)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > 0 {
            for &d in &head[9..9 + digits] {
                micros = micros * 10 + i64::from(d - b'0');
            }
            micros *= 10i64.pow(6 - digits as u32);
            end = 9 + digits;
        }
    }
    let tod =
        (h <= 23 && m <= 59 && s <= 60).then_some(((h * 60 + m) * 60 + s) * 1_000_000 + micros);
    Some(Stamp {
        whole: 0..end,
        tod,
        date: None,
    })
}

/// Whether `head` holds `DD:DD:DD` (ASCII digits), which every match of [`TIME`] does.
fn may_hold_time(head: &[u8]) -> bool {
    let digits = |r: Range<usize>| {
        head.get(r)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    memchr::memchr_iter(b':', head).any(|p| {
        p >= 2
            && digits(p - 2..p)
            && digits(p + 1..p + 3)
            && head.get(p + 3) == Some(&b':')
            && digits(p + 4..p + 6)
    })
}

/// Where in a line the pjsip prefix may start (after a wrapper).
fn search_head(line: &[u8]) -> &[u8] {
    &line[..line.len().min(SEARCH)]
}

/// A sender pjsip writes: a source file (`pjsua_core.c`, `account.cpp`) or an object
/// (`tsx0x55a2d07edf98`, `udp0x55a2…` cut to the column).
fn pjsip_sender(sender: &[u8]) -> bool {
    sender.ends_with(b".c") || sender.ends_with(b".cpp") || sender.windows(2).any(|w| w == b"0x")
}

/// The head of a line that holds its prefix and evidence text: at most 8 KiB (pjsip records are
/// ≤ 4000 bytes), without a trailing `\r` and without colour codes.
pub(super) fn clean_head(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const HEAD: usize = 8 * 1024;
    strip_ansi(trim_cr(&bytes[..bytes.len().min(HEAD)]))
}

/// A right-aligned column of `width` bytes after one space at `at` (padding, then one word that
/// ends the column and is followed by a space or the line end). Returns the word's range.
fn column(line: &[u8], at: usize, width: usize) -> Option<Range<usize>> {
    if line.get(at) != Some(&b' ') {
        return None;
    }
    let field = at + 1..at + 1 + width;
    let bytes = line.get(field.clone())?;
    let word = bytes.iter().position(|&b| b != b' ')?;
    let clean_word = bytes.get(word..)?.iter().all(|&b| b > b' ');
    let ends = matches!(line.get(field.end), None | Some(b' '));
    (clean_word && ends).then_some(field.start + word..field.end)
}

/// Skips the separator space, the thread-switch marker (`!` or a space) and the indent dots.
fn text_start(line: &[u8], mut at: usize) -> usize {
    if line.get(at) == Some(&b' ') {
        at += 1;
    }
    if matches!(line.get(at), Some(b' ' | b'!')) {
        at += 1;
    }
    at + line
        .get(at..)
        .map_or(0, |r| r.iter().take_while(|&&b| b == b'.').count())
}

fn time_of_day(c: &Captures<'_>) -> Option<i64> {
    let field = |name: &str| -> Option<i64> {
        std::str::from_utf8(c.name(name)?.as_bytes())
            .ok()?
            .parse()
            .ok()
    };
    let (h, m, s) = (field("h")?, field("m")?, field("s")?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let micros = match c.name("f") {
        Some(f) => field("f")? * 10i64.pow(6u32.saturating_sub(f.len() as u32)),
        None => 0,
    };
    Some(((h * 60 + m) * 60 + s) * 1_000_000 + micros)
}

/// A full `YYYY-MM-DD` (pjsip's date decor with year, month and day).
fn date(bytes: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(bytes).ok()?.trim();
    (s.len() == 10).then(|| parse_date(s)).flatten()
}

/// A `YYYY-MM-DD` anywhere in an application's prefix.
fn wrapper_date(wrapper: &[u8]) -> Option<i64> {
    // Most records have no wrapper: no regex (and no allocation for its captures) then.
    if wrapper.len() < b"YYYY-MM-DD".len() {
        return None;
    }
    date(WRAPPER_DATE.captures(wrapper)?.get(1)?.as_bytes())
}
