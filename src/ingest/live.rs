//! Live inputs: stdin, FIFOs, sockets and terminals, which are followed as they are written
//! instead of read to an end that may never come.
//!
//! Owns: telling a live input from a file ([`is_live`]), and the reader of a live input
//! ([`Pump`]), which reads on its own thread so that a read can wait for new bytes with a time
//! limit: sniffing its format takes what arrived until the writer pauses ([`HEAD_QUIET`])
//! instead of waiting for 64 KiB, and every later read hands on what has arrived rather than
//! filling its buffer. Does not own: when output is written (`cli::stream`, with
//! `dialog::window`'s wall-clock flush) or the format readers.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::Duration;

/// How long sniffing waits for more bytes, once the first have come, before it takes what it
/// has as the input's head.
pub const HEAD_QUIET: Duration = Duration::from_millis(300);

/// Bytes per read of the pumping thread.
const PUMP_READ: usize = 64 << 10;
/// Reads in flight between the pumping thread and the reader (memory: at most this many
/// times [`PUMP_READ`]).
const PUMP_IN_FLIGHT: usize = 16;

/// Whether the input `name` (`-` for stdin) is followed as it is written: a pipe, a FIFO, a
/// socket, a terminal or a character device; not a regular file (nor stdin redirected from
/// one), which is read to its end.
pub fn is_live(name: &str) -> bool {
    let path = if name == "-" { "/dev/stdin" } else { name };
    match std::fs::metadata(path) {
        Ok(m) => !m.is_file() && !m.is_dir(),
        // Where stdin has no name to look at, it is taken as a stream.
        Err(_) => name == "-",
    }
}

/// How long a read in [`Mode::Poll`] waits before it reports that the writer paused.
pub const POLL_QUIET: Duration = Duration::from_millis(100);

/// How a [`Pump`]'s reads wait for bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Until bytes come (or the input ends).
    Wait = 0,
    /// Sniffing: once some bytes have come, a read that waits [`HEAD_QUIET`] for more returns
    /// 0 (the end of the head; not the end of the input).
    Head = 1,
    /// Reading: a read that waits [`POLL_QUIET`] fails with [`io::ErrorKind::WouldBlock`], so
    /// that the reader can hand on what it holds; nothing is lost.
    Poll = 2,
}

/// Switches a [`Pump`] between [`Mode`]s from the thread that reads it (through the readers
/// wrapped around it).
#[derive(Clone, Default)]
pub struct HeadMode(Arc<AtomicU8>);

impl HeadMode {
    pub fn set(&self, mode: Mode) {
        self.0.store(mode as u8, Ordering::Relaxed);
    }

    fn get(&self) -> Mode {
        match self.0.load(Ordering::Relaxed) {
            1 => Mode::Head,
            2 => Mode::Poll,
            _ => Mode::Wait,
        }
    }
}

/// A live input read on its own thread: each `read` hands on what has arrived (a short read),
/// waiting only when nothing has. In head mode, once some bytes have come, a read that waits
/// [`HEAD_QUIET`] for more returns 0 (the end of the head; not the end of the input, which a
/// read out of head mode reports).
pub struct Pump {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    head: HeadMode,
    got_any: bool,
    ended: bool,
}

impl Pump {
    /// Starts reading `inner` on a thread of its own.
    pub fn start(mut inner: Box<dyn Read + Send>, head: HeadMode) -> Self {
        let (tx, rx) = sync_channel(PUMP_IN_FLIGHT);
        std::thread::spawn(move || {
            let mut buf = vec![0; PUMP_READ];
            loop {
                match inner.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send(Ok(buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        Pump {
            rx,
            chunk: Vec::new(),
            pos: 0,
            head,
            got_any: false,
            ended: false,
        }
    }

    fn next_chunk(&mut self) -> io::Result<bool> {
        let quiet = match self.head.get() {
            Mode::Head if self.got_any => Some(HEAD_QUIET),
            Mode::Poll => Some(POLL_QUIET),
            _ => None,
        };
        let got = match quiet {
            Some(quiet) => match self.rx.recv_timeout(quiet) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) if self.head.get() == Mode::Poll => {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Err(RecvTimeoutError::Timeout) => return Ok(false),
                Err(RecvTimeoutError::Disconnected) => None,
            },
            None => self.rx.recv().ok(),
        };
        match got {
            Some(Ok(c)) => {
                self.got_any = true;
                self.chunk = c;
                self.pos = 0;
                Ok(true)
            }
            Some(Err(e)) => {
                self.ended = true;
                Err(e)
            }
            None => {
                self.ended = true;
                Ok(false)
            }
        }
    }
}

impl Read for Pump {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.pos >= self.chunk.len() {
            if self.ended || !self.next_chunk()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader fed by the test through a pipe-like channel.
    struct Fed(Receiver<Vec<u8>>);

    impl Read for Fed {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.recv() {
                Ok(v) => {
                    let n = v.len().min(buf.len());
                    buf[..n].copy_from_slice(&v[..n]);
                    Ok(n)
                }
                Err(_) => Ok(0),
            }
        }
    }

    #[test]
    fn head_mode_ends_at_a_pause_and_following_waits_for_the_rest() {
        let (tx, rx) = std::sync::mpsc::channel();
        let head = HeadMode::default();
        head.set(Mode::Head);
        let mut pump = Pump::start(Box::new(Fed(rx)), head.clone());
        tx.send(b"first ".to_vec()).expect("send");
        let mut got = Vec::new();
        let started = std::time::Instant::now();
        pump.read_to_end(&mut got).expect("read");
        assert_eq!(got, b"first ");
        assert!(started.elapsed() >= HEAD_QUIET, "waited for a pause");
        head.set(Mode::Wait);
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(400));
            tx.send(b"second".to_vec()).expect("send");
        });
        let mut rest = Vec::new();
        pump.read_to_end(&mut rest).expect("read");
        writer.join().expect("writer");
        assert_eq!(
            rest, b"second",
            "not cut by the pause: the end is the writer's"
        );
    }

    #[test]
    fn a_regular_file_is_not_live_and_a_device_is() {
        let file = format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
        assert!(!is_live(&file));
        assert!(!is_live(env!("CARGO_MANIFEST_DIR")));
        if cfg!(unix) {
            assert!(is_live("/dev/null"));
        }
    }
}
