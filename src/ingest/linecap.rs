//! Lines of a text input bounded as they are read.
//!
//! Owns: cutting any line of a text input (pjsip log, SIPp trace, raw SIP) longer than
//! [`MAX_LINE`] bytes to its first [`MAX_LINE`] bytes while it is read, skipping the rest of
//! that line (its end of line is kept, so line numbers stay right), and the one warning per
//! input that says so: the first line cut, how long it was, and how many more were cut. Time
//! stays linear and memory does not grow with a line's length. Does not own: what the kept text
//! means (the format readers) or sniffing (which reads only the first 64 KiB).

use std::io::Read;

use super::InputWarning;

/// The longest line kept whole. pjsip caps a log record at 4,000 bytes and no SIP header or
/// SDP line of a real trace comes near this; a longer line is damage or an attack.
pub const MAX_LINE: usize = 1 << 20;

/// A line that was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CutLine {
    /// 1-based line number.
    line: u64,
    /// Its length in bytes, without the end of line.
    len: u64,
}

/// A reader that passes its input on with every line cut to at most `max` bytes.
pub struct LineCap<R> {
    inner: R,
    max: usize,
    /// Bytes of the current line passed on so far.
    run: usize,
    /// Bytes of the current line skipped so far (non-zero only while skipping).
    skipped: u64,
    /// Lines ended so far.
    lines: u64,
    first: Option<CutLine>,
    cut: usize,
    /// Bytes passed on so far, the head included: where the text is.
    out: u64,
    /// Told where lines were cut, when the text is read back from the file in place.
    record: Option<super::Source>,
}

impl<R: Read> LineCap<R> {
    /// `head` is what was read of the input before `inner` (passed on by the caller as it was:
    /// it is shorter than `max`), so that the first line's length and the line numbers count it.
    pub fn new(inner: R, head: &[u8], max: usize) -> Self {
        let lines = memchr::memchr_iter(b'\n', head).count() as u64;
        let run = memchr::memrchr(b'\n', head).map_or(head.len(), |p| head.len() - p - 1);
        LineCap {
            inner,
            max,
            run,
            skipped: 0,
            lines,
            first: None,
            cut: 0,
            out: head.len() as u64,
            record: None,
        }
    }

    /// Tells `source` where lines are cut (see [`super::Source::shift`]).
    pub fn recording_into(mut self, source: super::Source) -> Self {
        self.record = Some(source);
        self
    }

    /// The warning for the lines cut, if any.
    pub fn warning(&self, name: &str) -> Option<InputWarning> {
        let first = self.first?;
        let more = match self.cut {
            0 | 1 => String::new(),
            n => format!("; {} more like it", n - 1),
        };
        Some(InputWarning {
            name: name.to_string(),
            message: format!(
                "line {} is {} bytes long: only its first {} bytes were read, the rest of the \
                 line was skipped{more}",
                first.line, first.len, self.max
            ),
        })
    }

    /// Ends the line being skipped, at text offset `at`: it is recorded as cut.
    fn end_skip(&mut self, at: u64) {
        if self.skipped > 0 {
            if let Some(source) = &self.record {
                source.shift(at, self.skipped);
            }
            let cut = CutLine {
                line: self.lines + 1,
                len: self.run as u64 + self.skipped,
            };
            self.first.get_or_insert(cut);
            self.cut += 1;
            self.skipped = 0;
        }
    }

    /// Drops from `buf` what is past the limit of its line, in place; returns the length kept.
    fn filter(&mut self, buf: &mut [u8]) -> usize {
        let (mut from, mut kept) = (0, 0);
        while from < buf.len() {
            let nl = memchr::memchr(b'\n', &buf[from..]).map(|p| from + p);
            let end = nl.unwrap_or(buf.len());
            let room = self.max - self.run;
            let take = (end - from).min(room);
            buf.copy_within(from..from + take, kept);
            kept += take;
            self.run += take;
            self.skipped += (end - from - take) as u64;
            match nl {
                Some(p) => {
                    self.end_skip(self.out + kept as u64);
                    buf[kept] = b'\n';
                    kept += 1;
                    self.lines += 1;
                    self.run = 0;
                    from = p + 1;
                }
                None => from = end,
            }
        }
        kept
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                self.end_skip(self.out);
                return Ok(0);
            }
            let kept = self.filter(&mut buf[..n]);
            self.out += kept as u64;
            // Everything read was skipped: read on, as 0 would mean the end of the input.
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives its bytes at most `.1` at a time.
    struct Chunks<'a>(&'a [u8], usize);

    impl Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn capped(head: &[u8], rest: &[u8], max: usize, chunk: usize) -> (Vec<u8>, Option<String>) {
        let mut r = LineCap::new(Chunks(rest, chunk), head, max);
        let mut out = head.to_vec();
        r.read_to_end(&mut out).expect("read");
        (out, r.warning("in").map(|w| w.message))
    }

    #[test]
    fn short_lines_pass_unchanged() {
        let text = b"a\nbb\n\nccc";
        for chunk in 1..5 {
            assert_eq!(capped(b"", text, 3, chunk), (text.to_vec(), None));
        }
    }

    #[test]
    fn long_lines_are_cut_and_counted_in_any_chunking() {
        for chunk in 1..12 {
            let (out, warning) = capped(b"x\nab", b"cdefg\nhi\n0123456789", 4, chunk);
            assert_eq!(out, b"x\nabcd\nhi\n0123", "chunk {chunk}");
            assert_eq!(
                warning.as_deref(),
                Some(
                    "line 2 is 7 bytes long: only its first 4 bytes were read, the rest of the \
                     line was skipped; 1 more like it"
                )
            );
        }
    }

    /// A file read again in place gives the text the readers got: the lines cut are skipped by
    /// the shifts the cap records, whatever the chunking.
    #[test]
    fn a_source_read_in_place_gives_the_capped_text() {
        let (head, rest) = (&b"x\nab"[..], &b"cdefg\nhi\n0123456789\nzz\nlast"[..]);
        for chunk in 1..12 {
            let (source, mut file) = super::super::Source::spool().expect("a spool file");
            std::io::Write::write_all(&mut file, &[head, rest].concat()).expect("write");
            let mut r = LineCap::new(Chunks(rest, chunk), head, 4).recording_into(source.clone());
            let mut text = head.to_vec();
            r.read_to_end(&mut text).expect("read");
            assert_eq!(text, b"x\nabcd\nhi\n0123\nzz\nlast", "chunk {chunk}");
            for a in 0..text.len() {
                for b in a..=text.len() {
                    assert_eq!(source.read(a..b), &text[a..b], "chunk {chunk}: {a}..{b}");
                }
            }
        }
    }
}
