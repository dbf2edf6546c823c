//! Sequence-diagram export of one ladder: Mermaid (`sequenceDiagram`) and PlantUML
//! (`@startuml`), for pasting into a ticket, a wiki or documentation.
//!
//! Owns the two text syntaxes and their escaping. Every label comes from the wire or a log,
//! so each is reduced to one line with the characters each syntax gives meaning to replaced:
//! the diagram shows the text, it is never interpreted as markup.

use std::io::{self, Write};

use super::{Layout, RowKind};
use crate::report::fmt_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Mermaid,
    PlantUml,
}

/// Mermaid text: `#`, `;`, `<`, `>`, `"`, `&` and `` ` `` become Mermaid entity codes (`#59;`),
/// so no text can end a statement or inject markup into the rendered diagram.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' | ';' | '<' | '>' | '"' | '&' | '`' => out.push_str(&format!("#{};", u32::from(c))),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// PlantUML text: one line, with `"` (it ends a quoted name), `\` (it starts `\n`), `<` and `>`
/// (creole markup) replaced by look-alike characters.
fn plantuml_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            '<' => '‹',
            '>' => '›',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// A message label with its time, and its marks.
fn arrow_label(layout: &Layout, i: usize) -> Option<String> {
    let row = &layout.rows[i];
    let RowKind::Message { label, .. } = &row.kind else {
        return None;
    };
    let mut text = format!("{label} (+{})", fmt_ms(row.delta_ms));
    let tags = row.kind.tags();
    if !tags.is_empty() {
        text.push_str(&format!(" [{}]", tags.join(", ")));
    }
    Some(text)
}

fn lane_title(layout: &Layout, i: usize) -> String {
    let lane = &layout.lanes[i];
    match &lane.side {
        Some(side) => format!("{} ({side})", lane.addr),
        None => lane.addr.clone(),
    }
}

/// Writes the layout as one sequence diagram. Both syntaxes have the same statements
/// (participants, arrows, notes); only their spelling and escaping differ.
pub fn write(layout: &Layout, syntax: Syntax, out: &mut dyn Write) -> io::Result<()> {
    let text = |s: &str| match syntax {
        Syntax::Mermaid => mermaid_text(s),
        Syntax::PlantUml => plantuml_text(s),
    };
    let title = text(&layout.title);
    match syntax {
        Syntax::Mermaid => writeln!(out, "sequenceDiagram\n    title {title}")?,
        Syntax::PlantUml => writeln!(out, "@startuml\ntitle {title}")?,
    }
    for i in 0..layout.lanes.len() {
        let name = text(&lane_title(layout, i));
        match syntax {
            Syntax::Mermaid => writeln!(out, "    participant L{i} as {name}")?,
            Syntax::PlantUml => writeln!(out, "participant \"{name}\" as L{i}")?,
        }
    }
    for (i, row) in layout.rows.iter().enumerate() {
        match &row.kind {
            RowKind::Message {
                from,
                to,
                retransmission,
                ..
            } => {
                let label = text(&arrow_label(layout, i).unwrap_or_default());
                match (syntax, retransmission) {
                    (Syntax::Mermaid, false) => writeln!(out, "    L{from}->>L{to}: {label}")?,
                    (Syntax::Mermaid, true) => writeln!(out, "    L{from}-->>L{to}: {label}")?,
                    (Syntax::PlantUml, false) => writeln!(out, "L{from} -> L{to} : {label}")?,
                    (Syntax::PlantUml, true) => writeln!(out, "L{from} --> L{to} : {label}")?,
                }
            }
            // A note needs a lane to stand on: one side's, or across all when the side that
            // logged it is not in the diagram.
            RowKind::Note {
                lane, text: note, ..
            } => {
                let Some(last) = layout.lanes.len().checked_sub(1) else {
                    continue;
                };
                let over = match (lane, syntax) {
                    (Some(l), _) => format!("L{l}"),
                    (None, Syntax::Mermaid) => format!("L0,L{last}"),
                    (None, Syntax::PlantUml) => format!("L0, L{last}"),
                };
                let note = text(note);
                match syntax {
                    Syntax::Mermaid => writeln!(out, "    Note over {over}: {note}")?,
                    Syntax::PlantUml => writeln!(out, "note over {over} : {note}")?,
                }
            }
            // A stream: a dotted arrow between its lanes, or a note across them all.
            RowKind::Stream(v) => {
                let label = text(&format!("{} ({})", v.label, v.details));
                match ((v.from, v.to), syntax) {
                    ((Some(from), Some(to)), Syntax::Mermaid) => {
                        writeln!(out, "    L{from}--)L{to}: {label}")?;
                    }
                    ((Some(from), Some(to)), Syntax::PlantUml) => {
                        writeln!(out, "L{from} ->> L{to} : {label}")?;
                    }
                    _ => {
                        let Some(last) = layout.lanes.len().checked_sub(1) else {
                            continue;
                        };
                        match syntax {
                            Syntax::Mermaid => writeln!(out, "    Note over L0,L{last}: {label}")?,
                            Syntax::PlantUml => writeln!(out, "note over L0, L{last} : {label}")?,
                        }
                    }
                }
            }
        }
    }
    if syntax == Syntax::PlantUml {
        writeln!(out, "@enduml")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mermaid_text_cannot_break_a_statement() {
        let t = mermaid_text("a;b#c<script>\"x\":y\nz");
        assert_eq!(t, "a#59;b#35;c#60;script#62;#34;x#34;:y z");
    }

    #[test]
    fn plantuml_text_stays_one_quoted_line() {
        assert_eq!(plantuml_text("a\"b\\nc<b>\n"), "a'b/nc‹b› ");
    }
}
