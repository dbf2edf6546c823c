//! A simplified ITU-T G.107 E-model: R-factor and MOS from loss, jitter and delay.
//!
//! Assumed, as VoIPmonitor's and most monitors' simplified model does: G.711 without packet
//! loss concealment beyond random loss (Ie = 0, Bpl = 25.1 for PCMU/PCMA with PLC; other codecs
//! use the same figures, which overrates low-bitrate codecs), random loss (BurstR = 1), a
//! one-way delay of 0 ms network + the jitter buffer taken as twice the max jitter + 20 ms
//! packetisation, and the default R0 = 93.2. So the score says what loss and jitter cost, not
//! what the codec or the real path delay does.

/// The R-factor for `loss` (0..1 of the packets) and the max jitter (seconds).
pub fn r_factor(loss: f64, max_jitter_s: f64) -> f64 {
    const R0: f64 = 93.2;
    const IE: f64 = 0.0;
    const BPL: f64 = 25.1;
    let delay_ms = 2.0 * max_jitter_s * 1000.0 + 20.0;
    // G.107 Id, the delay impairment, in its usual two-piece approximation.
    let id = 0.024 * delay_ms
        + if delay_ms > 177.3 {
            0.11 * (delay_ms - 177.3)
        } else {
            0.0
        };
    let ppl = (loss.clamp(0.0, 1.0)) * 100.0;
    let ie_eff = IE + (95.0 - IE) * ppl / (ppl + BPL);
    (R0 - id - ie_eff).clamp(0.0, 100.0)
}

/// The MOS (1–4.5) of an R-factor (G.107 Annex B).
pub fn mos(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}
