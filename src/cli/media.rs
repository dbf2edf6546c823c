//! `sipflow media`: the RTP streams and RTCP reports of captures, one line per stream (like
//! `tshark -q -z rtp,streams`) or one JSON document.
//!
//! Owns: reading the inputs for media and writing the table or JSON. Does not own the counting
//! ([`crate::media`]) or the capture reader.

use std::io::{self, BufRead, BufReader, Read, Write};

use serde::Serialize;

use super::{Diag, MediaFormat, Outcome, outcome};
use crate::ingest::InputError;
use crate::ingest::capture::{self, CaptureOptions};
use crate::media::{Media, MediaSummary, StreamSummary};

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    inputs: &'a [InputMedia],
}

#[derive(Serialize)]
struct InputMedia {
    input: String,
    #[serde(flatten)]
    media: MediaSummary,
}

/// Reads every input (continuing past unreadable ones) and writes its streams.
pub fn run(inputs: &[String], format: MediaFormat, out: &mut dyn Write) -> Outcome {
    let mut diagnostics: Vec<Diag> = Vec::new();
    let mut read = Vec::new();
    for name in inputs {
        match read_media(name) {
            Ok(media) => read.push(InputMedia {
                input: name.clone(),
                media,
            }),
            Err(e) => diagnostics.push(Box::new(e)),
        }
    }
    let failed = !diagnostics.is_empty();
    let written = match format {
        MediaFormat::Table => read.iter().try_for_each(|m| {
            if inputs.len() > 1 {
                writeln!(out, "== {}", m.input)?;
            }
            write_table(&m.media, out)
        }),
        MediaFormat::Json => {
            let doc = Document {
                version: 1,
                inputs: &read,
            };
            serde_json::to_writer_pretty(&mut *out, &doc)
                .map_err(io::Error::other)
                .and_then(|()| writeln!(out))
        }
    };
    outcome(written.map(|()| 0), failed, diagnostics)
}

/// The media of one capture (`-`: stdin; gzip is undone).
pub fn read_media(name: &str) -> Result<MediaSummary, InputError> {
    let io_err = |source| InputError::Io {
        name: name.to_string(),
        source,
    };
    let raw: Box<dyn Read> = if name == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(std::fs::File::open(name).map_err(io_err)?)
    };
    let mut r = BufReader::new(raw);
    let gzip = r.fill_buf().map_err(io_err)?.starts_with(&[0x1f, 0x8b]);
    let mut r: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else {
        Box::new(r)
    };
    let mut media = Media::new();
    capture::parse_with_media(
        &mut r,
        0,
        &CaptureOptions::default(),
        &mut |_| {},
        Some(&mut media),
    )
    .map_err(|e| match e {
        capture::ReadError::NotACapture => InputError::Capture {
            name: name.to_string(),
            reason: "not a pcap or pcapng capture (`sipflow media` reads captures only)".into(),
        },
        capture::ReadError::Io(source) => io_err(source),
        other => InputError::Capture {
            name: name.to_string(),
            reason: other.to_string(),
        },
    })?;
    Ok(media.finish())
}

fn payload_names(s: &StreamSummary) -> String {
    let names: Vec<String> = s
        .payloads
        .iter()
        .map(|p| p.name.clone().unwrap_or_else(|| p.pt.to_string()))
        .collect();
    names.join(",")
}

/// The calls a stream belongs to: `Call-ID (caller→callee)`, `-` for none.
fn stream_calls(s: &StreamSummary) -> String {
    if s.calls.is_empty() {
        return "-".to_string();
    }
    let calls: Vec<String> = s
        .calls
        .iter()
        .map(|c| {
            let mut notes: Vec<&str> = c.direction.map(|d| d.as_str()).into_iter().collect();
            if c.source_not_in_sdp {
                notes.push("source not in SDP");
            }
            match notes.is_empty() {
                true => crate::report::printable(&c.call_id),
                false => format!(
                    "{} ({})",
                    crate::report::printable(&c.call_id),
                    notes.join(", ")
                ),
            }
        })
        .collect();
    calls.join("; ")
}

/// The table: times are seconds since the first stream's first packet.
fn write_table(m: &MediaSummary, out: &mut dyn Write) -> io::Result<()> {
    let origin = m.streams.iter().map(|s| s.first_us).min().unwrap_or(0);
    let secs = |us: i64| (us - origin) as f64 / 1e6;
    writeln!(
        out,
        "{:>11} {:>11} {:>21} {:>21} {:>10} {:>12} {:>7} {:>14} {:>5} {:>5} {:>10} {:>10} {:>10} {:>4} {:>4} Call",
        "Start(s)",
        "End(s)",
        "Source",
        "Destination",
        "SSRC",
        "Payload",
        "Pkts",
        "Lost",
        "Dup",
        "OOO",
        "MaxΔ(ms)",
        "MaxJit(ms)",
        "MeanJit(ms)",
        "MOS",
        "DTMF",
    )?;
    for s in &m.streams {
        let pct = if s.expected == 0 {
            0.0
        } else {
            s.lost as f64 * 100.0 / s.expected as f64
        };
        writeln!(
            out,
            "{:>11.6} {:>11.6} {:>21} {:>21} {:>10} {:>12} {:>7} {:>14} {:>5} {:>5} {:>10.3} {:>10.3} {:>11.3} {:>4.2} {:>4} {}",
            secs(s.first_us),
            secs(s.last_us),
            s.src.to_string(),
            s.dst.to_string(),
            s.ssrc,
            payload_names(s),
            s.packets,
            format!("{} ({pct:.1}%)", s.lost),
            s.duplicates,
            s.out_of_order,
            s.max_delta_ms,
            s.max_jitter_ms,
            s.mean_jitter_ms,
            s.mos,
            s.dtmf_events,
            stream_calls(s),
        )?;
    }
    if m.streams.is_empty() {
        writeln!(out, "(no RTP streams)")?;
    }
    if !m.rtcp.is_empty() {
        writeln!(out, "RTCP reports ({} packets):", m.rtcp_packets)?;
        for r in &m.rtcp {
            let rtt = r
                .rtt_ms
                .map_or_else(|| "-".to_string(), |v| format!("{v:.3} ms"));
            writeln!(
                out,
                "  {} -> {} on {}: {} reports, fraction lost {:.1}%, cumulative lost {}, jitter {:.3} ms, RTT {rtt}",
                r.src,
                r.dst,
                r.ssrc,
                r.reports,
                r.fraction_lost * 100.0,
                r.cumulative_lost,
                r.jitter_ms,
            )?;
        }
    }
    if m.untracked > 0 {
        writeln!(
            out,
            "{} RTP-like packets not counted: the stream bounds were reached",
            m.untracked
        )?;
    }
    Ok(())
}
