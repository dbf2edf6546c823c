//! All integration tests that need only the repository, built into one binary (as ripgrep
//! does). Those that need a program or `../shared` are in `tests/environment.rs`.

mod integration {
    pub mod check;
    pub mod cli;
    pub mod common;
    pub mod count;
    pub mod explain;
    pub mod export_files;
    pub mod fixtures;
    pub mod flagship;
    pub mod formats;
    pub mod fuzz_regressions;
    pub mod hostile;
    pub mod hostile_files;
    pub mod hygiene;
    pub mod ladder;
    pub mod live;
    pub mod live_formats;
    pub mod media_calls;
    pub mod media_rules;
    pub mod pjsip_logs;
    pub mod real_world;
    pub mod report;
    pub mod rule_cases;
    pub mod rule_cases_calls;
    pub mod rule_cases_media_flow;
    pub mod rule_cases_messages;
    pub mod rule_cases_net;
    pub mod rule_cases_traffic;
    pub mod rule_severity;
    pub mod safety;
    pub mod select;
    pub mod snapshots;
    pub mod stack_logs;
    pub mod stats;
    pub mod streaming;
}
