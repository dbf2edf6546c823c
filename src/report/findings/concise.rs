//! `--format concise`: one line per finding, `input:line: severity[code name] message`.

use std::io::{self, Write};

use super::{Located, place_text};
use crate::report::printable;

pub fn write(located: &[Located<'_>], out: &mut dyn Write) -> io::Result<()> {
    for l in located {
        let f = l.finding;
        let at = l.primary().map_or_else(|| "-".to_string(), place_text);
        let call = l.call.map(|c| format!(" (call {c})")).unwrap_or_default();
        writeln!(
            out,
            "{at}: {}[{} {}]{call} {}",
            f.severity,
            f.rule.code,
            f.rule.name,
            printable(&f.message)
        )?;
    }
    Ok(())
}
