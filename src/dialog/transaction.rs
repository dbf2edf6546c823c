//! Transactions, matched as RFC 3261 §17.1.3 / §17.2.3 say.
//!
//! Owns: the transaction key of a message (top Via branch + sent-by + method, where ACK and
//! CANCEL count as INVITE so that CANCEL and a non-2xx ACK join their INVITE transaction; the
//! RFC 2543 fallback when the branch lacks the `z9hG4bK` cookie) and the retransmission test.
//! Does not own: dialogs or calls ([`super`]).

use std::hash::{Hash, Hasher};

use crate::hash::fingerprint128;
use crate::sip::SipMessage;

/// Identifies one transaction, independent of which side observed it: a 128-bit fingerprint of
/// its parts (RFC 3261: branch, sent-by, method; the RFC 2543 fallback: Call-ID, CSeq number,
/// method, From tag and top Via sent-by), so that keying a message costs no allocation. Two
/// different transactions share a key with a probability of about 2⁻¹²⁸ per pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TsxKey(u128);

/// The method that names the transaction: ACK and CANCEL belong to the INVITE.
fn tsx_method(method: &str) -> &str {
    match method {
        "ACK" | "CANCEL" => "INVITE",
        m => m,
    }
}

/// A Via sent-by as the key sees it: the host compared without case.
struct SentBy<'a>(&'a str, Option<u16>);

impl Hash for SentBy<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        for b in self.0.bytes() {
            h.write_u8(b.to_ascii_lowercase());
        }
        h.write_u8(0xff);
        self.1.hash(h);
    }
}

impl TsxKey {
    /// The key of a request or response. A request names its transaction by its own method
    /// (RFC 3261 §17.2.3), so that a copy cut before its CSeq (the end of an excerpt) still
    /// joins it; a response by its CSeq method.
    pub fn of(msg: &SipMessage) -> Option<TsxKey> {
        let via = msg.top_via_key()?;
        let method = tsx_method(msg.method().or_else(|| msg.cseq_method())?);
        let sent_by = SentBy(via.host, via.port);
        let parts = match via.branch {
            Some(branch) if branch.starts_with("z9hG4bK") => {
                fingerprint128(&(0u8, branch, sent_by, method))
            }
            _ => fingerprint128(&(
                1u8,
                msg.call_id()?,
                msg.cseq()?.seq,
                method,
                msg.from()?.tag().unwrap_or_default(),
                sent_by,
            )),
        };
        Some(TsxKey(parts))
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
    /// Fingerprints of what has been seen already, to tell retransmissions apart (a handful per
    /// transaction: a list).
    seen: Vec<u128>,
}

impl Transaction {
    pub fn new(key: TsxKey, method: String) -> Self {
        Transaction {
            key,
            method,
            messages: Vec::new(),
            final_status: None,
            retransmissions: 0,
            seen: Vec::new(),
        }
    }

    /// Adds a message and says whether it repeats one already in the transaction (a request
    /// with the same method, or a response with the same status and To tag, for the same CSeq
    /// method).
    pub fn add(&mut self, index: usize, msg: &SipMessage) -> bool {
        self.messages.push(index);
        let cseq_method = msg.cseq_method().unwrap_or_default();
        let what = match (msg.method(), msg.status()) {
            (Some(m), _) => fingerprint128(&(0u8, m)),
            (None, Some(code)) => {
                fingerprint128(&(1u8, code, cseq_method, msg.to_tag().unwrap_or_default()))
            }
            _ => fingerprint128(&2u8),
        };
        if let Some(code) = msg.status()
            && code >= 200
            && self.final_status.is_none()
            && cseq_method == self.method
        {
            self.final_status = Some(code);
        }
        let repeat = self.seen.contains(&what);
        if repeat {
            self.retransmissions += 1;
        } else {
            self.seen.push(what);
        }
        repeat
    }
}
