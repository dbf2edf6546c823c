//! The integration tests that need something outside the repository: a program (Chromium and
//! Node.js with the packages of `tests/browser`, PlantUML, Python) or the public traces of `../shared`. They run through
//! libtest-mimic (`harness = false`), so that a test whose prerequisite is missing is counted
//! as "ignored" with the reason in `cargo test`'s summary instead of passing silently. With
//! `CI` set (as `.ci/run` sets it) a missing program fails its test, since `.ci/run` installs
//! them; a missing `../shared` never does (CI has no `../shared`).
//!
//! Each test is a function returning `Result<(), Missing>`; a panic is a failure. The shared
//! helpers and test modules are the integration binary's (`tests/integration/`).

use libtest_mimic::{Arguments, Completion, Trial};

#[allow(dead_code, unused_imports)] // this binary uses a part of the helpers and cases
mod integration {
    pub mod browser;
    pub mod common;
    pub mod derived_text;
    pub mod docs_examples;
    pub mod export;
    pub mod export_tshark;
    pub mod ladder_public;
    pub mod listen;
    pub mod media_rules;
    pub mod media_tshark;
    pub mod needs;
    pub mod public;
    pub mod report_dom;
    // The browser test reports every rule case and snapshot set.
    pub mod rule_cases;
    pub mod rule_cases_calls;
    pub mod rule_cases_media_flow;
    pub mod rule_cases_messages;
    pub mod rule_cases_net;
    pub mod rule_cases_traffic;
    pub mod sarif;
    pub mod search;
    pub mod snapshots;
    pub mod stats_tshark;
}

use integration::needs::Missing;
use integration::{
    browser, derived_text, docs_examples, export, export_tshark, ladder_public, listen,
    media_tshark, public, report_dom, sarif, search, stats_tshark,
};

fn trial(name: &str, test: fn() -> Result<(), Missing>) -> Trial {
    Trial::ignorable_test(name, move || match test() {
        Ok(()) => Ok(Completion::Completed),
        Err(Missing(why)) => Ok(Completion::ignored_with(why)),
    })
}

fn main() {
    let args = Arguments::from_args();
    let trials = vec![
        trial(
            "export_tshark::exported_calls_hold_the_frames_tshark_finds",
            export_tshark::exported_calls_hold_the_frames_tshark_finds,
        ),
        trial(
            "stats_tshark::stats_agree_with_tshark_sip_stat",
            stats_tshark::stats_agree_with_tshark_sip_stat,
        ),
        trial(
            "browser::html_reports_work_in_a_browser",
            browser::html_reports_work_in_a_browser,
        ),
        trial(
            "search::the_report_data_carries_addresses_names_and_agents",
            search::the_report_data_carries_addresses_names_and_agents,
        ),
        trial(
            "search::the_search_finds_addresses_and_names_in_a_browser",
            search::the_search_finds_addresses_and_names_in_a_browser,
        ),
        trial(
            "search::field_terms_select_as_the_options_do_in_a_browser",
            search::field_terms_select_as_the_options_do_in_a_browser,
        ),
        trial(
            "docs_examples::the_sf001_python_example_runs",
            docs_examples::the_sf001_python_example_runs,
        ),
        trial(
            "export::plantuml_export_is_valid_plantuml",
            export::plantuml_export_is_valid_plantuml,
        ),
        trial(
            "ladder_public::one_lane_per_host_on_a_tcp_capture",
            ladder_public::one_lane_per_host_on_a_tcp_capture,
        ),
        trial(
            "ladder_public::lanes_are_named_from_what_the_host_sent_itself",
            ladder_public::lanes_are_named_from_what_the_host_sent_itself,
        ),
        trial(
            "media_tshark::media_streams_agree_with_tshark",
            media_tshark::media_streams_agree_with_tshark,
        ),
        trial(
            "media_tshark::media_rules_on_public_captures",
            media_tshark::media_rules_on_public_captures,
        ),
        trial(
            "public::public_captures_match_tshark_frame_by_frame",
            public::public_captures_match_tshark_frame_by_frame,
        ),
        trial(
            "report_dom::the_call_list_shows_the_date_once_and_times_with_milliseconds",
            report_dom::the_call_list_shows_the_date_once_and_times_with_milliseconds,
        ),
        trial(
            "derived_text::ngrep_texts_give_the_captures_calls",
            derived_text::ngrep_texts_give_the_captures_calls,
        ),
        trial(
            "derived_text::sipgrep_texts_give_the_captures_calls",
            derived_text::sipgrep_texts_give_the_captures_calls,
        ),
        trial(
            "derived_text::tcpdump_texts_give_the_captures_calls",
            derived_text::tcpdump_texts_give_the_captures_calls,
        ),
        trial(
            "derived_text::tshark_hex_texts_give_the_captures_calls",
            derived_text::tshark_hex_texts_give_the_captures_calls,
        ),
        trial(
            "derived_text::tshark_dissection_texts_give_the_captures_calls",
            derived_text::tshark_dissection_texts_give_the_captures_calls,
        ),
        trial(
            "derived_text::tshark_json_texts_give_the_captures_calls",
            derived_text::tshark_json_texts_give_the_captures_calls,
        ),
        trial(
            "derived_text::sngrep_texts_give_the_captures_calls",
            derived_text::sngrep_texts_give_the_captures_calls,
        ),
        trial(
            "listen::listen_matches_check_on_what_sngrep_sends",
            listen::listen_matches_check_on_what_sngrep_sends,
        ),
        trial(
            "listen::listen_rewrites_its_html_report_while_it_runs",
            listen::listen_rewrites_its_html_report_while_it_runs,
        ),
        trial(
            "sarif::sarif_is_valid_sarif_2_1_0",
            sarif::sarif_is_valid_sarif_2_1_0,
        ),
    ];
    libtest_mimic::run(&args, trials).exit();
}
