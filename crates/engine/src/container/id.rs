//! Container ids (64 hex digits, random, like Docker's) and generated names
//! (`adjective_surname`, like Docker's, from berth's own word lists).

use std::io;

/// A fresh id: 32 random bytes from the kernel, in hex. Like Docker, an id whose first 12
/// digits are all numeric is redrawn, so the short id can never be mistaken for a pid.
pub fn new_id() -> io::Result<String> {
    loop {
        let bytes = random_bytes::<32>()?;
        let id = hex::encode(bytes);
        if !id[..12].bytes().all(|b| b.is_ascii_digit()) {
            return Ok(id);
        }
    }
}

/// A generated name such as `brave_hopper`; `attempt` > 0 appends a digit, as Docker does
/// when the first names it tried were taken.
pub fn generated_name(attempt: u32) -> io::Result<String> {
    let [a, b] = random_bytes::<2>()?;
    let adjective = ADJECTIVES[usize::from(a) % ADJECTIVES.len()];
    let surname = SURNAMES[usize::from(b) % SURNAMES.len()];
    Ok(if attempt == 0 {
        format!("{adjective}_{surname}")
    } else {
        format!("{adjective}_{surname}{}", attempt % 10)
    })
}

/// Docker's rule for container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    first_ok
        && name.len() >= 2
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    let mut filled = 0;
    while filled < N {
        let n = rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty())?;
        filled += n;
    }
    Ok(buf)
}

const ADJECTIVES: &[&str] = &[
    "agile", "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "curious",
    "daring", "eager", "earnest", "fair", "fearless", "festive", "gentle", "glad", "golden",
    "happy", "hardy", "honest", "humble", "jolly", "keen", "kind", "lively", "loyal", "lucid",
    "merry", "mighty", "modest", "nimble", "noble", "patient", "peaceful", "plucky", "proud",
    "quick", "quiet", "radiant", "rapid", "serene", "sharp", "silent", "sleek", "steady", "stoic",
    "sunny", "swift", "tender", "tidy", "trusty", "upbeat", "vivid", "warm", "wise", "witty",
    "zealous", "zesty",
];

const SURNAMES: &[&str] = &[
    "agnesi",
    "babbage",
    "banach",
    "bernoulli",
    "boole",
    "cantor",
    "cauchy",
    "chebyshev",
    "curie",
    "darwin",
    "dijkstra",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "feynman",
    "fibonacci",
    "fourier",
    "galois",
    "gauss",
    "germain",
    "goedel",
    "hamilton",
    "hamming",
    "hertz",
    "hilbert",
    "hopper",
    "huffman",
    "hypatia",
    "jacobi",
    "kepler",
    "knuth",
    "kovalevskaya",
    "lamport",
    "laplace",
    "leibniz",
    "liskov",
    "lovelace",
    "maxwell",
    "meitner",
    "mendel",
    "minsky",
    "napier",
    "neumann",
    "newton",
    "noether",
    "pascal",
    "poincare",
    "ramanujan",
    "riemann",
    "ritchie",
    "shannon",
    "somerville",
    "tesla",
    "thompson",
    "turing",
    "volta",
    "wiles",
    "wozniak",
    "zuse",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_and_never_all_numeric_short_ids() {
        for _ in 0..200 {
            let id = new_id().unwrap();
            assert_eq!(id.len(), 64);
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
            assert!(!id[..12].bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn generated_names_are_valid_names() {
        for attempt in 0..20 {
            let name = generated_name(attempt).unwrap();
            assert!(valid_name(&name), "{name}");
            assert!(name.contains('_'));
        }
    }

    #[test]
    fn name_rule_matches_dockers() {
        for ok in ["web", "a1", "my_app.v2-1", "A-b"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "a", "_web", "-web", "web/1", "web app", "wéb"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
