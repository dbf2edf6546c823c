//! Clock alignment: a log and a capture of the same messages are put on one clock.
//!
//! pjsip's default decor has no date and logs local time, while captures carry UTC epoch time,
//! so merging them by time would put every log event before (or after) the whole capture. When
//! a text input shares messages with a capture (the same bytes: a TX dump and the packet it
//! sent), the median of their time differences is the text input's offset. It is applied when
//! the input has no date, or when the offset is at least a second (a time zone or a skewed
//! clock); a sub-second difference between a dated log and a capture is real and kept. The
//! offset is reported as the clock's skew, and for an undated log the date it was given. An
//! input without times at all takes the times of the messages the
//! capture holds. Owns only this; the merge itself is in [`super`].

use std::collections::HashMap;

use super::InputInfo;
use crate::event::{Event, Locator, Timestamp, civil_from_days};

/// Offsets below this are not applied to dated inputs.
const MIN_DATED_SHIFT_US: i64 = 1_000_000;

fn is_capture(events: &[Event]) -> bool {
    events
        .iter()
        .any(|e| matches!(e.origin().locator, Locator::Frames(_)))
}

/// Moves the clocks of text inputs onto the clock of the captures they share messages with.
pub fn align_clocks(inputs: &mut [InputInfo], streams: &mut [Vec<Event>]) {
    // Every copy's time, in the captures' order (a retransmission is a copy of the same bytes).
    let mut reference: HashMap<u64, Vec<Timestamp>> = HashMap::new();
    for events in streams.iter().filter(|s| is_capture(s)) {
        for e in events {
            if let Event::Message(m) = e {
                reference.entry(m.content_hash()).or_default().push(m.ts);
            }
        }
    }
    if reference.is_empty() {
        return;
    }
    for (info, events) in inputs.iter_mut().zip(streams.iter_mut()) {
        if is_capture(events) {
            continue;
        }
        if untimed(events) {
            if take_capture_times(events, &reference) {
                info.untimed_messages = 0;
            }
            continue;
        }
        let mut diffs: Vec<i64> = events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => reference
                    .get(&m.content_hash())
                    .and_then(|r| r.first())
                    .map(|r| r.micros - m.ts.micros),
                Event::Log(_) => None,
            })
            .collect();
        if diffs.is_empty() {
            continue;
        }
        diffs.sort_unstable();
        let offset = diffs[diffs.len() / 2];
        let dated = events.iter().any(|e| e.ts().dated);
        if dated && offset.abs() < MIN_DATED_SHIFT_US {
            continue;
        }
        for e in events.iter_mut() {
            let ts = match e {
                Event::Message(m) => &mut m.ts,
                Event::Log(l) => &mut l.ts,
            };
            ts.micros += offset;
            ts.dated = true;
        }
        // An undated log's times are times of day on day 0: the offset is the date the capture
        // gives it plus the skew (within half a day either way).
        let (skew, date) = if dated {
            (offset, None)
        } else {
            let day = (offset + DAY_US / 2).div_euclid(DAY_US);
            let (y, m, d) = civil_from_days(day);
            (offset - day * DAY_US, Some(format!("{y:04}-{m:02}-{d:02}")))
        };
        info.clock_offset_ms = Some(skew.div_euclid(1000));
        info.clock_date = date;
    }
}

const DAY_US: i64 = 86_400_000_000;

/// Whether an input gave no times: none of its messages has one ([`Timestamp::UNKNOWN`], as the
/// readers give a log or text without times: baresip 1.0, Kamailio on stderr, ngrep without
/// `-t`/`-T`, `tshark -x` alone, raw SIP).
fn untimed(events: &[Event]) -> bool {
    let mut messages = events.iter().filter_map(|e| match e {
        Event::Message(m) => Some(m.ts),
        Event::Log(_) => None,
    });
    messages.next().is_some_and(|t| !t.is_known()) && messages.all(|t| !t.is_known())
}

/// An input without times takes them from the capture: each message that the capture holds
/// gets its copy's time (the n-th of the same bytes the n-th copy's: retransmissions), and
/// every other event the time of the last message before it that did (the first such
/// message's time before any), never going back, so the input's order is kept. No offset is
/// reported: there was no clock to move. Says whether the capture holds any of its messages.
fn take_capture_times(events: &mut [Event], reference: &HashMap<u64, Vec<Timestamp>>) -> bool {
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let times: Vec<Option<Timestamp>> = events
        .iter()
        .map(|e| match e {
            Event::Message(m) => {
                let hash = m.content_hash();
                let n = seen.entry(hash).or_default();
                *n += 1;
                let copies = reference.get(&hash)?;
                copies.get(*n - 1).or(copies.last()).copied()
            }
            Event::Log(_) => None,
        })
        .collect();
    let Some(mut now) = times.iter().find_map(|t| *t) else {
        return false;
    };
    for (e, t) in events.iter_mut().zip(times) {
        if let Some(t) = t {
            now = now.max(t);
        }
        match e {
            Event::Message(m) => m.ts = now,
            Event::Log(l) => l.ts = now,
        }
    }
    true
}
