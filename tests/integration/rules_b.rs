//! Fixture cases of the rules in `src/rules/group_b.rs`.

use super::rule_cases::RuleCase;

pub const CASES: &[RuleCase] = &[];
