//! `sipflow flow`: which calls to draw, and drawing them.

use std::io::{self, Write};

use super::{FlowFormat, UsageError};
use crate::dialog::Model;
use crate::report::Context;
use crate::report::ladder::sequence::{self, Syntax};
use crate::report::ladder::{Conversation, Layout, ascii};

/// The ladders to draw: the wanted call (with its B2BUA legs) or flow, or every call group.
pub(super) fn select(model: &Model, wanted: Option<&str>) -> Result<Vec<Conversation>, UsageError> {
    let Some(wanted) = wanted else {
        return Ok(model
            .calls
            .iter()
            .filter(|c| c.group == c.index)
            .map(|c| Conversation::of_call(model, c))
            .collect());
    };
    if let Some(c) = model.find_call(wanted) {
        return Ok(vec![Conversation::of_call(model, c)]);
    }
    let flow = wanted
        .strip_prefix(['F', 'f'])
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| model.flows.iter().find(|f| f.index == n))
        .or_else(|| model.flows.iter().find(|f| f.call_id == wanted));
    if let Some(f) = flow {
        return Ok(vec![Conversation::of_flow(f)]);
    }
    let mut ids: Vec<String> = model
        .calls
        .iter()
        .map(|c| format!("{} ({})", c.index, c.call_id))
        .collect();
    ids.extend(
        model
            .flows
            .iter()
            .map(|f| format!("F{} ({})", f.index, f.call_id)),
    );
    let available = if ids.is_empty() {
        "the inputs contain no calls".to_string()
    } else {
        format!("available: {}", ids.join(", "))
    };
    Err(UsageError::NoSuchCall {
        wanted: wanted.to_string(),
        available,
    })
}

/// A sequence diagram draws one conversation: more is a usage error, not a broken file.
pub(super) fn check_count(
    format: FlowFormat,
    convs: Vec<Conversation>,
) -> Result<Vec<Conversation>, UsageError> {
    let name = match format {
        FlowFormat::Ascii => return Ok(convs),
        FlowFormat::Mermaid => "mermaid",
        FlowFormat::Plantuml => "plantuml",
    };
    if convs.len() == 1 {
        Ok(convs)
    } else {
        Err(UsageError::OneCall {
            format: name,
            count: convs.len(),
        })
    }
}

pub(super) fn write_ladders(
    ctx: &Context<'_>,
    convs: &[Conversation],
    format: FlowFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    for (i, conv) in convs.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let layout = Layout::new(ctx, conv);
        match format {
            FlowFormat::Ascii => ascii::write_layout(ctx, &layout, out)?,
            FlowFormat::Mermaid => sequence::write(&layout, Syntax::Mermaid, out)?,
            FlowFormat::Plantuml => sequence::write(&layout, Syntax::PlantUml, out)?,
        }
    }
    Ok(())
}
