//! Renderers of findings for `sipflow check`: one file per format. Each takes the same
//! [`Located`] view of a finding, so that every format says the same thing.

pub mod concise;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use serde::Serialize;

use super::Context;
use crate::dialog::Owner;
use crate::event::{Locator, Timestamp};
use crate::rules::{Finding, Severity};

/// Where a piece of evidence is, resolved for output.
#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<Timestamp>,
    pub label: String,
}

/// A finding with its call and places resolved.
#[derive(Debug, Clone)]
pub struct Located<'a> {
    pub finding: &'a Finding,
    /// 1-based index in `sipflow calls`, if the finding is about a call.
    pub call: Option<usize>,
    pub call_id: Option<&'a str>,
    pub places: Vec<Place>,
}

impl Located<'_> {
    /// The primary place: the first evidence, or the input the finding is about.
    pub fn primary(&self) -> Option<&Place> {
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
    let mut places: Vec<Place> = finding
        .evidence
        .iter()
        .filter_map(|e| {
            let ev = model.events.get(e.event)?;
            let origin = ev.origin();
            let (line, frame) = match &origin.locator {
                Locator::Text { line, .. } => (Some(*line), None),
                Locator::Frames(f) => (None, Some(f.to_vec())),
            };
            Some(Place {
                input: ctx.input_name(origin.input).to_string(),
                line,
                frame,
                ts: Some(ev.ts()),
                label: e.label.clone(),
            })
        })
        .collect();
    if let Some(i) = finding.input {
        places.push(Place {
            input: ctx.input_name(i).to_string(),
            line: Some(1),
            frame: None,
            ts: None,
            label: finding.message.clone(),
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
pub fn place_text(p: &Place) -> String {
    match (&p.line, &p.frame) {
        (Some(l), _) => format!("{}:{l}", p.input),
        (None, Some(f)) => {
            let frames: Vec<String> = f.iter().map(ToString::to_string).collect();
            format!("{} frame {}", p.input, frames.join(","))
        }
        (None, None) => p.input.clone(),
    }
}
