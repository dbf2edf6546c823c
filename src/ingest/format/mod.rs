//! The input formats sipflow reads: one module per format, one ordered list ([`FORMATS`]).
//!
//! Owns: the [`Spec`] of a format (its CLI name, one-line summary, how a mismatch and an
//! unrecognised input name it, its sniff test with its [`Specificity`], its streaming parser,
//! its documentation page and its fixtures), the registry, choosing a format from the content
//! ([`sniff`]) and the generated pages under `docs/formats/` ([`docs`]). Everything that lists
//! the formats (sniffing, `--input-format`, the `Unrecognized` and `FormatMismatch` errors,
//! `sipflow formats`) is generated from [`FORMATS`]: adding a format is one module here and one
//! line in the list. Does not own: reading bytes, gzip and line caps (`super`), and the parsing
//! itself where it is shared or large (`super::pjsip`, `super::raw`, `super::capture`).

mod asterisk;
mod baresip;
mod dissect;
pub mod docs;
mod hep;
mod kamailio;
mod linphone;
pub mod ngrep;
mod opal;
pub mod packets;
mod pcap;
mod pcapng;
mod pjsip;
mod sip;
mod sipp;
mod sngrep;
mod sofia;
mod stacklog;
mod tcpdump;
mod tshark_hex;
mod tshark_json;
mod tshark_text;

use std::fmt;
use std::ops::Deref;

use serde::Serialize;

use crate::event::Event;

/// How sure a sniff is: the highest wins, and among equals the first in [`FORMATS`]. A format
/// that wraps another (an ngrep trace is raw SIP with ngrep's lines around it) must be more
/// specific than the one it wraps.
pub type Specificity = u8;

/// The levels the formats use (a new format picks one, or one between two).
pub mod level {
    use super::Specificity;
    /// A binary magic number at offset 0 (captures).
    pub const MAGIC: Specificity = 100;
    /// A capture tool's own lines around the SIP it printed (ngrep, tcpdump, tshark).
    pub const TOOL_TEXT: Specificity = 60;
    /// A SIP stack's log with its own dump markers (pjsip).
    pub const STACK_LOG: Specificity = 40;
    /// A test tool's message records (SIPp).
    pub const RECORDS: Specificity = 30;
    /// Bare SIP: anything that starts with a start line.
    pub const BARE: Specificity = 10;
}

/// One input format. Each lives in its own module as a `pub const FORMAT: Format`.
pub struct Spec {
    /// The name `--input-format` takes and JSON outputs show (`pjsip`).
    pub name: &'static str,
    /// One line for `sipflow formats`, `--input-format`'s help and the docs index.
    pub summary: &'static str,
    /// What the input looks like, with its article, for "the input looks like …"
    /// (`a pjsip log`).
    pub looks: &'static str,
    /// What sipflow recognises, for the help of an input no format recognises
    /// (``pjsip log lines (`HH:MM:SS.mmm sender message`)``).
    pub recognises: &'static str,
    /// Whether the first bytes ([`super::HEAD_BYTES`]) are this format, and how surely.
    pub sniff: fn(&[u8]) -> Option<Specificity>,
    pub parser: Parser,
    /// Whether the input shows packets as they crossed the wire (a capture, or the text a
    /// capture tool printed from one), not what a process logged: a UDP datagram in it is the
    /// whole message as it was sent, so a body shorter than its Content-Length is the
    /// sender's fault, not the input's.
    pub packets: bool,
    /// Markdown with the sections listed in [`DOC_SECTIONS`] (the module's `<name>.md`).
    pub docs: &'static str,
    /// Recordings of this format under `fixtures/` (paths relative to it): each must sniff as
    /// this format and as no other (the tests check it).
    pub fixtures: &'static [&'static str],
}

/// How a format is read.
#[derive(Clone, Copy)]
pub enum Parser {
    /// A capture file, streamed by `super::capture` (pcap and pcapng are told apart by their
    /// magic whichever was named).
    Capture,
    /// HEPv3 packets back to back, read by `super::hep`.
    Hep,
    /// Text, read by the parser this makes: fed whole lines (every line already cut at
    /// `super::linecap::MAX_LINE` bytes), handing its events on as it goes.
    Text(NewTextParser),
}

/// Makes a text format's parser. The parser keeps `emit` (and nothing of `start`).
pub type NewTextParser =
    for<'a> fn(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a>;

/// What a text parser is made with.
#[derive(Debug, Clone, Copy)]
pub struct TextStart<'h> {
    /// The start of the input (its first few MiB, or all of it when it is shorter, or when a
    /// test feeds it whole), for a format that learns its layout from the first lines. The
    /// parser is fed it again.
    pub head: &'h [u8],
    /// The input's place in the run ([`crate::event::Origin::input`]).
    pub input: usize,
    /// Day (days since 1970-01-01) for inputs whose times carry no date (`--date`).
    pub date: Option<i64>,
    /// How packets are read (`--sip-port`, the reassembly limits), for formats that show them.
    pub capture: &'h crate::ingest::capture::CaptureOptions,
}

/// A streaming text parser. Reading the input whole or in pieces gives the same events; memory
/// must not grow with the input (hold at most one bounded message or record).
pub trait TextParser {
    /// The next piece of the input: whole lines (each ends in `\n`), following the last piece.
    /// Events go to the `emit` the parser was made with, in input order.
    fn feed(&mut self, piece: &[u8]);
    /// The input paused: it is live, and its writer has written nothing for a while. What the
    /// parser holds only for what later lines may tell is handed on now (a live log's reader
    /// waits for its calls' output): a message whose Content-Length body is complete, a
    /// packet whose block ended. A message still short of its Content-Length is kept (the
    /// writer may be in the middle of it). Reading on must give exactly the events of the
    /// input read whole (`tests.rs` pauses after every line of every fixture). The default
    /// holds nothing back: for parsers that hand each record on at its own last line.
    fn pause(&mut self) {}
    /// The rest of the input (whole lines, the last one perhaps without its `\n`); what was
    /// held is handed on.
    fn finish(self: Box<Self>, rest: &[u8]) -> TextCounts;
}

