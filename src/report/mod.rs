//! Reporters: turn the correlated [`Model`](crate::dialog::Model) into text for people and
//! machines.
//!
//! Owns: one file per output — the `calls` table and its JSON document ([`calls`]), the
//! `events` JSON Lines stream ([`events`]), the ladder layout and its terminal, Mermaid and
//! PlantUML renderings ([`ladder`]), the findings' formats ([`findings`]) and the HTML report
//! ([`html`]); and what a call's messages say about who took part ([`identities`]: addresses,
//! names, numbers, agents), which the report's search matches. Everything here writes to a
//! `dyn Write` and is deterministic: no colour, no wall clock (unless asked for), fixed widths,
//! model order. Does not own: correlation or deciding what is wrong.

pub mod calls;
pub mod endpoints;
pub mod events;
pub mod export;
pub mod findings;
pub mod html;
pub mod identities;
pub mod ladder;
pub mod stats;

use crate::dialog::{Model, Owner};
use crate::ingest::InputInfo;
use crate::rules::Diagnoses;
use crate::sip::status;

/// A line for each input that gives no times, after the human outputs: what that changes.
pub fn write_untimed_notes(
    inputs: &[InputInfo],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    for i in inputs.iter().filter(|i| i.untimed_messages > 0) {
        writeln!(
            out,
            "note: {} gives no times ({} message(s)): they keep the input's order, no interval \
             is measured, and the rules that judge time say nothing about them",
            i.name, i.untimed_messages
        )?;
    }
    Ok(())
}

/// A line per capture with RTP: `call.pcap: RTP 2 stream(s), 380 packet(s), RTCP 10 packet(s)`.
pub fn write_rtp_counts(inputs: &[InputInfo], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    for (i, rtp) in inputs.iter().filter_map(|i| Some((i, i.rtp()?))) {
        writeln!(
            out,
            "{}: RTP {} stream(s), {} packet(s), RTCP {} packet(s)",
            i.name, rtp.streams, rtp.packets, rtp.rtcp_packets
        )?;
    }
    Ok(())
}

/// What a reporter needs: the model and the inputs it came from.
pub struct Context<'a> {
    pub model: &'a Model,
    pub inputs: &'a [InputInfo],
    /// The text of each input (empty for captures), for pointing into it.
    pub sources: &'a [crate::ingest::Source],
    /// What the findings say the final statuses of this model's calls and flows mean
    /// ([`crate::rules::Finding::explains_status`]); [`Diagnoses::NONE`] when no rule ran.
    pub diagnoses: &'a Diagnoses,
    /// The language of the statuses' generic explanations (a finding's diagnosis, JSON keys
    /// and rule names stay English).
    pub lang: status::Lang,
}

impl Context<'_> {
    pub fn input_name(&self, index: usize) -> &str {
        self.inputs.get(index).map_or("?", |i| i.name.as_str())
    }

    /// The input's file name without its directories (what the ladders show), or the name as
    /// given when another input has the same file name.
    pub fn input_file_name(&self, index: usize) -> &str {
        fn base(name: &str) -> &str {
            name.rsplit(['/', '\\']).next().unwrap_or(name)
        }
        let name = self.input_name(index);
        let short = base(name);
        let shared = self
            .inputs
            .iter()
            .enumerate()
            .any(|(i, other)| i != index && base(&other.name) == short);
        if shared || short.is_empty() {
            name
        } else {
            short
        }
    }

    /// What the final status `code` of `owner` (a call or flow of this model) means in this
    /// trace: the diagnosis of a finding that explains it, else the code's generic meaning (in
    /// [`Context::lang`]).
    /// Every output that explains a status goes through here, so that none contradicts a
    /// diagnosis.
    pub fn status_meaning(&self, owner: Owner, code: u16) -> StatusMeaning<'_> {
        let generic = status::explain_in(code, self.lang);
        match self.diagnoses.get(owner).filter(|d| d.code == code) {
            Some(d) => StatusMeaning {
                generic,
                meaning: &d.text,
                action: &d.help,
                by: Some(d.rule.name),
            },
            None => StatusMeaning {
                generic,
                meaning: generic.meaning,
                action: generic.action,
                by: None,
            },
        }
    }
}

