//! Log time for one input: pjsip's default decor shows only a time of day, so the day comes from
//! a dated prefix, else `--date`, else day 0; a midnight rollover bumps the day so that events
//! never reorder.

use crate::event::{MICROS_PER_DAY, Timestamp};

/// Time going backwards by more than this is a midnight rollover, not thread jitter.
const ROLLOVER: i64 = MICROS_PER_DAY / 2;

#[derive(Debug, Clone)]
pub(super) struct Clock {
    day: i64,
    /// Whether `day` is a real date (from `--date` or a dated line).
    dated: bool,
    last_tod: Option<i64>,
}

impl Clock {
    pub fn new(date: Option<i64>) -> Self {
        Clock {
            day: date.unwrap_or(0),
            dated: date.is_some(),
            last_tod: None,
        }
    }

    /// The timestamp of a line showing `tod` (micros since midnight) and maybe a date.
    pub fn stamp(&mut self, date: Option<i64>, tod: i64) -> Timestamp {
        match date {
            Some(day) => {
                self.day = day;
                self.dated = true;
            }
            None if self.last_tod.is_some_and(|last| last - tod > ROLLOVER) => {
                self.day = self.day.saturating_add(1);
            }
            None => {}
        }
        self.last_tod = Some(tod);
        Timestamp {
            micros: self.day.saturating_mul(MICROS_PER_DAY).saturating_add(tod),
            dated: self.dated,
            micro: false,
            unknown: false,
        }
    }
}
