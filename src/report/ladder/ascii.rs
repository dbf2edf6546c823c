//! The terminal ladder (`sipflow flow`): a [`Layout`] drawn in plain ASCII with fixed widths
//! and no colour, so the same input always gives the same bytes.

use std::io::{self, Write};

use super::{Conversation, Layout, RowKind};
use crate::report::{Context, clip, fmt_ms};

/// Width of one endpoint column.
const MIN_LANE: usize = 24;
const MAX_LANE: usize = 44;

pub fn write_ladder(ctx: &Context<'_>, conv: &Conversation, out: &mut dyn Write) -> io::Result<()> {
    write_layout(ctx, &Layout::new(ctx, conv), out)
}

pub fn write_layout(ctx: &Context<'_>, layout: &Layout, out: &mut dyn Write) -> io::Result<()> {
    let lanes = &layout.lanes;
    let longest_label = layout.rows.iter().map(|row| match &row.kind {
        RowKind::Message { label, .. } => label.chars().count() + 8,
        RowKind::Note { .. } => 0,
    });
    let lane_w = lanes
        .iter()
        .map(|l| l.addr.chars().count() + 4)
        .chain(longest_label)
        .max()
        .unwrap_or(MIN_LANE)
        .clamp(MIN_LANE, MAX_LANE);
    let time_w = layout
        .rows
        .iter()
        .map(|r| r.ts.to_string().len())
        .max()
        .unwrap_or(12);
    let prefix = time_w + 2 + 9 + 2;

    writeln!(out, "{}", layout.title)?;
    for line in &layout.summary {
        writeln!(out, "  {line}")?;
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
    for row in &layout.rows {
        let mut line = format!(
            "{:<time_w$}  {:>9}  ",
            row.ts.to_string(),
            row.delta_ms
                .map(|d| format!("+{}", fmt_ms(Some(d))))
                .unwrap_or_default()
        );
        let mut lanes_buf: Vec<char> = vec![' '; lanes.len() * lane_w];
        for i in 0..lanes.len() {
            lanes_buf[i * lane_w + lane_w / 2] = '|';
        }
        let suffix = match &row.kind {
            RowKind::Message {
                from, to, label, ..
            } => {
                draw_arrow(&mut lanes_buf, *from, *to, label, lane_w);
                let tags = row.kind.tags();
                if tags.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", tags.join(", "))
                }
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
                let name = ctx.input_name(*input);
                match (line, frame) {
                    (None, Some(f)) => format!("  * {name} frame {f} {text}"),
                    _ => format!("  * {name}:{} {text}", line.unwrap_or(0)),
                }
            }
        };
        line.extend(lanes_buf);
        let line = format!("{}{suffix}", line.trim_end());
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn center(s: &str, width: usize) -> String {
    let len = s.chars().count();
    let left = width.saturating_sub(len) / 2;
    let right = width.saturating_sub(len + left);
    format!("{}{s}{}", " ".repeat(left), " ".repeat(right))
}
/// Draws `|---- LABEL --->|` between two lane centres (or a loop mark for a self message).
fn draw_arrow(buf: &mut [char], from: usize, to: usize, label: &str, lane_w: usize) {
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
        *slot = '-';
    }
    if a < b {
        buf[hi - 1] = '>';
    } else {
        buf[lo + 1] = '<';
    }
    let room = (hi - lo).saturating_sub(5);
    let text: Vec<char> = format!(" {} ", clip(label, room.saturating_sub(2)))
        .chars()
        .collect();
    let start = lo + 1 + ((hi - lo - 1).saturating_sub(text.len())) / 2;
    for (k, c) in text.into_iter().enumerate() {
        if let Some(slot) = buf
            .get_mut(start + k)
            .filter(|_| start + k < hi - 1 && start + k > lo + 1)
        {
            *slot = c;
        }
    }
}
