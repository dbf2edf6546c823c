//! Renderers of findings for `sipflow check`: one file per format. Each takes the same
//! [`Located`] view of a finding, so that every format says the same thing.

pub mod concise;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use super::Context;
use crate::dialog::Owner;
use crate::event::{Locator, Timestamp};
use crate::rules::{Finding, Severity};

/// Where a piece of evidence is, resolved for output (its texts borrowed from the model, the
/// inputs and the finding).
#[derive(Debug, Clone, Serialize)]
pub struct Place<'a> {
    pub input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<&'a [u64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<Timestamp>,
    pub label: &'a str,
}

/// A finding with its call and places resolved.
#[derive(Debug, Clone)]
pub struct Located<'a> {
    pub finding: &'a Finding,
    /// 1-based index in `sipflow calls`, if the finding is about a call.
    pub call: Option<usize>,
    pub call_id: Option<&'a str>,
    pub places: Vec<Place<'a>>,
}

impl<'a> Located<'a> {
    /// The primary place: the first evidence, or the input the finding is about.
    pub fn primary(&self) -> Option<&Place<'a>> {
        self.places.first()
    }
}

pub fn locate<'a>(ctx: &Context<'a>, finding: &'a Finding) -> Located<'a> {
    let model = ctx.model;
    let (call, call_id) = match finding.owner {
        Some(Owner::Call(c)) => model
            .calls
            .get(c)
            .map_or((None, None), |c| (Some(c.index), Some(c.call_id.as_str()))),
        Some(Owner::Flow(f)) => model
            .flows
            .get(f)
            .map_or((None, None), |f| (None, Some(f.call_id.as_str()))),
        None => (None, None),
    };
    let inputs = ctx.inputs;
    let input_name = |i: usize| inputs.get(i).map_or("?", |i| i.name.as_str());
    let mut places: Vec<Place<'a>> = finding
        .evidence
        .iter()
        .filter_map(|e| {
            let ev = model.events.get(e.event)?;
            let origin = ev.origin();
            let (line, frame) = match &origin.locator {
                Locator::Text { line, .. } => (Some(*line), None),
                Locator::Frames(f) => (None, Some(f.as_slice())),
            };
            Some(Place {
                input: input_name(origin.input),
                line,
                frame,
                ts: Some(ev.ts()),
                label: &e.label,
            })
        })
        .collect();
    if let Some(i) = finding.input {
        places.push(Place {
            input: input_name(i),
            line: Some(1),
            frame: None,
            ts: None,
            label: &finding.message,
        });
    }
    Located {
        finding,
        call,
        call_id,
        places,
    }
}

/// Counts by severity, for summaries.
pub fn count(located: &[Located<'_>], sev: Severity) -> usize {
    located.iter().filter(|l| l.finding.severity == sev).count()
}

/// `caller.log:35` or `call.pcap frame 12`.
pub fn place_text(p: &Place<'_>) -> String {
    PlaceText(p).to_string()
}

/// [`place_text`], written where it goes (no text built).
pub struct PlaceText<'p, 'a>(pub &'p Place<'a>);

impl fmt::Display for PlaceText<'_, '_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        match (&p.line, &p.frame) {
            (Some(l), _) => write!(out, "{}:{l}", p.input),
            (None, Some(frames)) => {
                write!(out, "{} frame ", p.input)?;
                for (i, f) in frames.iter().enumerate() {
                    if i > 0 {
                        out.write_str(",")?;
                    }
                    write!(out, "{f}")?;
                }
                Ok(())
            }
            (None, None) => out.write_str(p.input),
        }
    }
}

/// [`crate::report::printable`] without a copy when there is nothing to replace (printable
/// ASCII, the common case).
pub fn printable(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(crate::report::printable(s))
    }
}
