//! Fixture cases of the rules in `src/rules/group_a.rs`.

use super::rule_cases::RuleCase;

pub const CASES: &[RuleCase] = &[];
