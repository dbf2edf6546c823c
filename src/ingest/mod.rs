//! Ingest: turns the user's inputs (paths or `-` for stdin) into one time-ordered event stream.
//!
//! Owns: reading files and stdin, transparent gzip, sniffing the format from content (never from
//! the file name) and dispatch through the format registry ([`format`]: one module per format),
//! feeding text to a format's parser piece by piece (its text kept for excerpts by
//! [`Source`]), per-input errors as miette diagnostics, and the merge of several inputs by log
//! time. Does not own: SIP grammar ([`crate::sip`]), correlation ([`crate::dialog`]) or any
//! output.

// `InputError` carries a window of the input for miette. It is built at most once per input, on
// the error path, so its size does not matter and boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod align;
pub mod capture;
pub mod format;
pub mod hep;
mod linecap;
pub mod live;
pub mod pjsip;
pub mod raw;
mod source;
mod stream;

pub use format::Format;
pub use source::Source;
pub use stream::{EventStream, Next, listen, stream};

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Cursor, Read};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Serialize;

use crate::event::Event;

/// How to read inputs (validated from the command line).
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Force a format instead of sniffing.
    pub format: Option<Format>,
    /// Day (days since 1970-01-01) for logs without a date.
    pub date: Option<i64>,
    pub capture: capture::CaptureOptions,
    /// Told of the input bytes as they are read (a progress bar), if anyone asks.
    pub progress: Option<Progress>,
    /// Keep no text of text inputs, for output that shows no excerpts of them. (Either way a
    /// text input is read piece by piece, and its text is never held in memory: see
    /// [`Source`].)
    pub drop_text: bool,
    /// Count the RTP and RTCP streams of captures ([`InputInfo::media`]).
    pub media: bool,
}

/// Receives the number of input bytes just read (before gzip is undone), from the threads
/// that read the inputs. Ingest knows nothing of how progress is shown.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(u64) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// A reader that reports what it reads to a [`Progress`].
struct Reporting<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for Reporting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress.0)(n as u64);
        Ok(n)
    }
}

/// One input as the run saw it.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    /// The path as given, or `-` for stdin.
    pub name: String,
    pub format: Format,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Frames in a capture; absent for text inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// Message dumps (or messages) found.
    pub messages: usize,
    /// Dumps cut by the log record cap or without an end marker.
    pub truncated: usize,
    /// Evidence log lines found.
    pub log_events: usize,
    /// Messages for which the input gives no time ([`crate::event::Timestamp::UNKNOWN`]) and
    /// no capture read with it gave one; absent when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub untimed_messages: usize,
    /// How far this input's clock was moved to agree with a capture of the same messages
    /// (see `docs/architecture.md`): the skew of its clock (a time zone, a clock set wrong),
    /// without the date an undated log was given ([`InputInfo::clock_date`]); absent when it
    /// was not moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_ms: Option<i64>,
    /// The date (`YYYY-MM-DD`) an undated log was put on, from the capture it shares messages
    /// with; absent for dated inputs and inputs not moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_date: Option<String>,
    /// A capture's RTP and RTCP streams, each with the calls whose SDP named it, when
    /// [`IngestOptions::media`] asked for them (shared: windows copy the inputs). The JSON
    /// outputs' `inputs[]` give their counts as `rtp` ([`RtpCount`]) when the capture has any.
    #[serde(
        rename = "rtp",
        serialize_with = "serialize_rtp_count",
        skip_serializing_if = "no_rtp"
    )]
    pub media: Option<std::sync::Arc<crate::media::MediaSummary>>,
}

impl InputInfo {
    /// Its RTP counted, when it is a capture with RTP or RTCP and media was counted.
    pub fn rtp(&self) -> Option<RtpCount> {
        self.media.as_deref().and_then(RtpCount::of)
    }
}

