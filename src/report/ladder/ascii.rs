//! The terminal ladder (`sipflow flow`): a [`Layout`] drawn in plain ASCII with no colour, so
//! the same input and width always give the same bytes.
//!
//! Given a width (the terminal's, or `COLUMNS`), the ladder fits it: lanes narrow from their
//! natural width down to [`MIN_LANE`], leaving at least [`MIN_NOTE`] columns for notes and
//! marks; notes, marks and summary lines wrap, and a note longer than [`NOTE_LINES`] lines is
//! cut with `…`. When even the minimum does not fit, the lanes stay at the minimum and the
//! lines are wider than asked (see `docs/output.md`). Without a width, nothing is narrowed or
//! wrapped.

use std::io::{self, Write};

use super::{Conversation, Layout, RowKind};
use crate::report::{Context, clip, fmt_ms};

/// Width of one endpoint column: the natural width lies between these.
const MIN_NATURAL_LANE: usize = 24;
const MAX_LANE: usize = 44;
/// The narrowest lane drawn to fit a width: an IPv4 `ip:port` and a `180 Ringing` still show.
pub const MIN_LANE: usize = 17;
/// The columns kept for notes and marks right of the lanes when fitting a width.
pub const MIN_NOTE: usize = 24;
/// How many lines a note may take before it is cut with `…`.
pub const NOTE_LINES: usize = 4;

pub fn write_ladder(ctx: &Context<'_>, conv: &Conversation, out: &mut dyn Write) -> io::Result<()> {
    write_layout(ctx, &Layout::new(ctx, conv), None, out)
}

