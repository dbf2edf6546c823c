//! Who sent a wire message to whom, as `ip:port` labels.
//!
//! pjsip dumps and captures say it directly; raw dumps and SIPp traces do not, so the sender of
//! a request is inferred from its top Via and the receiver from the Request-URI, and a response
//! runs opposite to its request. Owns only this inference.

use std::collections::HashMap;

use crate::dialog::Model;
use crate::sip::SipMessage;

/// (from, to) for each given wire message.
pub fn resolve(model: &Model, wires: &[usize]) -> Vec<(String, String)> {
    let mut by_tsx: HashMap<usize, (String, String)> = HashMap::new();
    wires
        .iter()
        .map(|&w| {
            let wire = &model.messages[w];
            let msg = model.message(w).parsed();
            let is_request = msg.is_some_and(SipMessage::is_request);
            let known = (wire.src.clone(), wire.dst.clone());
            let from_tsx = wire.tsx.and_then(|t| by_tsx.get(&t)).map(|(s, d)| {
                if is_request {
                    (s.clone(), d.clone())
                } else {
                    (d.clone(), s.clone())
                }
            });
            let guess = msg.map(guess_endpoints);
            let pick = |k: Option<String>, t: Option<&String>, g: Option<&String>| {
                k.or_else(|| t.cloned())
                    .or_else(|| g.cloned())
                    .unwrap_or_else(|| "?".to_string())
            };
            let src = pick(
                known.0,
                from_tsx.as_ref().map(|p| &p.0),
                guess.as_ref().map(|p| &p.0),
            );
            let dst = pick(
                known.1,
                from_tsx.as_ref().map(|p| &p.1),
                guess.as_ref().map(|p| &p.1),
            );
            if let (Some(t), true) = (wire.tsx, is_request) {
                by_tsx
                    .entry(t)
                    .or_insert_with(|| (src.clone(), dst.clone()));
            }
            (src, dst)
        })
        .collect()
}

/// A request goes from its top Via to its Request-URI host; a response the other way.
fn guess_endpoints(msg: &SipMessage) -> (String, String) {
    let via = msg
        .top_via()
        .map(|v| v.sent_by())
        .unwrap_or_else(|| "?".into());
    let target = match msg.start_line() {
        crate::sip::StartLine::Request { uri, .. } => crate::sip::Uri::parse(uri)
            .map(|u| match u.port {
                Some(p) => format!("{}:{p}", u.host),
                None => u.host,
            })
            .unwrap_or_else(|| "?".into()),
        crate::sip::StartLine::Response { .. } => "?".into(),
    };
    if msg.is_request() {
        (via, target)
    } else {
        (target, via)
    }
}
