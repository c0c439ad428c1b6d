//! `--filter name=...` of `ps` and `volume ls`: a regular expression, as Docker's
//! (`filters.Match`), refused with one line when it does not compile.

use anyhow::bail;
use regex::Regex;

pub fn compile(value: &str) -> anyhow::Result<Regex> {
    match Regex::new(value) {
        Ok(re) => Ok(re),
        Err(e) => {
            // The parser's message spans lines (pattern, caret, reason): keep the reason.
            let text = e.to_string();
            let reason = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            let reason = reason.trim().trim_start_matches("error: ");
            bail!("invalid filter 'name={value}': not a regular expression: {reason}")
        }
    }
}
