//! `.env` files and service `env_file`s, parsed as compose-go's `dotenv` package does:
//! `KEY=VALUE` or `KEY: VALUE` statements, `export` prefixes, comments, quoting rules,
//! escapes in double quotes, and `${VAR}` interpolation from the process environment
//! first and then from the keys already read.
use indexmap::IndexMap;

use crate::error::{ConfigError, Warnings};
use crate::gojson::go_quote;
use crate::interpolate::substitute_template;
use crate::yaml::Mark;

/// Parses dotenv text. A key written without `=` takes its value from `lookup`; when the
/// lookup has none it maps to `None`. `file` is used in error messages.
pub fn parse(
    src: &str,
    file: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<IndexMap<String, Option<String>>, ConfigError> {
    parse_with_warnings(src, file, lookup, &mut Warnings::default())
}

/// [`parse`], reporting unset variables met while interpolating values the way
/// Compose does (`The "X" variable is not set. Defaulting to a blank string.`).
pub fn parse_with_warnings(
    src: &str,
    file: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Warnings,
) -> Result<IndexMap<String, Option<String>>, ConfigError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut parser = Parser {
        src,
        file,
        lookup,
        warnings,
        out: IndexMap::new(),
    };
    parser.run()?;
    Ok(parser.out)
}

struct Parser<'a, 'w> {
    src: &'a str,
    file: &'a str,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    warnings: &'w mut Warnings,
    out: IndexMap<String, Option<String>>,
}

/// compose-go's `isSpace`: blanks that do not end a line.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

fn trim_space_start(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

impl Parser<'_, '_> {
    fn run(&mut self) -> Result<(), ConfigError> {
        let mut pos = 0;
        while let Some(start) = self.statement_start(pos) {
            pos = self.statement(start)?;
        }
        Ok(())
    }

    /// Skips blank and comment lines; `None` at the end of the text.
    fn statement_start(&self, mut pos: usize) -> Option<usize> {
        loop {
            let rest = self.src.get(pos..)?;
            let offset = rest.find(|c: char| !c.is_whitespace())?;
            pos += offset;
            if !rest[offset..].starts_with('#') {
                return Some(pos);
            }
            pos += rest[offset..].find('\n')?;
        }
    }

    /// Reads one statement starting at `start`; returns where the next one may start.
    fn statement(&mut self, start: usize) -> Result<usize, ConfigError> {
        let (key, value_pos, inherited) = self.key(start)?;
        if key.contains(' ') {
            return Err(self.error(start, "key cannot contain a space"));
        }
        if inherited {
            let value = (self.lookup)(&key);
            self.out.insert(key, value);
            return Ok(value_pos);
        }
        let (value, next) = self.value(value_pos)?;
        self.out.insert(key, Some(value));
        Ok(next)
    }

    /// The key of the statement at `start`, where its value starts, and whether the
    /// key stood alone on its line (its value then comes from the environment).
    fn key(&self, start: usize) -> Result<(String, usize, bool), ConfigError> {
        let stmt = &self.src[start..];
        let stmt = match stmt.strip_prefix("export") {
            // `export` counts as a prefix only when blanks follow it (`exportX=1` is a key)
            Some(after) if after.starts_with([' ', '\t', '\n', '\r', '\u{c}']) => {
                trim_space_start(after)
            }
            _ => stmt,
        };
        let base = self.src.len() - stmt.len();
        for (i, c) in stmt.char_indices() {
            match c {
                c if is_space(c) => {}
                '=' | ':' | '\n' => {
                    let key = stmt[..i].trim_end().to_string();
                    let rest = trim_space_start(&stmt[i + 1..]);
                    return Ok((key, self.src.len() - rest.len(), c == '\n'));
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphabetic() || c.is_numeric() => {}
                c => {
                    let line = stmt.split('\n').next().unwrap_or_default();
                    let msg = format!(
                        "unexpected character {} in variable name {}",
                        go_quote(&c.to_string()),
                        go_quote(line)
                    );
                    return Err(self.error(base + i, msg));
                }
            }
        }
        // compose-go quirk: a last line without `=` nor newline is the value of an
        // empty key
        Ok((String::new(), base, false))
    }

    /// The value starting at `pos` and where the text after it starts.
    fn value(&mut self, pos: usize) -> Result<(String, usize), ConfigError> {
        let rest = &self.src[pos..];
        let quote = match rest.chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => return self.unquoted(pos),
        };
        let Some((raw, len)) = quoted_body(rest, quote) else {
            let line = rest.split('\n').next().unwrap_or_default();
            return Err(self.error(pos, format!("unterminated quoted value {line}")));
        };
        let value = if quote == '"' {
            self.expand(&expand_escapes(&raw), pos)?
        } else {
            raw
        };
        Ok((value, pos + len))
    }

    /// An unquoted value runs to the end of the line; ` #` starts a comment.
    fn unquoted(&mut self, pos: usize) -> Result<(String, usize), ConfigError> {
        let rest = &self.src[pos..];
        let (line, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], pos + i + 1),
            None => (rest, self.src.len()),
        };
        let line = line.split(" #").next().unwrap_or_default().trim_end();
        Ok((self.expand(line, pos)?, next))
    }

    /// Interpolates a value: the process environment wins over keys read earlier.
    fn expand(&mut self, value: &str, pos: usize) -> Result<String, ConfigError> {
        let out = &self.out;
        let lookup = self.lookup;
        let mapping = |k: &str| lookup(k).or_else(|| out.get(k).cloned().flatten());
        substitute_template(value, &mapping, self.warnings)
            .map_err(|e| self.error(pos, e.to_string()))
    }

    fn error(&self, pos: usize, msg: impl Into<String>) -> ConfigError {
        let before = self.src.get(..pos).unwrap_or(self.src);
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        let mark = Mark::new(self.file.into(), to_u32(line), to_u32(col));
        ConfigError::at(&mark, "", msg)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The text between `quote` at the start of `s` and the matching closing quote, with
/// the backslash of an escaped quote removed (other backslashes are kept for
/// [`expand_escapes`]), and the length consumed including both quotes.
fn quoted_body(s: &str, quote: char) -> Option<(String, usize)> {
    let mut body = String::new();
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if c == quote && !escaped {
            return Some((body, i + c.len_utf8()));
        }
        if c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        if escaped && c != quote {
            body.push('\\');
        }
        escaped = false;
        body.push(c);
    }
    None
}

