//! The text of a text input, kept where excerpts of it can be read back.
//!
//! Owns: [`Source`], which gives back the bytes of a range of a text input's text (the text as
//! the format readers saw it, with lines cut by [`super::linecap`]) for the excerpts that
//! `--format human` shows, without holding the text in memory: a regular file is read again
//! where it lies (shifted past the parts of lines that were cut), and anything else (stdin, a
//! FIFO, gzip) is copied as it is read to a spool file in the temporary directory, removed when
//! the run ends. Only when no spool file can be made is the text held in memory. Does not own:
//! what the text means (the format readers) or how excerpts are drawn
//! (`report::findings::human`).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The kept text of one input; empty for captures and when no output shows excerpts. Cheap to
/// clone; safe to read from any thread while the input is still being read.
#[derive(Clone, Default)]
pub struct Source(Option<Arc<Store>>);

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_deref() {
            None => f.write_str("Source(none)"),
            Some(Store::Memory(m)) => write!(f, "Source({} bytes in memory)", lock(m).len()),
            Some(Store::File(_)) => f.write_str("Source(file)"),
        }
    }
}

enum Store {
    Memory(Mutex<Vec<u8>>),
    File(Mutex<Backing>),
}

/// A file holding the text, or the input itself with the lines cut out of the text.
struct Backing {
    file: File,
    /// Where lines were cut, in order: the place in the text after which the file holds more
    /// than the text, and how many bytes in all the file holds more from there on.
    shifts: Vec<(u64, u64)>,
    /// A spool file of this run, removed with the source.
    spool: Option<PathBuf>,
    /// The last stretch read, from text offset `cached_at`: findings come in the order of the
    /// text, so most excerpts are read from here without a system call.
    cached_at: u64,
    cached: Vec<u8>,
}

/// How much is read from the file at a time.
const STRETCH: u64 = 64 << 10;

