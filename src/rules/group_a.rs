//! Rules written in parallel (group A); merged into the flat registry when done.

use super::Rule;

pub(super) const RULES: &[&Rule] = &[];
