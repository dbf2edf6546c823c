//! Clock alignment: a log and a capture of the same messages are put on one clock.
//!
//! pjsip's default decor has no date and logs local time, while captures carry UTC epoch time,
//! so merging them by time would put every log event before (or after) the whole capture. When
//! a text input shares messages with a capture (the same bytes: a TX dump and the packet it
//! sent), the median of their time differences is the text input's offset. It is applied when
//! the input has no date, or when the offset is at least a second (a time zone or a skewed
//! clock); a sub-second difference between a dated log and a capture is real and kept. The
//! offset is reported as the clock's skew, and for an undated log the date it was given. Owns
//! only this; the merge itself is in [`super`].

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
    let mut reference: HashMap<u64, Timestamp> = HashMap::new();
    for events in streams.iter().filter(|s| is_capture(s)) {
        for e in events {
            if let Event::Message(m) = e {
                reference.entry(m.content_hash()).or_insert(m.ts);
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
        let mut diffs: Vec<i64> = events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => reference
                    .get(&m.content_hash())
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
