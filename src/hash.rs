//! Hashing for sipflow's own tables: foldhash instead of std's SipHash, which cost a tenth of
//! the correlation's time (docs/performance.md).
//!
//! Owns: [`Map`] and [`Set`] (hash tables with foldhash's per-process random seed, so that a
//! crafted input cannot aim at one seed), and [`fingerprint`] (a fixed-seed hash, for values
//! that stand for bytes: the same bytes give the same number in every run). Does not own what is
//! hashed or why. Nothing iterates these tables into output: output order is by index.

use std::hash::{BuildHasher, Hash};

/// A hash map with foldhash.
pub type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set with foldhash.
pub type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// A 64-bit hash of `value`, the same in every run.
pub fn fingerprint<T: Hash + ?Sized>(value: &T) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5f1f_7a11).hash_one(value)
}

/// A 128-bit hash of `value`, the same in every run: for keys that must not collide (two
/// seeds).
pub fn fingerprint128<T: Hash + ?Sized>(value: &T) -> u128 {
    let high = foldhash::fast::FixedState::with_seed(0x0dd_ba11).hash_one(value);
    (u128::from(high) << 64) | u128::from(fingerprint(value))
}
