//! RFC 3261's transaction timers (§17, table 4), for the rules that judge a transaction the
//! input leaves open. Owns the constants only; how long an input goes on after a message is
//! `Context::seen_until`, and what a rule concludes from it is the rule's.

/// T1: the round-trip estimate; the first retransmission interval.
pub(super) const T1_MS: i64 = 500;
/// T2: the cap of non-INVITE requests' and of 2xx retransmission intervals (Timers E and G).
pub(super) const T2_MS: i64 = 4000;
/// 64×T1: Timer B (INVITE), F (non-INVITE) and how long a UAS retransmits a 2xx waiting for
/// its ACK.
pub(super) const TIMER_64T1_MS: i64 = 64 * T1_MS;
/// An input that covers this long after a request saw (nearly) the whole of 64×T1: the last
/// retransmission goes out at 31.5 s, and 2×T1 are left for timer slack and capture timing.
pub(super) const COVERS_64T1_MS: i64 = TIMER_64T1_MS - 2 * T1_MS;
