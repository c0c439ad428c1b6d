//! The `${VAR}` template language of compose-go's `template` package, reproduced
//! quirk for quirk: the same matches as its regular expression (leftmost-first, a
//! greedy `(.*)` after an operator that stops at a newline), the same brace counting
//! to split a match into the variable and the rest, and the same errors.

use crate::error::Warnings;
use crate::gojson::go_quote;

/// Why a template could not be substituted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// Malformed syntax; carries the template (or nested default) where it was found.
    Invalid(String),
    /// `${VAR:?reason}` / `${VAR?reason}` with the variable missing.
    MissingRequired { variable: String, reason: String },
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // compose-go's own wording (`%#v` of the template), kept for parity
            TemplateError::Invalid(t) => write!(f, "Invalid template: {}", go_quote(t)),
            TemplateError::MissingRequired { variable, reason } if reason.is_empty() => {
                write!(f, "required variable {variable} is missing a value")
            }
            TemplateError::MissingRequired { variable, reason } => {
                write!(
                    f,
                    "required variable {variable} is missing a value: {reason}"
                )
            }
        }
    }
}

pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One match of compose-go's pattern in a template.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    /// `$$`
    Escaped,
    /// `$NAME`
    Named(&'a str),
    /// `${...}` up to the last `}` the pattern could reach (the whole match).
    Braced(&'a str),
    /// `${` not followed by a valid braced expression.
    Invalid,
}

/// Substitutes every variable of `template`, warning once per unset variable.
pub fn substitute(
    template: &str,
    lookup: Lookup<'_>,
    warnings: &mut Warnings,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut first_error: Option<TemplateError> = None;
    let mut pos = 0;
    // Like Go's ReplaceAllStringFunc: every match is replaced even after an error, and
    // the first error is the one reported.
    while let Some(start) = template[pos..].find('$').map(|i| i + pos) {
        out.push_str(&template[pos..start]);
        let Some((token, len)) = match_at(&template[start..]) else {
            out.push('$');
            pos = start + 1;
            continue;
        };
        let matched = &template[start..start + len];
        match replace(token, matched, lookup, warnings) {
            Ok(value) => out.push_str(&value),
            Err(e) => {
                first_error.get_or_insert(fill_template(e, template));
            }
        }
        pos = start + len;
    }
    out.push_str(&template[pos..]);
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// An invalid-template error learns the template of the innermost call that saw it.
fn fill_template(e: TemplateError, template: &str) -> TemplateError {
    match e {
        TemplateError::Invalid(t) if t.is_empty() => TemplateError::Invalid(template.to_string()),
        other => other,
    }
}

/// Go's regexp `(?i)[_a-z]` also matches the Kelvin sign and the long s.
fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || c == '\u{212A}' || c == '\u{17F}'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// Length in bytes of the variable name at the start of `s` (0 when none).
fn name_len(s: &str) -> usize {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, c)) if is_name_start(c) => {}
        _ => return 0,
    }
    chars
        .find(|&(_, c)| !is_name_char(c))
        .map_or(s.len(), |(i, _)| i)
}

/// Matches the pattern at `s` (which starts with `$`); returns the token and its length.
fn match_at(s: &str) -> Option<(Token<'_>, usize)> {
    let rest = s.get(1..)?;
    if rest.starts_with('$') {
        return Some((Token::Escaped, 2));
    }
    let n = name_len(rest);
    if n > 0 {
        return Some((Token::Named(&rest[..n]), 1 + n));
    }
    let inner = rest.strip_prefix('{')?;
    match braced_len(inner) {
        Some(len) => Some((Token::Braced(&s[..2 + len + 1]), 2 + len + 1)),
        None => Some((Token::Invalid, 2)),
    }
}

