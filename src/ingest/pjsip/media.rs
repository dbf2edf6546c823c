//! pjsua's call dump (`pjsua_call_dump`, written at DISCONNECTED by `pjsua_media.c` and by
//! apps' "dump call" commands): a multi-line record whose first line carries the record prefix
//! and whose other lines carry none (or, in a wrapped log, the wrapper's prefix and the dump's
//! indented text). Owns reading those lines into one [`MediaStats`] per stream; does not own
//! finding records ([`super::Reader`]) or what the figures mean for a call (the rules).
//!
//! The lines, as PJSIP 2.x writes them (older versions lack `discrd` and the `dev` column, and
//! write `#0 speex @16KHz` without the media type):
//!
//! ```text
//!   [DISCONNECTED] To: <sip:caller@127.0.0.1>;tag=KtNr…
//!     Call time: 00h:00m:03s, 1st res in 2 ms, conn in 322ms
//!     #0 audio speex @16kHz, sendrecv, peer=127.0.0.1:48520
//!        SRTP status: Not active Crypto-suite:
//!        RX pt=96, last update:00h:00m:02.775s ago
//!           total 150pkt 10.5KB (16.5KB +IP hdr) @avg=27.9Kbps/43.9Kbps
//!           pkt loss=0 (0.0%), discrd=0 (0.0%), dup=0 (0.0%), reord=0 (0.0%)
//!                 (msec)    min     avg     max     last    dev
//!           loss period:   0.000   0.000   0.000   0.000   0.000
//!           jitter     :   0.000   0.601   0.875   0.562   0.146
//!        TX pt=96, ptime=20, last update:00h:00m:02.784s ago
//!           total 151pkt 10.5KB (16.6KB +IP hdr) @avg=28.1Kbps/44.2Kbps
//!           pkt loss=0 (0.0%), dup=0 (0.0%), reorder=0 (0.0%)
//!           …
//!        RTT msec      :   0.000   0.000   0.000   0.000   0.000
//! ```

use std::sync::LazyLock;

use regex::Regex;

use crate::event::{MediaStats, MsStats, RtpCounts};

/// Lines a dump holds at most (a call has a few streams of about 15 lines): past it, the dump
/// ends, so that memory stays bounded whatever the input.
const MAX_LINES: usize = 200;

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)\[\s*([A-Z]+)\s*\]\s+To:\s*(.*?)\s*$").expect("static regex")
});
static STREAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*#([0-9]+)\s+(?:(audio|video|application|text)\b\s*)?(.*?)\s*$")
        .expect("static regex")
});
static CODEC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\S+) @([0-9]+)[kK][hH]z,\s*([a-z]+)(?:,\s*peer=(\S+))?").expect("static regex")
});
static DIR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(RX|TX) pt=([0-9]+)").expect("static regex"));
static TOTAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*total ([0-9.]+[KM]?)pkt ([0-9.]+[KM]?)B\b").expect("static regex")
});
static LOSS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*pkt loss=(-?[0-9]+)[^,]*(?:, discrd=(-?[0-9]+))?").expect("static regex")
});
static ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(jitter|RTT msec|loss period)\s*:((?:\s+-?[0-9]+\.[0-9]+){4,5})\s*$")
        .expect("static regex")
});
/// Lines of a dump that carry nothing read here.
static OTHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:Call time:|SRTP status:|\(msec\)|ICE|#[0-9]+ .*(?:deactivated|disabled|inactive|no media)|$)")
        .expect("static regex")
});

/// A call dump being read.
#[derive(Debug)]
pub(super) struct CallDump {
    /// What a wrapper (logcat, a logging prefix) writes before the header's `[STATE]`: taken
    /// off the dump's next lines, which carry it too.
    wrapper: String,
    state: String,
    remote: String,
    streams: Vec<Stream>,
    lines: usize,
    /// The last line read (input line number and its span's end).
    pub last: (u32, usize),
}

#[derive(Debug)]
struct Stream {
    stats: MediaStats,
    /// The direction whose lines are being read.
    dir: Option<bool>,
    text: Vec<String>,
}

/// One stream of a finished dump.
pub(super) struct Read {
    pub stats: MediaStats,
    /// The lines that say the most, joined (the event's text).
    pub text: String,
}

impl CallDump {
    /// A dump starts on this line (`[DISCONNECTED] To: …`).
    pub fn start(text: &str, line: u32, end: usize) -> Option<CallDump> {
        let c = HEADER.captures(text)?;
        let open = text.get(..c.get(1)?.start())?.rfind('[')?;
        Some(CallDump {
            wrapper: text.get(..open)?.trim_end().to_string(),
            state: c[1].to_string(),
            remote: c[2].to_string(),
            streams: Vec::new(),
            lines: 1,
            last: (line, end),
        })
    }

    /// A line after the header: `false` if it is not the dump's (the dump is then over).
    pub fn feed(&mut self, text: &str, line: u32, end: usize) -> bool {
        if self.lines >= MAX_LINES {
            return false;
        }
        let text = text.strip_prefix(self.wrapper.as_str()).unwrap_or(text);
        let taken = self.take(text);
        if taken {
            self.lines += 1;
            self.last = (line, end);
        }
        taken
    }