/// The lines of `piece` (each with its `\n`, the last perhaps without), each with where it
/// starts in the input; `offset` is where `piece` starts, and is moved past it.
pub fn lines_at<'p>(
    piece: &'p [u8],
    offset: &mut usize,
) -> impl Iterator<Item = (&'p [u8], usize)> + use<'p> {
    let start = *offset;
    *offset += piece.len();
    piece
        .split_inclusive(|&b| b == b'\n')
        .scan(start, |at, line| {
            let here = *at;
            *at += line.len();
            Some((line, here))
        })
}

/// What a text input held, besides its log events (which the caller counts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextCounts {
    /// Messages found (complete or cut).
    pub messages: usize,
    /// Messages the input holds only in part.
    pub truncated: usize,
    /// What reading the packets of a packet dump met, as a capture's reader reports it (IP
    /// fragments or TCP segments missing, limits reached); `frame` is the packet's number in
    /// the text.
    pub warnings: Vec<crate::ingest::capture::Warning>,
}

/// An input format: a handle on its [`Spec`] in the registry. Compares, prints and serialises
/// as its name.
#[derive(Clone, Copy)]
pub struct Format(&'static Spec);

impl Format {
    pub const PCAP: Format = pcap::FORMAT;
    pub const HEP: Format = hep::FORMAT;
    pub const PCAPNG: Format = pcapng::FORMAT;
    pub const PJSIP: Format = pjsip::FORMAT;
    pub const SIPP: Format = sipp::FORMAT;
    pub const SIP: Format = sip::FORMAT;

    /// The format named `name` (as `--input-format` takes it), case-insensitive.
    pub fn named(name: &str) -> Option<Format> {
        FORMATS
            .iter()
            .copied()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    pub fn is_capture(self) -> bool {
        matches!(self.parser, Parser::Capture | Parser::Hep)
    }

    /// `capture` or `text`.
    pub fn kind(self) -> &'static str {
        if self.is_capture() { "capture" } else { "text" }
    }
}

impl Deref for Format {
    type Target = Spec;
    fn deref(&self) -> &Spec {
        self.0
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Format {}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name)
    }
}

/// The sections every format's docs must have, in order (`## Fixtures` is generated from
/// [`Spec::fixtures`]).
pub const DOC_SECTIONS: [&str; 5] = [
    "## What it is",
    "## How to make one",
    "## How sipflow recognises it",
    "## What sipflow takes from it",
    "## Limits",
];

/// Every format, in the order `sipflow formats` lists them; among equally specific sniffs the
/// first wins.
pub static FORMATS: &[Format] = &[
    pcap::FORMAT,
    pcapng::FORMAT,
    hep::FORMAT,
    pjsip::FORMAT,
    sipp::FORMAT,
    sip::FORMAT,
    ngrep::FORMAT,
    tcpdump::FORMAT,
    tshark_hex::FORMAT,
    tshark_text::FORMAT,
    tshark_json::FORMAT,
    sngrep::FORMAT,
    baresip::FORMAT,
    sofia::FORMAT,
    kamailio::FORMAT,
    asterisk::FORMAT,
    linphone::FORMAT,
    opal::FORMAT,
];

/// Layouts sipflow recognises but cannot read without loss, each with what to do instead:
/// checked when no format recognises an input.
pub static UNREADABLE: &[Unreadable] = &[ngrep::unreadable, tcpdump::unreadable];

/// Says why the first bytes of an input cannot be read, if they are a layout it knows.
pub type Unreadable = fn(&[u8]) -> Option<&'static str>;

/// Why an input no format reads is not read, when it is a layout sipflow knows.
pub fn unreadable(head: &[u8]) -> Option<&'static str> {
    UNREADABLE.iter().find_map(|f| f(head))
}

/// The most specific format the first bytes of an input are, if any.
pub fn sniff(head: &[u8]) -> Option<Format> {
    let mut best: Option<(Specificity, Format)> = None;
    for &f in FORMATS {
        if let Some(s) = (f.sniff)(head)
            && best.is_none_or(|(b, _)| s > b)
        {
            best = Some((s, f));
        }
    }
    best.map(|(_, f)| f)
}

/// Every format that recognises the first bytes, most specific first (for tests and
/// diagnostics).
pub fn sniff_all(head: &[u8]) -> Vec<(Format, Specificity)> {
    let mut all: Vec<(Format, Specificity)> = FORMATS
        .iter()
        .filter_map(|&f| (f.sniff)(head).map(|s| (f, s)))
        .collect();
    all.sort_by_key(|&(_, s)| std::cmp::Reverse(s));
    all
}

/// "a capture, pjsip log, … or raw SIP dump": every format's look, captures as one.
pub fn looks_list() -> String {
    let mut items = vec!["capture"];
    for f in FORMATS.iter().filter(|f| !f.is_capture()) {
        let bare = f.looks.split_once(' ').map_or(f.looks, |(_, rest)| rest);
        items.push(bare);
    }
    format!("a {}", join_or(&items))
}

/// What sipflow reads, for the help of an unrecognised input.
pub fn recognised_list() -> String {
    let items: Vec<&str> = FORMATS.iter().map(|f| f.recognises).collect();
    join_or(&items)
}

/// `a, b or c`.
fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests;