/// An input's RTP in the run's summary (`inputs[].rtp` in the JSON outputs).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct RtpCount {
    pub streams: usize,
    pub packets: u64,
    pub rtcp_packets: u64,
}

impl RtpCount {
    /// `None` when the capture has no RTP and no RTCP.
    pub fn of(m: &crate::media::MediaSummary) -> Option<RtpCount> {
        let count = RtpCount {
            streams: m.streams.len(),
            packets: m.streams.iter().map(|s| s.packets).sum(),
            rtcp_packets: m.rtcp_packets,
        };
        (count.streams > 0 || count.rtcp_packets > 0).then_some(count)
    }
}

type SharedMedia = Option<std::sync::Arc<crate::media::MediaSummary>>;

fn serialize_rtp_count<S: serde::Serializer>(media: &SharedMedia, s: S) -> Result<S::Ok, S::Error> {
    media.as_deref().and_then(RtpCount::of).serialize(s)
}

fn no_rtp(media: &SharedMedia) -> bool {
    media.as_deref().and_then(RtpCount::of).is_none()
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Damage in an input that was read anyway: what was kept is still analysed.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{name}: {message}")]
#[diagnostic(code(sipflow::input::damaged), severity(Warning))]
pub struct InputWarning {
    pub name: String,
    pub message: String,
}

/// An input that could not be read. Rendered by `main` through miette.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum InputError {
    #[error("cannot read {name}")]
    #[diagnostic(code(sipflow::input::io), help("check the path and its permissions"))]
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: the gzip stream is corrupt")]
    #[diagnostic(code(sipflow::input::gzip))]
    Gzip {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: {reason}")]
    #[diagnostic(
        code(sipflow::input::capture),
        help("the file starts like a capture but its header cannot be read; is it complete?")
    )]
    Capture { name: String, reason: String },
    #[error("{name}: not {}", format::looks_list())]
    #[diagnostic(
        code(sipflow::input::unrecognized),
        help(
            "sipflow reads {}; use --input-format to force one (`sipflow formats` lists them)",
            format::recognised_list()
        )
    )]
    Unrecognized {
        name: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("this does not look like SIP or a pjsip log")]
        span: SourceSpan,
    },
    #[error("{name}: {reason}")]
    #[diagnostic(code(sipflow::input::unreadable))]
    Unreadable { name: String, reason: &'static str },
    #[error("{name}: --input-format {forced} does not fit: the input looks like {looks}")]
    #[diagnostic(
        code(sipflow::input::format),
        help("leave out --input-format to let sipflow tell the format from the content")
    )]
    FormatMismatch {
        name: String,
        forced: Format,
        looks: String,
    },
    #[error("{name}: the input is empty")]
    #[diagnostic(code(sipflow::input::empty))]
    Empty { name: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Listen(hep::BindError),
}

/// The result of ingesting all inputs: what could be read, and what could not.
#[derive(Debug, Default)]
pub struct Ingested {
    /// One entry per input that was read, in command-line order. [`crate::event::Origin::input`]
    /// indexes this list.
    pub inputs: Vec<InputInfo>,
    /// The raw bytes of each input (decompressed), for rendering spans.
    pub sources: Vec<Source>,
    /// All events, merged by log time; ties keep input order.
    pub events: Vec<Event>,
    pub errors: Vec<InputError>,
    /// Damage found in inputs that were still read.
    pub warnings: Vec<InputWarning>,
}

/// Reads every input, continuing past unreadable ones, and holds all their events (see
/// [`stream`] for the same one event at a time).
pub fn ingest(names: &[String], opts: &IngestOptions) -> Ingested {
    let mut events = stream(names, opts);
    let all: Vec<Event> = events.by_ref().collect();
    let mut out = events.finish();
    out.events = all;
    out
}

/// One input, read.
#[derive(Debug)]
pub struct ReadInput {
    pub info: InputInfo,
    /// The text of a text input (for spans); empty for captures.
    pub source: Source,
    pub events: Vec<Event>,
    pub warnings: Vec<InputWarning>,
}