    fn take(&mut self, text: &str) -> bool {
        if let Some(c) = STREAM.captures(text) {
            let rest = c.get(3).map_or("", |m| m.as_str());
            let Some(k) = CODEC.captures(rest) else {
                return OTHER.is_match(text);
            };
            let Some(stream) = c[1].parse().ok() else {
                return false;
            };
            self.streams.push(Stream {
                stats: MediaStats {
                    state: self.state.clone(),
                    remote: self.remote.clone(),
                    stream,
                    media: c.get(2).map_or("audio", |m| m.as_str()).to_string(),
                    codec: k[1].to_string(),
                    clock_khz: k[2].parse().ok(),
                    dir: k[3].to_string(),
                    peer: k
                        .get(4)
                        .map(|p| p.as_str().to_string())
                        .filter(|p| p != "-"),
                    srtp: None,
                    rx: None,
                    tx: None,
                    rtt: None,
                },
                dir: None,
                text: vec![text.trim().to_string()],
            });
            return true;
        }
        let Some(s) = self.streams.last_mut() else {
            return OTHER.is_match(text);
        };
        if let Some(srtp) = text.trim().strip_prefix("SRTP status:") {
            s.stats.srtp = Some(srtp.trim().to_string());
            return true;
        }
        if let Some(c) = DIR.captures(text) {
            let rx = &c[1] == "RX";
            *s.counts(rx) = Some(RtpCounts {
                pt: c[2].parse().ok(),
                ..RtpCounts::default()
            });
            s.dir = Some(rx);
            return true;
        }
        if let Some(c) = TOTAL.captures(text) {
            let Some(counts) = s.dir.and_then(|rx| s.counts(rx).as_mut()) else {
                return false;
            };
            counts.packets = count(&c[1]).unwrap_or_default();
            counts.bytes = count(&c[2]).unwrap_or_default();
            let dir = if s.dir == Some(true) { "RX" } else { "TX" };
            s.text.push(format!("{dir} {}", text.trim()));
            return true;
        }
        if let Some(c) = LOSS.captures(text) {
            let Some(counts) = s.dir.and_then(|rx| s.counts(rx).as_mut()) else {
                return false;
            };
            counts.lost = c[1].parse::<i64>().map_or(0, |n| n.max(0).unsigned_abs());
            counts.discarded = c
                .get(2)
                .and_then(|d| d.as_str().parse::<i64>().ok())
                .map(|n| n.max(0).unsigned_abs());
            return true;
        }
        if let Some(c) = ROW.captures(text) {
            let stats = ms_stats(&c[2]);
            match &c[1] {
                "RTT msec" => s.stats.rtt = stats,
                "jitter" => {
                    if let Some(counts) = s.dir.and_then(|rx| s.counts(rx).as_mut()) {
                        counts.jitter = stats;
                    }
                }
                _ => {}
            }
            return true;
        }
        OTHER.is_match(text)
    }

    /// The streams read, each one event.
    pub fn finish(self) -> Vec<Read> {
        self.streams
            .into_iter()
            .map(|s| Read {
                text: s.text.join(" · "),
                stats: s.stats,
            })
            .collect()
    }
}

impl Stream {
    fn counts(&mut self, rx: bool) -> &mut Option<RtpCounts> {
        if rx {
            &mut self.stats.rx
        } else {
            &mut self.stats.tx
        }
    }
}

/// A count as pjsua writes it (`good_number`): exact below 1000, else `1.7K` (1700, rounded
/// down to 100) or `2.05M` (rounded down to 10 000).
fn count(s: &str) -> Option<u64> {
    let (num, mult) = match s.as_bytes().last()? {
        b'K' => (&s[..s.len() - 1], 1_000),
        b'M' => (&s[..s.len() - 1], 1_000_000),
        _ => (s, 1),
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let int: u64 = int.parse().ok()?;
    let mut value = int.checked_mul(mult)?;
    let mut unit = mult;
    for d in frac.bytes().take(6) {
        unit /= 10;
        value = value.checked_add(u64::from(d.checked_sub(b'0').filter(|d| *d < 10)?) * unit)?;
    }
    Some(value)
}

/// A row of pjsua's msec columns (`min avg max last [dev]`, `%7.3f`), in microseconds.
fn ms_stats(cols: &str) -> Option<MsStats> {
    let v: Vec<u64> = cols
        .split_whitespace()
        .map(|c| {
            let ms: f64 = c.parse().ok()?;
            // `%7.3f` msec: whole microseconds; a negative value is pjsua's "unset".
            Some((ms.max(0.0) * 1000.0).round() as u64)
        })
        .collect::<Option<_>>()?;
    Some(MsStats {
        min_us: *v.first()?,
        mean_us: *v.get(1)?,
        max_us: *v.get(2)?,
        last_us: *v.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_as_pjsua_writes_them() {
        assert_eq!(count("0"), Some(0));
        assert_eq!(count("150"), Some(150));
        assert_eq!(count("10.5K"), Some(10_500));
        assert_eq!(count("1.7K"), Some(1_700));
        assert_eq!(count("2.05M"), Some(2_050_000));
        assert_eq!(count("x"), None);
        assert_eq!(count("99999999999999999999M"), None);
    }

    #[test]
    fn msec_rows() {
        let s = ms_stats("   0.000   0.601   0.875   0.562   0.146").expect("a row");
        assert_eq!(
            (s.min_us, s.mean_us, s.max_us, s.last_us),
            (0, 601, 875, 562)
        );
        let old = ms_stats("   0.000   5.506 227.000   9.812").expect("an old row");
        assert_eq!(old.max_us, 227_000);
    }
}
