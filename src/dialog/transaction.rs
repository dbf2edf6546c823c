//! Transactions, matched as RFC 3261 §17.1.3 / §17.2.3 say.
//!
//! Owns: the transaction key of a message (top Via branch + sent-by + method, where ACK and
//! CANCEL count as INVITE so that CANCEL and a non-2xx ACK join their INVITE transaction; the
//! RFC 2543 fallback when the branch lacks the `z9hG4bK` cookie) and the retransmission test.
//! Does not own: dialogs or calls ([`super`]).

use std::collections::HashSet;

use crate::sip::SipMessage;

/// Identifies one transaction, independent of which side observed it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TsxKey {
    /// RFC 3261: branch, sent-by, method.
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: String,
    },
    /// RFC 2543 fallback: Call-ID, CSeq number, method, From tag and top Via sent-by.
    Rfc2543 {
        call_id: String,
        seq: u32,
        method: String,
        from_tag: String,
        sent_by: String,
    },
}

/// The method that names the transaction: ACK and CANCEL belong to the INVITE.
fn tsx_method(method: &str) -> String {
    match method {
        "ACK" | "CANCEL" => "INVITE".to_string(),
        m => m.to_string(),
    }
}

impl TsxKey {
    /// The key of a request or response. A request names its transaction by its own method
    /// (RFC 3261 §17.2.3), so that a copy cut before its CSeq (the end of an excerpt) still
    /// joins it; a response by its CSeq method.
    pub fn of(msg: &SipMessage) -> Option<TsxKey> {
        let via = msg.top_via()?;
        let method = tsx_method(&msg.method_or_cseq_method()?);
        let sent_by = via.sent_by().to_ascii_lowercase();
        match &via.branch {
            Some(branch) if branch.starts_with("z9hG4bK") => Some(TsxKey::Rfc3261 {
                branch: branch.clone(),
                sent_by,
                method,
            }),
            _ => Some(TsxKey::Rfc2543 {
                call_id: msg.call_id()?.into_owned(),
                seq: msg.cseq()?.seq,
                method,
                from_tag: msg.from()?.tag().unwrap_or_default().to_string(),
                sent_by,
            }),
        }
    }
}

/// One transaction: its messages (indexes into the model's wire messages) and what they say.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub key: TsxKey,
    /// The method of the request that opened it (as seen: ACK for a 2xx ACK).
    pub method: String,
    pub messages: Vec<usize>,
    /// The first final (>= 200) response code to the transaction's own method.
    pub final_status: Option<u16>,
    pub retransmissions: u32,
    /// What has been seen already, to tell retransmissions apart.
    seen: HashSet<String>,
}

impl Transaction {
    pub fn new(key: TsxKey, method: String) -> Self {
        Transaction {
            key,
            method,
            messages: Vec::new(),
            final_status: None,
            retransmissions: 0,
            seen: HashSet::new(),
        }
    }

    /// Adds a message and says whether it repeats one already in the transaction (a request
    /// with the same method, or a response with the same status and To tag, for the same CSeq
    /// method).
    pub fn add(&mut self, index: usize, msg: &SipMessage) -> bool {
        self.messages.push(index);
        let cseq_method = msg.cseq().map(|c| c.method.as_str()).unwrap_or_default();
        let what = match (msg.method(), msg.status()) {
            (Some(m), _) => m.to_string(),
            (None, Some(code)) => {
                let tag = msg.to_tag();
                format!("{code} {cseq_method} {}", tag.unwrap_or_default())
            }
            _ => String::new(),
        };
        if let Some(code) = msg.status()
            && code >= 200
            && self.final_status.is_none()
            && cseq_method == self.method
        {
            self.final_status = Some(code);
        }
        let fresh = self.seen.insert(what);
        if !fresh {
            self.retransmissions += 1;
        }
        !fresh
    }
}
