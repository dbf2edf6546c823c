//! B2BUA legs: calls that are one end-to-end call, linked in a petgraph graph.
//!
//! Two calls are legs of one call when they share a Call-ID (under other From tags: a B2BUA or
//! SBC that keeps the Call-ID, a retry with a new tag), or when a correlation header of one
//! names the other: `X-Call-ID`/`X-CID`-style headers carry the other leg's Call-ID, and
//! `Session-ID` (RFC 7989) carries session UUIDs that both legs share. The header list is configurable. Each
//! connected component of the graph becomes one group. Owns only this linking.

use std::collections::BTreeMap;

use crate::hash::Map;

use petgraph::graph::UnGraph;

use super::Model;

/// The RFC 7989 null UUID, which links nothing.
const NULL_UUID: &str = "00000000000000000000000000000000";

/// Correlation values a call's messages carry: (is Session-ID, value).
fn correlation_values(model: &Model, call: usize, headers: &[String]) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    for &w in &model.calls[call].messages {
        let Some(msg) = model.message(w).parsed() else {
            continue;
        };
        for name in headers {
            let Some(v) = msg.first_named(name) else {
                continue;
            };
            if name.eq_ignore_ascii_case("Session-ID") {
                out.extend(session_uuids(&v).map(|u| (true, u)));
            } else {
                out.push((false, v.trim().to_string()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The local and `remote=` UUIDs of a Session-ID value, lowercased, without the null UUID.
fn session_uuids(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(';')
        .map(|p| p.trim().trim_start_matches("remote=").to_ascii_lowercase())
        .filter(|u| u.len() == 32 && u != NULL_UUID && u.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn link(model: &mut Model, headers: &[String]) {
    let n = model.calls.len();
    let mut graph: UnGraph<usize, ()> = UnGraph::with_capacity(n, 0);
    let nodes: Vec<_> = (0..n).map(|c| graph.add_node(c)).collect();
    let by_call_id: Map<&str, Vec<usize>> =
        model
            .calls
            .iter()
            .enumerate()
            .fold(Map::default(), |mut m, (i, c)| {
                m.entry(c.call_id.as_str()).or_default().push(i);
                m
            });
    let mut by_uuid: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut edges = Vec::new();
    for c in 0..n {
        for (is_session, value) in correlation_values(model, c, headers) {
            if is_session {
                by_uuid.entry(value).or_default().push(c);
            } else if let Some(others) = by_call_id.get(value.as_str()) {
                edges.extend(others.iter().filter(|&&o| o != c).map(|&o| (c, o)));
            }
        }
    }
    // Calls that share a Call-ID under other From tags are legs of one call too: a B2BUA or
    // SBC that keeps the Call-ID but rewrites the tags, or a UA that retries with a new tag.
    for calls in by_uuid.values().chain(by_call_id.values()) {
        edges.extend(calls.windows(2).map(|w| (w[0], w[1])));
    }
    for (a, b) in edges {
        if a != b && graph.find_edge(nodes[a], nodes[b]).is_none() {
            graph.add_edge(nodes[a], nodes[b], ());
        }
    }
    for component in petgraph::algo::kosaraju_scc(&graph) {
        let mut members: Vec<usize> = component.iter().map(|&nx| graph[nx]).collect();
        members.sort_unstable();
        let group = members.first().map_or(0, |&c| model.calls[c].index);
        for &c in &members {
            model.calls[c].group = group;
            model.calls[c].linked = members
                .iter()
                .filter(|&&o| o != c)
                .map(|&o| model.calls[o].index)
                .collect();
        }
    }
}
