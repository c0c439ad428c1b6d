//! Expected values are what Docker Compose v2.40.3 put in `services.*.environment` when
//! loading the same text as an `env_file` (compose-go's dotenv fixtures and more).

use super::*;

fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

fn parse_env(src: &str, vars: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
    match parse(src, ".env", &env(vars)) {
        Ok(m) => m.into_iter().collect(),
        Err(e) => panic!("{e}"),
    }
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect()
}

fn err(src: &str) -> String {
    match parse(src, ".env", &env(&[])) {
        Ok(m) => panic!("parsed: {m:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn plain_fixture() {
    let src = "OPTION_A=1\nOPTION_B=2\nOPTION_C= 3\nOPTION_D =4\nOPTION_E = 5\n456 = ABC\nOPTION_F = \nOPTION_G=\nOPTION_H = my string # Inline comment\n";
    assert_eq!(
        parse_env(src, &[]),
        kv(&[
            ("OPTION_A", "1"),
            ("OPTION_B", "2"),
            ("OPTION_C", "3"),
            ("OPTION_D", "4"),
            ("OPTION_E", "5"),
            ("456", "ABC"),
            ("OPTION_F", ""),
            ("OPTION_G", ""),
            ("OPTION_H", "my string"),
        ])
    );
}

#[test]
fn bom_is_skipped() {
    assert_eq!(
        parse_env("\u{feff}OPTION_A=1\nB=2", &[]),
        kv(&[("OPTION_A", "1"), ("B", "2")])
    );
}

#[test]
fn yaml_style_and_export() {
    assert_eq!(
        parse_env("FOO:BAR\nZOT:QIX", &[]),
        kv(&[("FOO", "BAR"), ("ZOT", "QIX")])
    );
    assert_eq!(
        parse_env(
            "export X=1\nexportY=2\nexport  Z : 3\nexport OPTION_B='\\n'\n",
            &[]
        ),
        kv(&[
            ("X", "1"),
            ("exportY", "2"),
            ("Z", "3"),
            ("OPTION_B", "\\n")
        ])
    );
    assert_eq!(
        parse_env("K1: v1\n  K2 = \"v2\"  \n#c\n  # c2\nK3=\n", &[]),
        kv(&[("K1", "v1"), ("K2", "v2"), ("K3", "")])
    );
}

#[test]
fn comments_need_a_space_before_the_hash() {
    assert_eq!(
        parse_env("X=a#b\nY=a #b\nZ=\"q\" #c\nW=x\t#y\n", &[]),
        kv(&[("X", "a#b"), ("Y", "a"), ("Z", "q"), ("W", "x\t#y")])
    );
}

#[test]
fn quoted_fixture() {
    let src = "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\nOPTION_I = \"echo 'asd'\" # Inline comment\nOPTION_J = 'first line\nsecond line\nthird line\nand so on'\nOPTION_K='Let\\'s go!'\nOPTION_Z = \"last value\"\n";
    assert_eq!(
        parse_env(src, &[]),
        kv(&[
            ("OPTION_A", "1"),
            ("OPTION_B", "2"),
            ("OPTION_C", ""),
            ("OPTION_D", "\\n"),
            ("OPTION_E", "1"),
            ("OPTION_F", "2"),
            ("OPTION_G", ""),
            ("OPTION_H", "\n"),
            ("OPTION_I", "echo 'asd'"),
            ("OPTION_J", "first line\nsecond line\nthird line\nand so on"),
            ("OPTION_K", "Let's go!"),
            ("OPTION_Z", "last value"),
        ])
    );
}

#[test]
fn single_quotes_keep_backslashes() {
    assert_eq!(parse_env("Y='\\n\\\\x'\n", &[]), kv(&[("Y", "\\n\\\\x")]));
}

#[test]
fn double_quote_escapes() {
    let src = r#"X="a\\$A\$A\"\t\x\u00e9\0101"
Y="\a\b\f\v\r\\\"\?\047"
Z="é\é"
"#;
    assert_eq!(
        parse_env(src, &[("A", "a")]),
        kv(&[
            ("X", "a\\a$A\"\t\\x\\u00e9A"),
            ("Y", "\u{7}\u{8}\u{c}\u{b}\r\\\"\\?\\47"),
            ("Z", "é\\é"),
        ])
    );
}

#[test]
fn text_after_a_closing_quote_is_the_next_statement() {
    // `c` stands alone, so it is inherited from the environment
    assert_eq!(
        parse_env("X='a\\'b' c\n", &[]),
        vec![("X".into(), Some("a'b".into())), ("c".into(), None)]
    );
}

#[test]
fn interpolation_prefers_the_environment() {
    let src = "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n";
    let mut w = Warnings::default();
    let out = parse_with_warnings(src, ".env", &env(&[]), &mut w).unwrap();
    let want = kv(&[
        ("OPTION_A", "1"),
        ("OPTION_B", "1"),
        ("OPTION_C", "1"),
        ("OPTION_D", "1_1"),
        ("OPTION_E", ""),
    ]);
    assert_eq!(out.into_iter().collect::<Vec<_>>(), want);
    assert_eq!(
        w.0,
        vec!["The \"OPTION_NOT_DEFINED\" variable is not set. Defaulting to a blank string."]
    );
    // the file's own OPTION_A stays 1, but references to it see the environment's 5
    assert_eq!(
        parse_env(src, &[("OPTION_A", "5")]),
        kv(&[
            ("OPTION_A", "1"),
            ("OPTION_B", "5"),
            ("OPTION_C", "5"),
            ("OPTION_D", "5_5"),
            ("OPTION_E", ""),
        ])
    );
    assert_eq!(
        parse_env(
            "OPTION_A=${OPTION_A:-1}\nB=$OPTION_A\n",
            &[("OPTION_A", "5")]
        ),
        kv(&[("OPTION_A", "5"), ("B", "5")])
    );
}

#[test]
fn no_interpolation_in_single_quotes() {
    assert_eq!(
        parse_env("Z='$A'\nY=\\$A\n", &[("A", "a")]),
        kv(&[("Z", "$A"), ("Y", "\\a")])
    );
}

#[test]
fn inherited_keys() {
    let src = "foo=bar\nVAR_TO_BE_LOADED_FROM_OS_ENV\nbar=baz\n";
    assert_eq!(
        parse_env(
            src,
            &[("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE")]
        ),
        kv(&[
            ("foo", "bar"),
            ("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE"),
            ("bar", "baz")
        ])
    );
    assert_eq!(
        parse_env("VARIABLE_NOT_FOUND\n", &[]),
        vec![("VARIABLE_NOT_FOUND".into(), None)]
    );
}

#[test]
fn crlf_line_endings() {
    assert_eq!(
        parse_env("X=1\r\nY=\"a\r\nb\"\r\nZ\r\nA\r\n", &[("A", "a")]),
        vec![
            ("X".into(), Some("1".into())),
            ("Y".into(), Some("a\r\nb".into())),
            ("Z".into(), None),
            ("A".into(), Some("a".into())),
        ]
    );
}

#[test]
fn special_characters_in_keys() {
    assert_eq!(
        parse_env(
            "VAR.WITH.DOTS=dots\nVAR_WITH_UNDERSCORES=u\nVAR-WITH-DASHES=d\nA[0]=x\n",
            &[]
        ),
        kv(&[
            ("VAR.WITH.DOTS", "dots"),
            ("VAR_WITH_UNDERSCORES", "u"),
            ("VAR-WITH-DASHES", "d"),
            ("A[0]", "x")
        ])
    );
}

#[test]
fn last_line_without_equals_is_an_empty_key() {
    // compose-go quirk, reproduced: Compose v2.40.3 prints `"": "A"`
    assert_eq!(parse_env("X=1\nA", &[]), kv(&[("X", "1"), ("", "A")]));
    assert_eq!(parse_env("=x\n", &[]), kv(&[("", "x")]));
}

#[test]
fn invalid_lines_point_at_file_and_line() {
    let invalid1 = "# some comments\nfoo=\"\n  a\n  multine\n  value\n\"\nINVALID LINE\nzot=qix";
    assert_eq!(err(invalid1), ".env:7:1: key cannot contain a space");
    assert_eq!(
        err("X=ok\n\nY-=1\nb@d=3\n"),
        ".env:4:2: unexpected character \"@\" in variable name \"b@d=3\""
    );
    assert_eq!(
        err("X=\"abc\nY=1\n"),
        ".env:1:3: unterminated quoted value \"abc"
    );
    assert_eq!(
        err("X=\"a\"junk Y=2\n"),
        ".env:1:6: key cannot contain a space"
    );
    assert_eq!(
        err("X=${B:?oops}\n"),
        ".env:1:3: required variable B is missing a value: oops"
    );
    assert_eq!(err("X=${\n"), ".env:1:3: Invalid template: \"${\"");
}
