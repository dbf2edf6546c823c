//! Byte-level line handling: splitting the input into numbered lines, removing colour codes (ANSI
//! and XcodeColors), matching an application's own line prefix (the "wrapper") on later lines,
//! and the prefix a dump's continuation lines carry ([`Cont`]).

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

impl Lines<'_> {
    /// Goes on after `line`, a line that a caller read from the text itself.
    pub fn resume_after(&mut self, line: Line<'_>) {
        self.pos = line.start - self.base + line.bytes.len() + 1;
        self.no = line.no;
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

/// ANSI escape sequences, and the XcodeColors plugin's `ESC[fg255,0,0;` / `ESC[bg…;` / `ESC[;`
/// (CocoaLumberjack and other iOS loggers colour the Xcode console with them).
static ANSI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\x1b\[(?:(?:fg|bg)[0-9]{1,3},[0-9]{1,3},[0-9]{1,3};|(?:fg|bg)?;|[0-9;?]*[ -/]*[@-~])")
        .expect("static regex")
});

/// XcodeColors codes whose ESC byte a paste lost (`[fg85,85,85;`, `[;`).
static XCODE_PASTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\[(?:(?:fg|bg)[0-9]{1,3},[0-9]{1,3},[0-9]{1,3};|(?:fg|bg)?;)")
        .expect("static regex")
});

/// `bytes` without colour codes (ANSI `\x1b[…m` and the like, XcodeColors `\x1b[fg…;`, also
/// when a paste lost their ESC byte).
pub(super) fn strip_ansi(bytes: &[u8]) -> Cow<'_, [u8]> {
    let mut out = if bytes.contains(&0x1b) {
        ANSI.replace_all(bytes, &b""[..])
    } else {
        Cow::Borrowed(bytes)
    };
    let pasted = memchr::memchr_iter(b'[', &out).any(|at| {
        matches!(
            out.get(at + 1..at + 3),
            Some([b'f' | b'b', b'g']) | Some([b';', _])
        ) || out.get(at + 1) == Some(&b';')
    });
    if pasted && let Cow::Owned(o) = XCODE_PASTED.replace_all(&out, &b""[..]) {
        out = Cow::Owned(o);
    }
    out
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

/// What a line looks like to a [`Shape`]: the rest after the prefix, no prefix at all, or the
/// start of one that the line ends inside (a line cut by the excerpt or the paste).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Carry<'a> {
    Yes(&'a [u8]),
    No,
    Cut,
}

impl Shape {
    /// [`Shape::strip`], telling a line that ends inside the prefix from one without it.
    pub fn carry<'a>(&self, line: &'a [u8]) -> Carry<'a> {
        let mut pos = 0;
        for tok in &self.0 {
            let Some(rest) = line.get(pos..) else {
                return Carry::Cut;
            };
            match tok.len_at(rest) {
                Some(n) => pos += n,
                None if rest.is_empty() => return Carry::Cut,
                None => return Carry::No,
            }
        }
        line.get(pos..).map_or(Carry::Cut, Carry::Yes)
    }
}

/// What a message dump's continuation lines carry before the message text, learnt from the
/// dump's start line or its `--end msg--` line (both constant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Cont {
    /// Nothing: the message lines are written as they are (pjsip's own writers).
    Plain,
    /// This many spaces (Android Studio's logcat view, the systemd journal, a pasted block
    /// indented as a whole).
    Indent(usize),
    /// An application's prefix on every line (logcat, the journal of a service writing line by
    /// line, a quote marker).
    Wrap(Shape),
}

impl Cont {
    /// The continuation prefix `prefix` stands for (the bytes before a start line or an end
    /// marker), given the shape of the dump header's own wrapper.
    pub fn of(prefix: &[u8], header_wrapper: Option<&Shape>) -> Cont {
        if prefix.is_empty() {
            Cont::Plain
        } else if prefix.iter().all(|&b| b == b' ') {
            Cont::Indent(prefix.len())
        } else {
            match header_wrapper {
                Some(w) if w.strip(prefix) == Some(&b""[..]) => Cont::Wrap(w.clone()),
                _ => Shape::of(prefix).map_or(Cont::Plain, Cont::Wrap),
            }
        }
    }

    /// What `line` carries of this prefix. A blank line (spaces only) carries an indent of any
    /// depth: pastes and loggers trim them.
    pub fn carry<'a>(&self, line: &'a [u8]) -> Carry<'a> {
        match self {
            Cont::Plain => Carry::Yes(line),
            Cont::Indent(n) => {
                let spaces = line.iter().take(*n).take_while(|&&b| b == b' ').count();
                if spaces == *n {
                    Carry::Yes(&line[*n..])
                } else if spaces == line.len() || line == b"\r" {
                    Carry::Yes(b"")
                } else {
                    Carry::No
                }
            }
            Cont::Wrap(shape) => shape.carry(line),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loose {
    /// A run of letters, digits, `_`, `.` or `-` (a time, a level name, a sender, a pid).
    Word,
    /// One or more spaces.
    Spaces,
    Byte(u8),
}

fn loose(b: u8) -> Loose {
    match b {
        b' ' => Loose::Spaces,
        b if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') => Loose::Word,
        b => Loose::Byte(b),
    }
}

/// The shape of a record prefix that is not pjsip's own decor (spdlog's
/// `[19:40:36.913][t:1436][p:1433][pjsip][debug] `, `PJ| 4 | sender `, a bracketed date), learnt
/// from the text before a dump header: every word generalised, so that other levels, senders
/// and times fit; punctuation and spacing literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RecordShape(Vec<Loose>);

impl RecordShape {
    /// The shape of `decor`, if it is distinctive enough to tell record lines from message
    /// lines: it must hold punctuation (a bracket, a bar, a colon …), not only words and spaces.
    pub fn of(decor: &[u8]) -> Option<RecordShape> {
        let mut toks: Vec<Loose> = Vec::new();
        for &b in decor {
            let tok = loose(b);
            if toks.last() != Some(&tok) || matches!(tok, Loose::Byte(_)) {
                toks.push(tok);
            }
        }
        let distinct = toks.first().is_some_and(|t| matches!(t, Loose::Byte(_)))
            || toks.iter().filter(|t| matches!(t, Loose::Byte(_))).count() >= 2;
        distinct.then_some(RecordShape(toks))
    }

    /// The length of the prefix of this shape at the start of `line`, if it has one.
    pub fn len(&self, line: &[u8]) -> Option<usize> {
        let mut pos = 0;
        for (i, tok) in self.0.iter().enumerate() {
            let rest = line.get(pos..)?;
            let n = match tok {
                Loose::Byte(b) => usize::from(rest.first() == Some(b)),
                _ => rest.iter().take_while(|&&b| loose(b) == *tok).count(),
            };
            // A trailing space run may be missing at the end of the line.
            let last_spaces = *tok == Loose::Spaces && i + 1 == self.0.len() && rest.is_empty();
            if n == 0 && !last_spaces {
                return None;
            }
            pos += n;
        }
        Some(pos)
    }
}