/// What a call's or flow's final status means in a trace (see [`Context::status_meaning`]).
pub struct StatusMeaning<'a> {
    /// The code's generic explanation (`sipflow explain CODE`).
    pub generic: status::Explanation,
    /// What it means here: a finding's diagnosis, else the generic meaning.
    pub meaning: &'a str,
    /// What to do: the diagnosing finding's help, else the generic action.
    pub action: &'a str,
    /// The rule whose finding diagnosed it, if one did.
    pub by: Option<&'static str>,
}

impl StatusMeaning<'_> {
    /// `603 Decline: <meaning>`, or `603 Decline, diagnosed by <rule>: <diagnosis>`.
    pub fn line(&self) -> String {
        let by = self
            .by
            .map(|r| format!(", diagnosed by {r}"))
            .unwrap_or_default();
        format!(
            "{} {}{by}: {}",
            self.generic.code, self.generic.reason, self.meaning
        )
    }
}

/// `1.234s`, or `-` when absent.
pub fn fmt_ms(ms: Option<i64>) -> String {
    match ms {
        Some(ms) => format!("{}.{:03}s", ms.div_euclid(1000), ms.rem_euclid(1000)),
        None => "-".to_string(),
    }
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Replaces control characters so that wire data cannot drive the terminal (ESC, BEL, CSI,
/// OSC: clear the screen, set the window title, plant a hyperlink). Every text output shows
/// data from the inputs through this, or through [`printable_lines`].
pub fn printable(s: &str) -> String {
    neutralise(s, &[])
}

/// [`printable`] for text of several lines: line breaks and tabs stay, every other control
/// character is replaced.
pub fn printable_lines(s: &str) -> String {
    neutralise(s, &['\n', '\t'])
}

/// [`printable`] for a raw message shown whole (the HTML report's message panel): CR, LF and
/// tabs stay, so the message keeps its lines and its length; every other control byte (a NUL
/// in a Request-URI, a vertical tab) is replaced.
pub fn printable_raw(s: &str) -> String {
    neutralise(s, &['\r', '\n', '\t'])
}

fn neutralise(s: &str, keep: &[char]) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && !keep.contains(&c) {
                '·'
            } else {
                c
            }
        })
        .collect()
}

/// A value as an element at depth 2 of a pretty-printed document (`serde_json`'s layout), for
/// documents gathered window by window and written whole at the end.
pub(crate) fn pretty_element(value: &impl serde::Serialize) -> std::io::Result<String> {
    pretty_nested(value, "    ")
}

/// `value` pretty-printed, its lines after the first indented by `indent`. JSON strings escape
/// their line breaks, so every line break is the printer's.
pub(crate) fn pretty_nested(
    value: &impl serde::Serialize,
    indent: &str,
) -> std::io::Result<String> {
    let text = serde_json::to_string_pretty(value)?;
    Ok(text.replace('\n', &format!("\n{indent}")))
}

/// `"name": [ items ],` at depth 1 of a pretty-printed document, from items made by
/// [`pretty_element`]; `last` leaves out the trailing comma.
pub(crate) fn write_pretty_array(
    out: &mut dyn std::io::Write,
    name: &str,
    items: &[String],
    last: bool,
) -> std::io::Result<()> {
    let end = if last { "" } else { "," };
    if items.is_empty() {
        return writeln!(out, "  \"{name}\": []{end}");
    }
    writeln!(out, "  \"{name}\": [")?;
    for (i, item) in items.iter().enumerate() {
        let comma = if i + 1 < items.len() { "," } else { "" };
        writeln!(out, "    {item}{comma}")?;
    }
    writeln!(out, "  ]{end}")
}