/// Draws `layout`, fitting `width` columns when given.
pub fn write_layout(
    ctx: &Context<'_>,
    layout: &Layout,
    width: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let lanes = &layout.lanes;
    let longest_label = layout.rows.iter().map(|row| match &row.kind {
        RowKind::Message { label, .. } => label.chars().count() + 8,
        RowKind::Stream(v) => v.label.chars().count() + 8,
        RowKind::Note { .. } => 0,
    });
    let natural = lanes
        .iter()
        .map(|l| l.addr.chars().count() + 4)
        .chain(longest_label)
        .max()
        .unwrap_or(MIN_NATURAL_LANE)
        .clamp(MIN_NATURAL_LANE, MAX_LANE);
    let time_w = layout
        .rows
        .iter()
        .map(|r| r.ts.to_string().len())
        .max()
        .unwrap_or(12);
    let prefix = time_w + 2 + 9 + 2;
    let has_suffix = layout.rows.iter().any(|r| {
        matches!(r.kind, RowKind::Note { .. } | RowKind::Stream(_)) || !r.kind.tags().is_empty()
    });
    let lane_w = match width {
        Some(w) if !lanes.is_empty() => {
            let reserve = if has_suffix { MIN_NOTE } else { 0 };
            (w.saturating_sub(prefix + reserve) / lanes.len()).clamp(MIN_LANE, natural)
        }
        _ => natural,
    };
    // Where a note or mark starts: two spaces after the last lifeline.
    let suffix_at = prefix + lanes.len().saturating_sub(1) * lane_w + lane_w / 2 + 1 + 2;

    writeln!(out, "{}", layout.title)?;
    for line in &layout.summary {
        for (k, part) in wrap(line, width.map(|w| w.saturating_sub(4)))
            .iter()
            .enumerate()
        {
            let indent = if k == 0 { "  " } else { "    " };
            writeln!(out, "{indent}{part}")?;
        }
    }
    writeln!(out)?;
    let mut header = " ".repeat(prefix);
    let mut sides = " ".repeat(prefix);
    for lane in lanes {
        header.push_str(&center(&clip(&lane.addr, lane_w - 2), lane_w));
        let side = lane.side.as_deref().unwrap_or("");
        sides.push_str(&center(&clip(side, lane_w - 2), lane_w));
    }
    writeln!(out, "{}", header.trim_end())?;
    if !sides.trim().is_empty() {
        writeln!(out, "{}", sides.trim_end())?;
    }
    let lifelines = || {
        let mut buf: Vec<char> = vec![' '; lanes.len() * lane_w];
        for i in 0..lanes.len() {
            buf[i * lane_w + lane_w / 2] = '|';
        }
        buf
    };
    for row in &layout.rows {
        let mut lanes_buf = lifelines();
        let (mark, suffix) = match &row.kind {
            RowKind::Message {
                from, to, label, ..
            } => {
                draw_arrow(&mut lanes_buf, *from, *to, label, lane_w, '-');
                let tags = row.kind.tags();
                (
                    "[",
                    (!tags.is_empty()).then(|| format!("{}]", tags.join(", "))),
                )
            }
            RowKind::Note {
                lane,
                input,
                line,
                frame,
                text,
            } => {
                if let Some(l) = lane {
                    lanes_buf[l * lane_w + lane_w / 2] = '*';
                }
                let name = ctx.input_file_name(*input);
                let note = match (line, frame) {
                    (None, Some(f)) => format!("{name} frame {f} {text}"),
                    _ => format!("{name}:{} {text}", line.unwrap_or(0)),
                };
                ("* ", Some(note))
            }
            // A stream: `|== RTP PCMU 150 pkts, 0 lost ==>|` between its lanes, its figures
            // beside; both in the text when it has no lanes.
            RowKind::Stream(v) => match (v.from, v.to) {
                (Some(from), Some(to)) if from != to => {
                    draw_arrow(&mut lanes_buf, from, to, &v.label, lane_w, '=');
                    ("~ ", Some(v.details.clone()))
                }
                _ => ("~ ", Some(format!("{}: {}", v.label, v.details))),
            },
        };
        let parts = suffix.map_or_else(Vec::new, |s| {
            let room = width.map(|w| w.saturating_sub(suffix_at + mark.len()).max(MIN_NOTE / 2));
            let mut parts = wrap(&s, room);
            if parts.len() > NOTE_LINES {
                parts.truncate(NOTE_LINES);
                let last = &mut parts[NOTE_LINES - 1];
                let room = last.chars().count().saturating_sub(1);
                *last = format!("{}…", last.chars().take(room).collect::<String>());
            }
            parts
        });
        let delta = row
            .delta_ms
            .map(|d| format!("+{}", fmt_ms(Some(d))))
            .unwrap_or_default();
        let mut line = format!("{:<time_w$}  {delta:>9}  ", row.ts.to_string());
        line.extend(lanes_buf);
        let mut line = line.trim_end().to_string();
        for (k, part) in parts.iter().enumerate() {
            if k > 0 {
                writeln!(out, "{line}")?;
                line = " ".repeat(prefix);
                line.extend(lifelines());
                line.truncate(line.trim_end().len());
                line.push_str("  ");
                line.push_str(&" ".repeat(mark.len()));
            } else {
                line.push_str("  ");
                line.push_str(mark);
            }
            line.push_str(part);
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `text` in lines of at most `width` characters, broken at spaces where it can be (a word
/// longer than a line is broken inside). No width: one line.
fn wrap(text: &str, width: Option<usize>) -> Vec<String> {
    let Some(width) = width.filter(|&w| w > 0) else {
        return vec![text.to_string()];
    };
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        if len > 0 && len + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        while len + word.len() > width {
            let rest = word.split_off(width - len);
            line.extend(word);
            lines.push(std::mem::take(&mut line));
            len = 0;
            word = rest;
        }
        len += word.len();
        line.extend(word);
    }
    lines.push(line);
    lines
}

fn center(s: &str, width: usize) -> String {
    let len = s.chars().count();
    let left = width.saturating_sub(len) / 2;
    let right = width.saturating_sub(len + left);
    format!("{}{s}{}", " ".repeat(left), " ".repeat(right))
}
/// Draws `|---- LABEL --->|` between two lane centres, its shaft of `shaft` (or a loop mark
/// for a self message).
fn draw_arrow(buf: &mut [char], from: usize, to: usize, label: &str, lane_w: usize, shaft: char) {
    let a = from * lane_w + lane_w / 2;
    let b = to * lane_w + lane_w / 2;
    if a == b {
        let text: Vec<char> = format!("<-> {label}").chars().collect();
        for (k, c) in text.into_iter().enumerate() {
            if let Some(slot) = buf.get_mut(a + 2 + k) {
                *slot = c;
            }
        }
        return;
    }
    let (lo, hi) = (a.min(b), a.max(b));
    for slot in &mut buf[lo + 1..hi] {
        *slot = shaft;
    }
    if a < b {
        buf[hi - 1] = '>';
    } else {
        buf[lo + 1] = '<';
    }
    // The head and a dash at one end, a dash at the other: `|- 180 Ringing ->|`.
    let first = if a < b { lo + 2 } else { lo + 3 };
    let cells = (hi - lo).saturating_sub(4);
    let text: Vec<char> = format!(" {} ", clip(label, cells.saturating_sub(2)))
        .chars()
        .collect();
    let start = first + cells.saturating_sub(text.len()) / 2;
    for (k, c) in text.into_iter().enumerate() {
        if let Some(slot) = buf.get_mut(start + k).filter(|_| start + k < first + cells) {
            *slot = c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_inside_long_words() {
        assert_eq!(wrap("ab cd ef", Some(5)), ["ab cd", "ef"]);
        assert_eq!(wrap("abcdefgh ij", Some(3)), ["abc", "def", "gh", "ij"]);
        assert_eq!(wrap("ab cd", None), ["ab cd"]);
        assert_eq!(wrap("", Some(4)), [""]);
    }
}