impl Drop for Backing {
    fn drop(&mut self) {
        if let Some(path) = &self.spool {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A reader that panicked left the data as it was: a byte store has no invariant to break.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Source {
    /// A text held in memory (tests, and text that could not be spooled).
    pub fn new(text: Vec<u8>) -> Self {
        Source(Some(Arc::new(Store::Memory(Mutex::new(text)))))
    }

    /// Whether no text is kept (a capture, or a run whose output shows no excerpts).
    pub fn is_empty(&self) -> bool {
        match self.0.as_deref() {
            None => true,
            Some(Store::Memory(m)) => lock(m).is_empty(),
            Some(Store::File(_)) => false,
        }
    }

    /// The bytes of `range` of the text, or as much of it as there is (shorter at the end of
    /// the text, empty past it or when the text cannot be read back).
    pub fn read(&self, range: Range<usize>) -> Vec<u8> {
        let (start, end) = (range.start as u64, range.end as u64);
        if start >= end {
            return Vec::new();
        }
        match self.0.as_deref() {
            None => Vec::new(),
            Some(Store::Memory(m)) => {
                let m = lock(m);
                let end = range.end.min(m.len());
                m.get(range.start..end).unwrap_or_default().to_vec()
            }
            Some(Store::File(b)) => lock(b).read(start, end).unwrap_or_default(),
        }
    }

    /// The whole text (tests).
    pub fn to_vec(&self) -> Vec<u8> {
        self.read(0..usize::MAX)
    }

    /// A regular file read again where it lies: `path` must hold the text the readers get,
    /// except for the parts of lines [`Source::shift`] is told of.
    pub(super) fn in_place(path: &str) -> Option<Self> {
        let file = File::open(path).ok()?;
        Some(Source::backed(file, None))
    }

    /// A spool file in the temporary directory, and the handle that writes the text into it;
    /// `None` when none can be made.
    pub(super) fn spool() -> Option<(Self, File)> {
        Self::spool_in(&std::env::temp_dir())
    }

    fn spool_in(dir: &std::path::Path) -> Option<(Self, File)> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for attempt in 0..16u32 {
            let path = dir.join(format!(
                "sipflow-{}-{stamp:x}-{attempt}.text",
                std::process::id()
            ));
            let Ok(writer) = File::options().write(true).create_new(true).open(&path) else {
                continue;
            };
            let Ok(reader) = File::open(&path) else {
                let _ = std::fs::remove_file(&path);
                return None;
            };
            // Where an open file can be removed (Unix), it is removed at once: it then
            // disappears with the process however the process ends.
            let path = if cfg!(unix) && std::fs::remove_file(&path).is_ok() {
                None
            } else {
                Some(path)
            };
            return Some((Source::backed(reader, path), writer));
        }
        None
    }

    fn backed(file: File, spool: Option<PathBuf>) -> Self {
        Source(Some(Arc::new(Store::File(Mutex::new(Backing {
            file,
            shifts: Vec::new(),
            spool,
            cached_at: 0,
            cached: Vec::new(),
        })))))
    }

    /// Tells a source read in place that the file holds `skipped` bytes more than the text
    /// from text offset `at` on (the rest of a line cut there).
    pub(super) fn shift(&self, at: u64, skipped: u64) {
        if let Some(Store::File(b)) = self.0.as_deref() {
            let mut b = lock(b);
            let total = b.shifts.last().map_or(0, |&(_, s)| s) + skipped;
            b.shifts.push((at, total));
        }
    }

    /// Appends to a text held in memory.
    pub(super) fn extend(&self, bytes: &[u8]) {
        if let Some(Store::Memory(m)) = self.0.as_deref() {
            lock(m).extend_from_slice(bytes);
        }
    }
}

impl Backing {
    /// Text offsets `start..end` (or as much of them as the text has).
    fn read(&mut self, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
        let cached_end = self.cached_at + self.cached.len() as u64;
        if start < self.cached_at || end > cached_end {
            // What was read stays valid: the text only ever grows at its end.
            self.cached = self.read_file(start, end.max(start.saturating_add(STRETCH)))?;
            self.cached_at = start;
        }
        let from = usize::try_from(start - self.cached_at).unwrap_or(usize::MAX);
        let to = usize::try_from(end - self.cached_at).unwrap_or(usize::MAX);
        let to = to.min(self.cached.len());
        Ok(self.cached.get(from..to).unwrap_or_default().to_vec())
    }

    /// Text offsets `start..end`, read from the file in the stretches between cuts.
    fn read_file(&mut self, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = start;
        while at < end {
            // The stretch `at` is in: the shift before it, and where the next one starts.
            let i = self.shifts.partition_point(|&(p, _)| p <= at);
            let shift = i.checked_sub(1).map_or(0, |i| self.shifts[i].1);
            let stop = self.shifts.get(i).map_or(end, |&(p, _)| p.min(end));
            self.file.seek(SeekFrom::Start(at + shift))?;
            let want = stop - at;
            let got = (&mut self.file).take(want).read_to_end(&mut out)? as u64;
            if got < want {
                break;
            }
            at = stop;
        }
        Ok(out)
    }
}

/// Where a [`Tee`] copies the text to.
pub(super) enum Sink {
    File(File),
    Memory(Source),
}

/// A reader that copies what it passes on into a spool file (or memory). A write that fails
/// stops the copying (the source then ends there: later excerpts are not shown), never the
/// reading.
pub(super) struct Tee<R> {
    pub inner: R,
    pub sink: Option<Sink>,
}

impl<R: Read> Tee<R> {
    /// Copies bytes read before this reader was made.
    pub fn copy(&mut self, bytes: &[u8]) {
        let failed = match &mut self.sink {
            Some(Sink::File(f)) => f.write_all(bytes).is_err(),
            Some(Sink::Memory(m)) => {
                m.extend(bytes);
                false
            }
            None => false,
        };
        if failed {
            self.sink = None;
        }
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_in_place_skips_the_parts_of_lines_that_were_cut() {
        let (spool, mut w) = Source::spool().expect("a spool file");
        // The file: "ab" + "XXX" (cut) + "\ncd" + "YY" (cut) + "\nef"; the text: "ab\ncd\nef".
        w.write_all(b"abXXX\ncdYY\nef").expect("write");
        spool.shift(2, 3);
        spool.shift(5, 2);
        let text = b"ab\ncd\nef";
        for a in 0..=text.len() {
            for b in a..=text.len() + 2 {
                let want = &text[a.min(text.len())..b.min(text.len())];
                assert_eq!(spool.read(a..b), want, "{a}..{b}");
            }
        }
        assert_eq!(spool.to_vec(), text);
    }

    #[test]
    fn a_spool_file_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!(
            "sipflow-spool-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("a directory");
        let listed = || std::fs::read_dir(&dir).map_or(0, |d| d.count());
        let (spool, mut w) = Source::spool_in(&dir).expect("a spool file");
        w.write_all(b"xyz").expect("write");
        if cfg!(unix) {
            assert_eq!(listed(), 0, "removed while open");
        }
        let copy = spool.clone();
        drop(spool);
        assert_eq!(copy.read(1..3), b"yz");
        drop((copy, w));
        assert_eq!(listed(), 0);
        let _ = std::fs::remove_dir(&dir);
    }
}