/// An input opened for reading.
pub struct Opened {
    pub reader: Box<dyn Read>,
    /// Whether `reader` reads a regular file (not stdin, a FIFO or a device) from its start,
    /// which can be opened again by its name to read excerpts.
    pub regular_file: bool,
    /// For a live input (see [`live`]): switches its reader between sniffing and following.
    pub live: Option<live::HeadMode>,
}

fn open(name: &str) -> Result<Opened, InputError> {
    let follow = |reader: Box<dyn Read + Send>| {
        let head = live::HeadMode::default();
        Opened {
            reader: Box::new(live::Pump::start(reader, head.clone())),
            regular_file: false,
            live: Some(head),
        }
    };
    if name == "-" {
        if live::is_live(name) {
            return Ok(follow(Box::new(std::io::stdin())));
        }
        return Ok(Opened {
            reader: Box::new(std::io::stdin()),
            regular_file: false,
            live: None,
        });
    }
    let io = |source| InputError::Io {
        name: name.to_string(),
        source,
    };
    let file = std::fs::File::open(name).map_err(io)?;
    let regular_file = file.metadata().is_ok_and(|m| m.is_file());
    if !regular_file && live::is_live(name) {
        return Ok(follow(Box::new(file)));
    }
    Ok(Opened {
        reader: Box::new(file),
        regular_file,
        live: None,
    })
}

/// How much of an input sniffing looks at.
pub(crate) const HEAD_BYTES: usize = 64 * 1024;

/// What reading one input hands on as it goes.
// Events are the common case and are moved once; boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub enum Piece {
    /// The input's format is known (its counts are not yet); for a text input, where its text
    /// is kept (see [`Source`]).
    Started {
        info: InputInfo,
        source: Source,
    },
    Event(Event),
}

/// Reads one input from `r` and collects its events.
pub fn ingest_reader(
    name: &str,
    r: Box<dyn Read>,
    index: usize,
    opts: &IngestOptions,
) -> Result<ReadInput, InputError> {
    let mut source = Source::default();
    let mut events = Vec::new();
    let opened = Opened {
        reader: r,
        regular_file: false,
        live: None,
    };
    let (info, warnings) = read_input(name, opened, index, opts, &mut |piece| match piece {
        Piece::Started { source: s, .. } => source = s,
        Piece::Event(e) => events.push(e),
    })?;
    Ok(ReadInput {
        info,
        source,
        events,
        warnings,
    })
}

