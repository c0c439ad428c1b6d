//! Signal names as Docker accepts them: `SIGTERM`, `TERM`, `term`, `15`. One table for
//! the CLI's flags and the engine's own reading of a container's stop signal.

use rustix::process::Signal;

const SIGNALS: [(&str, i32); 31] = [
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// The signal `text` names, if any.
pub fn parse(text: &str) -> Option<Signal> {
    let upper = text.to_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let number = match name.parse::<i32>() {
        Ok(n) => Some(n),
        Err(_) => SIGNALS.iter().find(|(s, _)| *s == name).map(|(_, n)| *n),
    };
    number.and_then(Signal::from_named_raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("SIGTERM"), Some(Signal::TERM));
        assert_eq!(parse("kill"), Some(Signal::KILL));
        assert_eq!(parse("9"), Some(Signal::KILL));
        assert_eq!(parse("SIGUSR1"), Some(Signal::USR1));
        assert_eq!(parse("BOGUS"), None);
    }
}
