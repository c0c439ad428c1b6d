//! Signal flags (`-s`, `--signal`, `--stop-signal`): the engine's names, Docker's error.

use anyhow::bail;
use rustix::process::Signal;

pub fn parse(text: &str) -> anyhow::Result<Signal> {
    match berth_engine::container::signal::parse(text) {
        Some(signal) => Ok(signal),
        None => bail!("invalid signal: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_is_refused_as_docker_words_it() {
        assert_eq!(parse("kill").unwrap(), Signal::KILL);
        assert_eq!(
            parse("BOGUS").unwrap_err().to_string(),
            "invalid signal: BOGUS"
        );
    }
}
