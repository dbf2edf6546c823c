//! Correlation unit tests on messages taken from the recorded fixtures.

use super::*;
use crate::event::{Cut, Direction, Locator, MessageEvent, Origin, Transport};
use crate::ingest::{IngestOptions, ingest_bytes};

/// The message events of a fixture log, in order.
fn fixture_messages(rel: &str) -> Vec<MessageEvent> {
    let path = format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).expect("fixture");
    let (_, _, events) = ingest_bytes(rel, bytes, &IngestOptions::default()).expect("ingest");
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            Event::Log(_) => None,
        })
        .collect()
}

fn sighting(raw: &[u8], input: usize, direction: Direction, truncated: bool) -> Event {
    Event::Message(MessageEvent {
        ts: Timestamp::default(),
        origin: Origin {
            input,
            locator: Locator::Text {
                line: 1,
                span: 0..raw.len(),
            },
        },
        direction: Some(direction),
        transport: Transport::Udp,
        src: None,
        dst: None,
        handle: None,
        declared_len: None,
        stack_error: None,
        cut: truncated.then_some(Cut::RecordLimit),
        msg: SipMessage::parse(raw),
    })
}

#[test]
fn cut_copies_of_one_message_are_one_wire_message() {
    let invite = fixture_messages("big-invite-cut/caller.log").remove(0);
    assert!(invite.truncated());
    let raw = invite.raw().to_vec();
    let events = vec![
        sighting(&raw, 0, Direction::Tx, true),
        sighting(&raw[..raw.len() - 200], 1, Direction::Rx, true),
    ];
    let model = correlate(events, &CorrelateOptions::default());
    assert_eq!(model.messages.len(), 1);
    assert_eq!(model.messages[0].sightings[..], [0, 1]);
    assert_eq!(model.calls[0].messages, vec![0]);
}

#[test]
fn a_complete_copy_becomes_the_primary() {
    let invite = fixture_messages("basic-call/caller.log").remove(0);
    let raw = invite.raw().to_vec();
    let events = vec![
        sighting(&raw[..raw.len() / 2], 0, Direction::Tx, true),
        sighting(&raw, 1, Direction::Rx, false),
    ];
    let model = correlate(events, &CorrelateOptions::default());
    assert_eq!(model.messages.len(), 1);
    assert_eq!(model.messages[0].event, 1);
}

#[test]
fn a_cut_copy_never_pairs_with_one_from_its_own_input() {
    let invite = fixture_messages("basic-call/caller.log").remove(0);
    let raw = invite.raw().to_vec();
    let events = vec![
        sighting(&raw, 0, Direction::Tx, false),
        sighting(&raw[..100], 0, Direction::Tx, true),
    ];
    let model = correlate(events, &CorrelateOptions::default());
    assert_eq!(model.messages.len(), 2);
    assert_eq!(model.messages[1].sightings[..], [1]);
}

#[test]
fn retransmissions_stay_distinct_and_pair_across_inputs() {
    let invite = fixture_messages("basic-call/caller.log").remove(0);
    let raw = invite.raw().to_vec();
    // The caller sent the INVITE three times; the callee saw two of them.
    let events = vec![
        sighting(&raw, 0, Direction::Tx, false),
        sighting(&raw, 1, Direction::Rx, false),
        sighting(&raw, 0, Direction::Tx, false),
        sighting(&raw, 1, Direction::Rx, false),
        sighting(&raw, 0, Direction::Tx, false),
    ];
    let model = correlate(events, &CorrelateOptions::default());
    assert_eq!(model.messages.len(), 3);
    let sightings: Vec<_> = model
        .messages
        .iter()
        .map(|w| w.sightings.to_vec())
        .collect();
    assert_eq!(sightings, vec![vec![0, 1], vec![2, 3], vec![4]]);
    let retrans: Vec<_> = model.messages.iter().map(|w| w.retransmission).collect();
    assert_eq!(retrans, vec![false, true, true]);
    assert_eq!(model.transactions.len(), 1);
    assert_eq!(model.transactions[0].retransmissions, 2);
    assert_eq!(model.calls[0].retransmissions, 2);
}

#[test]
fn cancel_and_non_2xx_ack_join_the_invite_transaction() {
    let msgs = fixture_messages("cancel-ringing/caller.log");
    let methods: Vec<String> = msgs
        .iter()
        .map(|m| {
            let p = m.parsed().expect("parsed");
            p.method()
                .map_or_else(|| p.status().unwrap_or(0).to_string(), str::to_string)
        })
        .collect();
    assert_eq!(
        methods,
        ["INVITE", "100", "180", "CANCEL", "200", "487", "ACK"]
    );
    let events: Vec<Event> = msgs.into_iter().map(Event::Message).collect();
    let model = correlate(events, &CorrelateOptions::default());
    assert_eq!(model.transactions.len(), 1, "{:?}", model.transactions);
    assert_eq!(model.transactions[0].final_status, Some(487));
    assert_eq!(model.calls[0].outcome, Outcome::Cancelled);
}

#[test]
fn a_2xx_ack_and_the_bye_are_transactions_of_their_own() {
    let events: Vec<Event> = fixture_messages("basic-call/caller.log")
        .into_iter()
        .map(Event::Message)
        .collect();
    let model = correlate(events, &CorrelateOptions::default());
    let methods: Vec<&str> = model
        .transactions
        .iter()
        .map(|t| t.method.as_str())
        .collect();
    assert_eq!(methods, ["INVITE", "ACK", "BYE"]);
}

#[test]
fn dialog_ids_do_not_depend_on_the_observer() {
    assert_eq!(
        call::dialog_id("c", "a", "b"),
        call::dialog_id("c", "b", "a")
    );
}

#[test]
fn call_id_of_an_unparsable_message_is_found_by_line_scan() {
    assert_eq!(
        call_id_in_raw(b"garbage\r\ni:  abc \r\n").as_deref(),
        Some("abc")
    );
    assert_eq!(call_id_in_raw(b"CALL-ID: x\n").as_deref(), Some("x"));
    assert_eq!(call_id_in_raw(b"Call-ID:\n"), None);
}

#[test]
fn a_copy_cut_before_its_cseq_is_a_retransmission_in_its_transaction() {
    // An excerpt that ends inside the second copy of an INVITE (D-Modem issue #4): the copy
    // has its start line and Via (branch) but no Call-ID or CSeq.
    let invite = fixture_messages("basic-call/caller.log").remove(0);
    let raw = invite.raw().to_vec();
    let text = String::from_utf8_lossy(&raw);
    let cut = text.find("\nCall-ID").expect("a Call-ID line");
    let events = vec![
        sighting(&raw, 0, Direction::Tx, false),
        sighting(&raw[..cut], 0, Direction::Tx, true),
    ];
    let model = correlate(events, &CorrelateOptions::default());
    assert_eq!(model.messages.len(), 2);
    assert_eq!(model.transactions.len(), 1);
    assert_eq!(model.messages[1].tsx, Some(0));
    assert!(model.messages[1].retransmission);
    assert_eq!(model.transactions[0].retransmissions, 1);
    // It belongs where its transaction does.
    assert_eq!(model.message_owner[1], Some(Owner::Call(0)));
    assert_eq!(model.calls[0].messages, vec![0, 1]);
}
