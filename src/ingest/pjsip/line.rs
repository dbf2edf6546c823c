//! Byte-level line handling: splitting the input into numbered lines, removing ANSI colour codes,
//! and matching an application's own line prefix (the "wrapper") on later lines.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::bytes::Regex;

/// One line of the input, without its `\n`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Line<'a> {
    /// 1-based line number (saturating).
    pub no: u32,
    /// Byte offset of the line in the input.
    pub start: usize,
    /// The line's bytes, without the `\n` (a `\r` before it is kept).
    pub bytes: &'a [u8],
}

impl Line<'_> {
    /// End offset of the line's content, a trailing `\r` excluded.
    pub fn end(&self) -> usize {
        self.start + trim_cr(self.bytes).len()
    }
}

/// Iterates the lines of an input. A final line without `\n` is yielded; an empty tail is not.
pub(super) struct Lines<'a> {
    text: &'a [u8],
    /// Where `text` starts in the input.
    base: usize,
    pos: usize,
    no: u32,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        Lines::at(text, 0, 0)
    }

    /// The lines of `text`, which is a piece of the input starting at byte `offset` after line
    /// `no` (so that offsets and numbers are the input's).
    pub fn at(text: &'a [u8], offset: usize, no: u32) -> Self {
        Lines {
            text,
            base: offset,
            pos: 0,
            no,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let rest = self.text.get(self.pos..).filter(|r| !r.is_empty())?;
        let len = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = Line {
            no: self.no.saturating_add(1),
            start: self.base + self.pos,
            bytes: &rest[..len],
        };
        self.no = line.no;
        self.pos += len + 1;
        Some(line)
    }
}

/// `bytes` without one trailing `\r`.
pub(super) fn trim_cr(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

static ANSI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)\x1b\[[0-9;?]*[ -/]*[@-~]").expect("static regex"));

/// `bytes` without ANSI escape sequences (`\x1b[…m` colour codes and the like).
pub(super) fn strip_ansi(bytes: &[u8]) -> Cow<'_, [u8]> {
    if bytes.contains(&0x1b) {
        ANSI.replace_all(bytes, &b""[..])
    } else {
        Cow::Borrowed(bytes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// One or more ASCII digits (times, pids and counters change from line to line).
    Digits,
    /// One or more spaces (padding changes with the width of the numbers), or none at line end.
    Spaces,
    Byte(u8),
}

/// The shape of an application's line prefix (e.g. logcat's `11-21 05:28:17.580  1234  1250 I
/// pjsua   : `): digits and space runs generalised, every other byte literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Shape(Vec<Tok>);

impl Shape {
    /// The shape of `wrapper`; `None` when there is no wrapper.
    pub fn of(wrapper: &[u8]) -> Option<Shape> {
        let mut toks: Vec<Tok> = Vec::new();
        for &b in wrapper {
            let tok = match b {
                b'0'..=b'9' => Tok::Digits,
                b' ' => Tok::Spaces,
                _ => Tok::Byte(b),
            };
            if toks.last() != Some(&tok) || matches!(tok, Tok::Byte(_)) {
                toks.push(tok);
            }
        }
        (!toks.is_empty()).then_some(Shape(toks))
    }

    /// The rest of `line` after a prefix of this shape, or `None` if `line` does not have one.
    pub fn strip<'a>(&self, line: &'a [u8]) -> Option<&'a [u8]> {
        let mut pos = 0;
        for tok in &self.0 {
            pos += tok.len_at(line.get(pos..)?)?;
        }
        line.get(pos..)
    }
}

impl Tok {
    /// How many bytes at the start of `rest` this token matches.
    fn len_at(self, rest: &[u8]) -> Option<usize> {
        let run = |f: fn(u8) -> bool| rest.iter().take_while(|&&b| f(b)).count();
        match self {
            Tok::Digits => Some(run(|b| b.is_ascii_digit())).filter(|&n| n > 0),
            Tok::Spaces => Some(run(|b| b == b' ')).filter(|&n| n > 0 || rest.is_empty()),
            Tok::Byte(b) => (rest.first() == Some(&b)).then_some(1),
        }
    }
}