/// Reads one input, handing on what it finds as it goes: gzip is undone on the fly, the format
/// is sniffed from the first bytes, and the input is read piece by piece. Unless no output
/// shows excerpts of it (`drop_text`), the text of a text input is kept where it can be read
/// back ([`Source`]). Every line of a text input is cut at [`linecap::MAX_LINE`] bytes, with a
/// warning. `index` is the input's place in the run ([`crate::event::Origin::input`]). Returns
/// the input's counts and damage.
pub fn read_input(
    name: &str,
    opened: Opened,
    index: usize,
    opts: &IngestOptions,
    emit: &mut dyn FnMut(Piece),
) -> Result<(InputInfo, Vec<InputWarning>), InputError> {
    let r = opened.reader;
    let r: Box<dyn Read> = match &opts.progress {
        Some(progress) => Box::new(Reporting {
            inner: r,
            progress: progress.clone(),
        }),
        None => r,
    };
    let mut r = BufReader::new(r);
    let gzip = r
        .fill_buf()
        .map_err(|e| read_error(name, false, e))?
        .starts_with(&[0x1f, 0x8b]);
    let mut r: Box<dyn Read> = if gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(r))
    } else {
        Box::new(r)
    };
    let mut head = Vec::with_capacity(HEAD_BYTES);
    // A live input's head is what came until its writer paused (gzip is read to 64 KiB: a
    // pause inside a gzip member is not its end).
    let live = opened.live;
    if let Some(mode) = live.as_ref().filter(|_| !gzip) {
        mode.set(live::Mode::Head);
    }
    (&mut r)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| read_error(name, gzip, e))?;
    if let Some(mode) = &live {
        mode.set(live::Mode::Wait);
    }
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::Empty {
            name: name.to_string(),
        });
    }
    let format = match opts.format {
        Some(f) => forced(name, f, &head)?,
        None => sniff(name, &head)?,
    };
    if matches!(format.parser, format::Parser::Hep) {
        let mut stream = Cursor::new(head).chain(r);
        return hep::read_file(name, &mut stream, index, opts, emit);
    }
    let format::Parser::Text(parser) = format.parser else {
        let format = match capture::reader::detect(&head) {
            Some(capture::reader::CaptureFormat::Pcapng) => Format::PCAPNG,
            _ => Format::PCAP,
        };
        let mut stream = Cursor::new(head).chain(r);
        let mut opts = opts.clone();
        opts.capture.live = live.is_some();
        return read_capture(name, &mut stream, gzip, format, index, &opts, emit);
    };
    let (source, sink, in_place) = if opts.drop_text {
        (Source::default(), None, false)
    } else {
        keep_text(name, opened.regular_file && !gzip)
    };
    let text = TextInput {
        name,
        format,
        parser,
        gzip,
        index,
        date: opts.date,
        capture: &opts.capture,
        live: live.clone().filter(|_| !gzip),
    };
    let mut r = linecap::LineCap::new(r, &head, linecap::MAX_LINE);
    if in_place {
        r = r.recording_into(source.clone());
    }
    let mut r = source::Tee { inner: r, sink };
    r.copy(&head);
    let (info, warnings) = text
        .read_pieces(head, &mut r, source, emit)
        .map_err(|e| read_error(name, gzip, e))?;
    let mut warnings = summarize_warnings(name, &warnings);
    warnings.extend(r.inner.warning(name));
    Ok((info, warnings))
}

/// Where the text of an input is kept for excerpts: the file itself when the input is a
/// regular uncompressed file (`in_place`; then the third value is true: the lines cut must be
/// recorded), else a spool file written as the input is read, else memory.
fn keep_text(name: &str, in_place: bool) -> (Source, Option<source::Sink>, bool) {
    if in_place && let Some(source) = Source::in_place(name) {
        return (source, None, true);
    }
    if let Some((source, file)) = Source::spool() {
        return (source, Some(source::Sink::File(file)), false);
    }
    let source = Source::new(Vec::new());
    (source.clone(), Some(source::Sink::Memory(source)), false)
}

/// Parses one input that is already in memory (used by tests).
pub fn ingest_bytes(
    name: &str,
    bytes: Vec<u8>,
    opts: &IngestOptions,
) -> Result<(InputInfo, Vec<u8>, Vec<Event>), InputError> {
    let read = ingest_reader(name, Box::new(Cursor::new(bytes)), 0, opts)?;
    Ok((read.info, read.source.to_vec(), read.events))
}

fn read_error(name: &str, gzip: bool, source: std::io::Error) -> InputError {
    let name = name.to_string();
    if gzip {
        InputError::Gzip { name, source }
    } else {
        InputError::Io { name, source }
    }
}

/// An input's description before its counts are known.
fn started(name: &str, format: Format, gzip: bool) -> InputInfo {
    InputInfo {
        name: name.to_string(),
        format,
        gzip,
        bytes: 0,
        frames: None,
        messages: 0,
        truncated: 0,
        log_events: 0,
        untimed_messages: 0,
        clock_offset_ms: None,
        clock_date: None,
        media: None,
    }
}