/// Length of the braced expression body (without the closing `}`): a name, then
/// optionally an operator and everything up to the last `}` of the line.
fn braced_len(inner: &str) -> Option<usize> {
    let n = name_len(inner);
    if n == 0 {
        return None;
    }
    let after = &inner[n..];
    let op_len = operator_len(after);
    if op_len > 0 {
        let line_end = after.find('\n').unwrap_or(after.len());
        if let Some(close) = after[op_len..line_end].rfind('}') {
            return Some(n + op_len + close);
        }
    }
    after.starts_with('}').then_some(n)
}

/// Length of `:-`, `-`, `:?`, `?`, `:+` or `+` at the start of `s` (0 when none).
fn operator_len(s: &str) -> usize {
    let b = s.as_bytes();
    match b {
        [b':', b'-' | b'+' | b'?', ..] => 2,
        [b'-' | b'+' | b'?', ..] => 1,
        _ => 0,
    }
}

/// compose-go's brace counting: an opening `${` also skips the character after it,
/// so `${}` never closes (the default of `${A:-${}}}` is `${}}`).
fn first_closing_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut open = 0i32;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            open += 1;
            i += 2;
        }
        i += 1;
    }
    None
}

fn replace(
    token: Token<'_>,
    matched: &str,
    lookup: Lookup<'_>,
    warnings: &mut Warnings,
) -> Result<String, TemplateError> {
    match token {
        Token::Escaped => Ok("$".to_string()),
        Token::Invalid => Err(TemplateError::Invalid(String::new())),
        Token::Named(name) => Ok(value_or_warn(name, lookup, warnings)),
        Token::Braced(_) => replace_braced(matched, lookup, warnings),
    }
}

fn value_or_warn(name: &str, lookup: Lookup<'_>, warnings: &mut Warnings) -> String {
    lookup(name).unwrap_or_else(|| {
        warnings.push(format!(
            "The \"{name}\" variable is not set. Defaulting to a blank string."
        ));
        String::new()
    })
}

/// `matched` is a whole `${...}` match: split off what follows the first balanced
/// `}`, apply the operator, then substitute that rest as its own template.
fn replace_braced(
    matched: &str,
    lookup: Lookup<'_>,
    warnings: &mut Warnings,
) -> Result<String, TemplateError> {
    let (head, rest) = match first_closing_brace(matched) {
        Some(i) => matched.split_at(i + 1),
        None => (matched, ""),
    };
    // `head` is `${` + body + `}`; re-matching it yields the body.
    let body = head
        .get(2..head.len().saturating_sub(1))
        .filter(|b| !b.is_empty() && head.ends_with('}'))
        .ok_or_else(|| TemplateError::Invalid(String::new()))?;
    let n = name_len(body);
    if n == 0 || (n < body.len() && operator_len(&body[n..]) == 0) {
        return Err(TemplateError::Invalid(String::new()));
    }
    let name = &body[..n];
    let after = &body[n..];
    let op_len = operator_len(after);
    if op_len == 0 {
        return Ok(value_or_warn(name, lookup, warnings));
    }
    let (op, arg) = after.split_at(op_len);
    let value = apply_operator(name, op, arg, lookup, warnings)?;
    let tail = substitute(rest, lookup, warnings)?;
    Ok(value + &tail)
}

fn apply_operator(
    name: &str,
    op: &str,
    arg: &str,
    lookup: Lookup<'_>,
    warnings: &mut Warnings,
) -> Result<String, TemplateError> {
    // The argument is substituted before the variable is even looked at, so a bad
    // default fails even when it is not needed.
    let arg = substitute(arg, lookup, warnings)?;
    let value = lookup(name);
    let set_and_non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let use_arg = match op {
        ":-" => !set_and_non_empty,
        "-" => value.is_none(),
        ":+" => set_and_non_empty,
        "+" => value.is_some(),
        _ => {
            let ok = if op == ":?" {
                set_and_non_empty
            } else {
                value.is_some()
            };
            if !ok {
                return Err(TemplateError::MissingRequired {
                    variable: name.to_string(),
                    reason: arg,
                });
            }
            false
        }
    };
    Ok(if use_arg {
        arg
    } else {
        value.unwrap_or_default()
    })
}