/// Escapes of double-quoted values: `\a \b \f \n \r \t \v \\ \"`, octal `\0NNN`, and
/// `\$`, which becomes `$$` so that interpolation leaves a literal `$`. Anything else
/// (`\x`, `\u`, `\c`...) is kept as written.
fn expand_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&next) = chars.peek() else {
            out.push('\\');
            break;
        };
        let simple = match next {
            'a' => Some("\u{7}"),
            'b' => Some("\u{8}"),
            'f' => Some("\u{c}"),
            'n' => Some("\n"),
            'r' => Some("\r"),
            't' => Some("\t"),
            'v' => Some("\u{b}"),
            '\\' => Some("\\"),
            '"' => Some("\""),
            '$' => Some("$$"),
            'c' => Some("\\c"),
            _ => None,
        };
        if let Some(rep) = simple {
            chars.next();
            out.push_str(rep);
        } else if next == '0' {
            chars.next();
            let mut digits = String::new();
            while digits.len() < 3 {
                match chars.peek() {
                    Some(&d) if d.is_ascii_digit() => {
                        digits.push(d);
                        chars.next();
                    }
                    _ => break,
                }
            }
            out.push_str(&octal_escape(&digits));
        } else {
            out.push('\\');
        }
    }
    out
}

/// `\0NNN`: three octal digits up to 0377 give that code point; anything else is
/// kept, minus its `0` (compose-go rewrites `\0` to `\` before unquoting).
fn octal_escape(digits: &str) -> String {
    let code = (digits.len() == 3)
        .then(|| u32::from_str_radix(digits, 8).ok())
        .flatten()
        .filter(|&v| v <= 0o377)
        .and_then(char::from_u32);
    match code {
        Some(c) => c.to_string(),
        None => format!("\\{digits}"),
    }
}

#[cfg(test)]
mod tests;
