//! `--format concise`: one line per finding, `input:line: severity[code name] message`.

use std::io::{self, Write};

use super::{Located, PlaceText, printable};

pub fn write(located: &[Located<'_>], out: &mut dyn Write) -> io::Result<()> {
    for l in located {
        let f = l.finding;
        match l.primary() {
            Some(p) => write!(out, "{}", PlaceText(p))?,
            None => out.write_all(b"-")?,
        }
        write!(out, ": {}[{} {}]", f.severity, f.rule.code, f.rule.name)?;
        if let Some(c) = l.call {
            write!(out, " (call {c})")?;
        }
        writeln!(out, " {}", printable(&f.message))?;
    }
    Ok(())
}
