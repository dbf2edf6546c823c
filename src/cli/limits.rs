//! `--limit NAME=VALUE`: the memory bounds of capture reading and of the calls held open,
//! validated into [`Bounds`]. Each limit, when hit, is reported as a warning (see
//! `docs/security.md`); none is silent.

use super::UsageError;
use crate::dialog::window;
use crate::ingest::capture::CaptureOptions;

/// What `--limit` sets.
#[derive(Debug, Clone, Default)]
pub struct Bounds {
    pub capture: CaptureOptions,
    pub windows: window::Limits,
}

/// A limit's name, what it bounds, and how a value is stored.
pub struct Limit {
    pub name: &'static str,
    pub what: &'static str,
    set: fn(&mut Bounds, u64),
    get: fn(&Bounds) -> u64,
}

fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Every limit, in the order `docs/security.md` lists them.
pub const LIMITS: &[Limit] = &[
    Limit {
        name: "open-calls",
        what: "calls and flows held open at once; beyond it the oldest is analysed before it \
               ends",
        set: |o, v| o.windows.open_calls = usize_of(v),
        get: |o| o.windows.open_calls as u64,
    },
    Limit {
        name: "window-events",
        what: "events of ended calls held before they are analysed and written together; a \
               call of four times as many is analysed before it ends",
        set: |o, v| o.windows.window_events = usize_of(v),
        get: |o| o.windows.window_events as u64,
    },
    Limit {
        name: "tcp-buffer",
        what: "bytes held per TCP direction for an incomplete message, and again for \
               out-of-order segments; a larger message is kept truncated",
        set: |o, v| o.capture.tcp.max_flow_bytes = usize_of(v),
        get: |o| o.capture.tcp.max_flow_bytes as u64,
    },
    Limit {
        name: "tcp-flows",
        what: "TCP directions tracked at once; beyond it the least recently active are dropped",
        set: |o, v| o.capture.tcp.max_flows = usize_of(v),
        get: |o| o.capture.tcp.max_flows as u64,
    },
    Limit {
        name: "tcp-out-of-order",
        what: "out-of-order segments held per direction before the bytes missing before them \
               are declared lost",
        set: |o, v| o.capture.tcp.max_out_of_order = usize_of(v),
        get: |o| o.capture.tcp.max_out_of_order as u64,
    },
    Limit {
        name: "tcp-resync",
        what: "bytes without a SIP start line after which a stream seen from its middle is \
               given up",
        set: |o, v| o.capture.tcp.resync_budget = usize_of(v),
        get: |o| o.capture.tcp.resync_budget as u64,
    },
    Limit {
        name: "fragment-packets",
        what: "IP packets pending fragment reassembly at once",
        set: |o, v| o.capture.fragments.max_packets = usize_of(v),
        get: |o| o.capture.fragments.max_packets as u64,
    },
    Limit {
        name: "fragment-bytes",
        what: "bytes held in pending IP fragments",
        set: |o, v| o.capture.fragments.max_bytes = usize_of(v),
        get: |o| o.capture.fragments.max_bytes as u64,
    },
    Limit {
        name: "fragment-timeout-ms",
        what: "capture time after which an incomplete packet's fragments are dropped",
        set: |o, v| {
            o.capture.fragments.timeout_micros =
                i64::try_from(v.saturating_mul(1000)).unwrap_or(i64::MAX)
        },
        get: |o| u64::try_from(o.capture.fragments.timeout_micros / 1000).unwrap_or(0),
    },
];

/// A value: digits with an optional binary suffix `k`, `M` or `G`.
fn value(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, scale) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&s[..i], 1 << 20),
        (i, 'g' | 'G') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    digits
        .parse::<u64>()
        .ok()?
        .checked_mul(scale)
        .filter(|v| *v > 0)
}

/// Applies `NAME=VALUE` settings over the defaults.
pub fn apply(settings: &[String], opts: &mut Bounds) -> Result<(), UsageError> {
    for s in settings {
        let (name, v) = s
            .split_once('=')
            .ok_or_else(|| UsageError::Limit(s.clone()))?;
        let limit = LIMITS
            .iter()
            .find(|l| l.name == name.trim())
            .ok_or_else(|| UsageError::Limit(s.clone()))?;
        (limit.set)(opts, value(v).ok_or_else(|| UsageError::Limit(s.clone()))?);
    }
    Ok(())
}

/// `name  default  what`, one limit per line, for `--help` and the docs test.
pub fn table() -> String {
    let defaults = Bounds::default();
    LIMITS
        .iter()
        .map(|l| format!("{:<20} {:>10}  {}", l.name, (l.get)(&defaults), l.what))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_apply_and_bad_ones_are_usage_errors() {
        let mut o = Bounds::default();
        apply(
            &[
                "tcp-buffer=4M".into(),
                "fragment-timeout-ms=500".into(),
                "open-calls=2k".into(),
            ],
            &mut o,
        )
        .expect("valid");
        assert_eq!(o.capture.tcp.max_flow_bytes, 4 << 20);
        assert_eq!(o.capture.fragments.timeout_micros, 500_000);
        assert_eq!(o.windows.open_calls, 2048);
        for bad in [
            "tcp-buffer",
            "nope=1",
            "tcp-flows=0",
            "tcp-flows=-3",
            "tcp-flows=1T",
        ] {
            assert!(apply(&[bad.into()], &mut o).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_table_lists_every_limit_with_its_default() {
        let t = table();
        assert!(t.contains("tcp-buffer") && t.contains("1048576"), "{t}");
        assert_eq!(t.lines().count(), LIMITS.len());
    }
}