/// A text input, once its format is known.
struct TextInput<'n> {
    name: &'n str,
    format: Format,
    parser: format::NewTextParser,
    gzip: bool,
    index: usize,
    date: Option<i64>,
    capture: &'n capture::CaptureOptions,
    /// Followed as it is written: each piece is what has arrived, not [`TEXT_PIECE`], and
    /// the parser is told when the writer pauses.
    live: Option<live::HeadMode>,
}

/// How much of a text input a parser may learn its layout from, and how much is read at a time
/// when it is read piece by piece.
const TEXT_PIECE: u64 = 4 << 20;

impl TextInput<'_> {
    /// Parses a text input piece by piece, keeping only the unfinished last line of each
    /// piece (and what the parser holds): memory does not grow with the input. `source` is
    /// where its text is kept for excerpts, if anywhere.
    fn read_pieces(
        &self,
        mut buf: Vec<u8>,
        r: &mut dyn Read,
        source: Source,
        emit: &mut dyn FnMut(Piece),
    ) -> std::io::Result<(InputInfo, Vec<capture::Warning>)> {
        if self.live.is_none() {
            let more = TEXT_PIECE.saturating_sub(buf.len() as u64);
            r.take(more).read_to_end(&mut buf)?;
        }
        let mut info = started(self.name, self.format, self.gzip);
        emit(Piece::Started {
            info: info.clone(),
            source,
        });
        let (mut log_events, mut untimed, mut bytes) = (0, 0, 0u64);
        let mut counted = |e: Event| {
            log_events += usize::from(matches!(e, Event::Log(_)));
            untimed += usize::from(matches!(&e, Event::Message(m) if !m.ts.is_known()));
            emit(Piece::Event(e));
        };
        let mut parser = (self.parser)(&self.start(&buf), &mut counted);
        loop {
            let whole = memchr::memrchr(b'\n', &buf).map_or(0, |p| p + 1);
            parser.feed(&buf[..whole]);
            bytes += whole as u64;
            buf.drain(..whole);
            let got = if let Some(mode) = &self.live {
                read_some(r, &mut buf, mode, &mut *parser)?
            } else {
                r.take(TEXT_PIECE).read_to_end(&mut buf)?
            };
            if got == 0 {
                break;
            }
        }
        bytes += buf.len() as u64;
        let counts = parser.finish(&buf);
        info.bytes = bytes;
        info.messages = counts.messages;
        info.truncated = counts.truncated;
        info.log_events = log_events;
        info.untimed_messages = untimed;
        Ok((info, counts.warnings))
    }

    fn start<'h>(&'h self, head: &'h [u8]) -> format::TextStart<'h> {
        format::TextStart {
            head,
            input: self.index,
            date: self.date,
            capture: self.capture,
        }
    }
}

