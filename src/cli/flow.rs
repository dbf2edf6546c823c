//! `sipflow flow`: which calls to draw, and drawing them, window by window (see
//! `cli::stream`): every call group as its window is analysed, or the one asked for. A
//! sequence diagram (Mermaid, PlantUML) draws one call: from a file it is written at the end,
//! once the run shows it is the only one; from a live input each call's is written as the
//! call ends (the one `--call` names, or every call's, one diagram after the other).

use std::io::{self, IsTerminal, Write};

use super::{FlowFormat, UsageError};
use crate::report::ladder::sequence::{self, Syntax};
use crate::report::ladder::{Conversation, Layout, ascii};
use crate::report::{Context, printable};

/// How many calls and flows the "no such call" error lists at most (each kind).
const LISTED: usize = 1000;

/// The drawing of `sipflow flow`, gathered window by window.
pub(super) struct Drawing<'a> {
    /// `--call`: a Call-ID, a call's index or `F<n>`.
    wanted: Option<&'a str>,
    format: FlowFormat,
    /// Conversations drawn (or, for a sequence diagram without `--call`, that would be).
    drawn: usize,
    /// The width the ASCII ladder fits, if any (see [`width`]).
    width: Option<usize>,
    /// A sequence diagram, held until the run shows it is the only one.
    held: Vec<u8>,
    /// A run that follows live inputs: every diagram is written as its call ends, a sequence
    /// diagram too (one per call, one after the other, without `--call`).
    live: bool,
    /// The calls and flows seen, for the error when `--call` matches none.
    calls: Listed,
    flows: Listed,
}

/// The first [`LISTED`] items, and how many more there were.
#[derive(Default)]
struct Listed {
    items: Vec<String>,
    more: usize,
}

impl Listed {
    fn push(&mut self, item: impl FnOnce() -> String) {
        if self.items.len() < LISTED {
            self.items.push(item());
        } else {
            self.more += 1;
        }
    }
}

impl<'a> Drawing<'a> {
    pub(super) fn new(wanted: Option<&'a str>, format: FlowFormat, live: bool) -> Self {
        Drawing {
            wanted,
            format,
            width: width(),
            drawn: 0,
            held: Vec::new(),
            live,
            calls: Listed::default(),
            flows: Listed::default(),
        }
    }

    /// Notes the calls and flows of a window's whole model (before the selection), for the
    /// error when `--call` matches none.
    pub(super) fn list(&mut self, model: &crate::dialog::Model) {
        if self.wanted.is_none() || self.drawn > 0 {
            return;
        }
        for c in &model.calls {
            self.calls
                .push(|| format!("{} ({})", c.index, printable(&c.call_id)));
        }
        for f in &model.flows {
            self.flows
                .push(|| format!("F{} ({})", f.index, printable(&f.call_id)));
        }
    }

    /// Draws what this window holds of the wanted conversations into `out`.
    pub(super) fn add(&mut self, ctx: &Context<'_>, out: &mut Vec<u8>) -> io::Result<()> {
        let model = ctx.model;
        let convs = match self.wanted {
            None => model
                .calls
                .iter()
                // One drawing per B2BUA group, at its first call the selection kept.
                .filter(|c| {
                    !model
                        .calls
                        .iter()
                        .any(|o| o.group == c.group && o.index < c.index)
                })
                .map(|c| Conversation::of_call(ctx, c))
                .collect(),
            // The first match in the run, as one model of it would give.
            Some(_) if self.drawn > 0 => return Ok(()),
            Some(wanted) => match find(ctx, wanted) {
                Some(conv) => vec![conv],
                None => return Ok(()),
            },
        };
        for conv in &convs {
            let layout = Layout::new(ctx, conv);
            let syntax = match self.format {
                FlowFormat::Ascii => {
                    if self.drawn > 0 {
                        writeln!(out)?;
                    }
                    ascii::write_layout(ctx, &layout, self.width, out)?;
                    self.drawn += 1;
                    continue;
                }
                FlowFormat::Mermaid => Syntax::Mermaid,
                FlowFormat::Plantuml => Syntax::PlantUml,
            };
            // Live, each diagram is written as its call ends, a blank line between two.
            if self.live {
                if self.drawn > 0 {
                    writeln!(out)?;
                }
                sequence::write(&layout, syntax, out)?;
                self.drawn += 1;
                continue;
            }
            // A sequence diagram draws one conversation: the first is held, the others counted.
            if self.drawn == 0 {
                sequence::write(&layout, syntax, &mut self.held)?;
            }
            self.drawn += 1;
        }
        Ok(())
    }

    /// What is left to write once the run is over: a held sequence diagram, or why nothing
    /// could be drawn (a usage error, not a broken file).
    pub(super) fn finish(self) -> Result<Vec<u8>, UsageError> {
        if let Some(wanted) = self.wanted
            && self.drawn == 0
        {
            let mut ids = self.calls.items;
            ids.extend(self.flows.items);
            let more = self.calls.more + self.flows.more;
            let available = if ids.is_empty() {
                "the inputs contain no calls".to_string()
            } else if more > 0 {
                format!("available: {} and {more} more", ids.join(", "))
            } else {
                format!("available: {}", ids.join(", "))
            };
            return Err(UsageError::NoSuchCall {
                wanted: printable(wanted),
                available,
            });
        }
        if self.live {
            return Ok(Vec::new());
        }
        let format = match self.format {
            FlowFormat::Ascii => return Ok(Vec::new()),
            FlowFormat::Mermaid => "mermaid",
            FlowFormat::Plantuml => "plantuml",
        };
        if self.drawn == 1 {
            Ok(self.held)
        } else {
            Err(UsageError::OneCall {
                format,
                count: self.drawn,
            })
        }
    }
}

/// The width the terminal ladder fits: `COLUMNS` when set to a number, else the terminal's
/// when stdout is one; none when writing to a file or pipe (lines are then as long as they
/// need to be).
fn width() -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    columns.or_else(|| {
        io::stdout()
            .is_terminal()
            .then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
            .flatten()
    })
}

/// The call (with its B2BUA legs) or flow named by its Call-ID, its index or `F<n>`.
fn find(ctx: &Context<'_>, wanted: &str) -> Option<Conversation> {
    let model = ctx.model;
    if let Some(c) = model.find_call(wanted) {
        return Some(Conversation::of_call(ctx, c));
    }
    wanted
        .strip_prefix(['F', 'f'])
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| model.flows.iter().find(|f| f.index == n))
        .or_else(|| model.flows.iter().find(|f| f.call_id == wanted))
        .map(Conversation::of_flow)
}