/// One read of what has arrived, appended to `buf`; if the writer pauses first, the parser is
/// told before the read waits on.
fn read_some(
    r: &mut dyn Read,
    buf: &mut Vec<u8>,
    mode: &live::HeadMode,
    parser: &mut dyn format::TextParser,
) -> std::io::Result<usize> {
    let mut piece = vec![0u8; 64 << 10];
    mode.set(live::Mode::Poll);
    loop {
        match r.read(&mut piece) {
            Ok(n) => {
                buf.extend_from_slice(&piece[..n]);
                return Ok(n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                parser.pause();
                mode.set(live::Mode::Wait);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn read_capture(
    name: &str,
    stream: &mut dyn Read,
    gzip: bool,
    format: Format,
    index: usize,
    opts: &IngestOptions,
    emit: &mut dyn FnMut(Piece),
) -> Result<(InputInfo, Vec<InputWarning>), InputError> {
    let mut info = started(name, format, gzip);
    // Told when the first message is found (or at the end): a capture whose header cannot be
    // read is an error, not an input.
    let mut start = Some(info.clone());
    let mut start_once = |emit: &mut dyn FnMut(Piece)| {
        if let Some(info) = start.take() {
            emit(Piece::Started {
                info,
                source: Source::default(),
            });
        }
    };
    let mut counted = CountingReader {
        inner: stream,
        bytes: 0,
    };
    let mut media = opts.media.then(crate::media::Media::new);
    let log = capture::parse_with_media(
        &mut counted,
        index,
        &opts.capture,
        &mut |e| {
            start_once(emit);
            emit(Piece::Event(e));
        },
        media.as_mut(),
    )
    .map_err(|e| match e {
        capture::ReadError::Io(source) => read_error(name, gzip, source),
        other => InputError::Capture {
            name: name.to_string(),
            reason: other.to_string(),
        },
    })?;
    start_once(emit);
    info.bytes = counted.bytes;
    info.frames = Some(log.frames);
    info.messages = log.messages;
    info.truncated = log.truncated;
    info.log_events = log.facts;
    info.media = media.map(|m| std::sync::Arc::new(m.finish()));
    Ok((info, summarize_warnings(name, &log.warnings)))
}

/// Counts the bytes a reader delivered.
struct CountingReader<'a> {
    inner: &'a mut dyn Read,
    bytes: u64,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// One diagnostic per kind of damage: the first occurrence, and how many more.
fn summarize_warnings(name: &str, warnings: &[capture::Warning]) -> Vec<InputWarning> {
    let mut by_kind: BTreeMap<capture::WarningKind, (usize, &capture::Warning)> = BTreeMap::new();
    for w in warnings {
        by_kind.entry(w.kind).or_insert((0, w)).0 += 1;
    }
    by_kind
        .into_values()
        .map(|(count, first)| {
            let at = first
                .frame
                .map(|f| format!(" (frame {f})"))
                .unwrap_or_default();
            let more = match count {
                1 => String::new(),
                n => format!("; {} more like it", n - 1),
            };
            InputWarning {
                name: name.to_string(),
                message: format!("{}{at}{more}", first.message),
            }
        })
        .collect()
}

/// The format the user forced, unless the content shows it cannot be: a capture read as text
/// (or text as a capture) would give nothing but noise or "no calls".
fn forced(name: &str, format: Format, head: &[u8]) -> Result<Format, InputError> {
    let guess = format::sniff(head);
    let fits = match guess {
        Some(g) => g.is_capture() == format.is_capture(),
        // Text no format recognises may still be what the user says it is; bytes that are
        // not a capture are not one.
        None => !format.is_capture(),
    };
    if fits {
        return Ok(format);
    }
    Err(InputError::FormatMismatch {
        name: name.to_string(),
        forced: format,
        looks: guess
            .map_or("none of the formats sipflow reads", |g| g.looks)
            .into(),
    })
}

/// Picks the most specific format the content fits (see [`format::sniff`]).
fn sniff(name: &str, head: &[u8]) -> Result<Format, InputError> {
    format::sniff(head).ok_or_else(|| {
        if let Some(reason) = format::unreadable(head) {
            return InputError::Unreadable {
                name: name.to_string(),
                reason,
            };
        }
        let text = source_window(head);
        let first = first_line_span(&text);
        InputError::Unrecognized {
            name: name.to_string(),
            src: NamedSource::new(name, text),
            span: first.into(),
        }
    })
}

/// The first non-blank line of `text`, as (offset, length) in bytes, capped for display.
fn first_line_span(text: &str) -> (usize, usize) {
    let start = text.len() - text.trim_start().len();
    let line = text[start..].split('\n').next().unwrap_or("");
    let len = line
        .char_indices()
        .nth(200)
        .map_or(line.len(), |(at, _)| at);
    (start, len)
}

/// A small window of the input for miette (never the whole file), with its control
/// characters replaced.
fn source_window(head: &[u8]) -> String {
    let window = &head[..head.len().min(4096)];
    crate::report::printable_lines(&String::from_utf8_lossy(window).replace("\r\n", "\n"))
}
