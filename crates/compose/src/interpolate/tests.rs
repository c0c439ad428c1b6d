//! Expected values pinned with Docker Compose v2.40.3 (`config --format json`).

use super::*;
use crate::yaml::{Key, Map, Mark};

fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

fn sub(t: &str, vars: &[(&str, &str)]) -> Result<String, TemplateError> {
    substitute_template(t, &env(vars), &mut Warnings::default())
}

fn invalid(t: &str) -> Result<String, TemplateError> {
    Err(TemplateError::Invalid(t.to_string()))
}

const AE: &[(&str, &str)] = &[("A", "a"), ("E", "")];

#[test]
fn plain_forms() {
    assert_eq!(sub("x$A-${A}y", AE), Ok("xa-ay".into()));
    assert_eq!(sub("$A_b", &[("A_b", "1")]), Ok("1".into()));
    assert_eq!(sub("no vars", AE), Ok("no vars".into()));
}

#[test]
fn dollar_not_followed_by_a_name_stays() {
    assert_eq!(sub("$", AE), Ok("$".into()));
    assert_eq!(sub("a$-", AE), Ok("a$-".into()));
    assert_eq!(sub("a$1b", AE), Ok("a$1b".into()));
}

#[test]
fn double_dollar_is_one_dollar() {
    assert_eq!(sub("a$$b $$A $${A}", AE), Ok("a$b $A ${A}".into()));
}

#[test]
fn operators() {
    assert_eq!(
        sub("${A:-x} ${B-y} ${A:+p} ${B+q} ${E:+r}|${E+s}", AE),
        Ok("a y p  |s".into())
    );
    assert_eq!(sub("${E:-d}|${E-d}", AE), Ok("d|".into()));
    assert_eq!(sub("${A:?x}", AE), Ok("a".into()));
    assert_eq!(sub("${E?x}", AE), Ok("".into()));
}

#[test]
fn nested_defaults() {
    assert_eq!(sub("${A:-${B:-c}}-${B:-${E:-d}}", AE), Ok("a-d".into()));
    assert_eq!(sub("${B:-${C:-${A}}} ${A}}", AE), Ok("a a}".into()));
}

#[test]
fn text_after_the_closing_brace_is_substituted() {
    assert_eq!(sub("${A:-x}}y", AE), Ok("a}y".into()));
    assert_eq!(sub("${B:-a}b}c ${A}", AE), Ok("ab}c a".into()));
    assert_eq!(sub("${B:-${A}}}", AE), Ok("a}".into()));
}

#[test]
fn invalid_templates_name_the_template() {
    assert_eq!(sub("x${}y", AE), invalid("x${}y"));
    assert_eq!(sub("x${A", AE), invalid("x${A"));
    assert_eq!(sub("${a.b}", AE), invalid("${a.b}"));
    assert_eq!(sub("${1A}", AE), invalid("${1A}"));
    assert_eq!(sub("${A} ${", AE), invalid("${A} ${"));
    assert_eq!(sub("${A:-x}${", AE), invalid("${A:-x}${"));
    assert_eq!(sub("${B}${", AE), invalid("${B}${"));
}

#[test]
fn invalid_nested_templates_name_the_nested_part() {
    assert_eq!(sub("${B:-${A}", AE), invalid("${A"));
    assert_eq!(sub("${B:-${}}", AE), invalid("${}"));
    assert_eq!(sub("${B:?${}}", AE), invalid("${}"));
    assert_eq!(sub("${A:+${}}", AE), invalid("${}"));
    assert_eq!(sub("${B:-x}${}", AE), invalid("${}"));
    // compose-go's brace counting never closes `${}`
    assert_eq!(sub("${B:-${}}}", AE), invalid("${}}"));
    assert_eq!(sub("${B:-${}} ${A}", AE), invalid("${}} ${A"));
    assert_eq!(sub("z ${B:-${}} ${}", AE), invalid("${}} ${"));
}

#[test]
fn operator_argument_stops_at_newline() {
    assert_eq!(sub("${B:-x\n}", AE), invalid("${B:-x\n}"));
    assert_eq!(sub("${B:-x}\n}", AE), Ok("x\n}".into()));
}

#[test]
fn required_variables() {
    let missing = |v: &str, r: &str| {
        Err(TemplateError::MissingRequired {
            variable: v.into(),
            reason: r.into(),
        })
    };
    assert_eq!(sub("${B:?need b}", AE), missing("B", "need b"));
    assert_eq!(sub("${E:?}", AE), missing("E", ""));
    assert_eq!(sub("${B?}", AE), missing("B", ""));
    assert_eq!(sub("${B?x-y}", AE), missing("B", "x-y"));
    assert_eq!(sub("${B:?oops ${A}}", AE), missing("B", "oops a"));
    assert_eq!(sub("${B:?e1} ${C:?e2}", AE), missing("B", "e1"));
    assert_eq!(
        missing("B", "e1").unwrap_err().to_string(),
        "required variable B is missing a value: e1"
    );
    assert_eq!(
        missing("E", "").unwrap_err().to_string(),
        "required variable E is missing a value"
    );
}

#[test]
fn unset_variables_warn_once_and_default_to_empty() {
    let mut w = Warnings::default();
    let out = substitute("${U}$U${V-x}${W:-${U}}", &env(AE), &mut w);
    assert_eq!(out, Ok(String::new() + "x"));
    assert_eq!(
        w.0,
        vec!["The \"U\" variable is not set. Defaulting to a blank string.".to_string(),]
    );
}

#[test]
fn unused_default_is_still_substituted() {
    // compose-go substitutes the default before looking at the variable
    let mut w = Warnings::default();
    assert_eq!(substitute("${A:-${U}}", &env(AE), &mut w), Ok("a".into()));
    assert_eq!(w.0.len(), 1);
}

#[test]
fn invalid_template_display_is_compose_go_wording() {
    assert_eq!(
        invalid("${").unwrap_err().to_string(),
        "Invalid template: \"${\""
    );
}

// ---- tree walk ----

fn mark(line: u32) -> Mark {
    Mark::new("compose.yaml".into(), line, 5)
}

fn s(v: &str) -> Node {
    Node::string(v, mark(3))
}

fn map(entries: Vec<(&str, Node)>) -> Node {
    let m: Map = entries
        .into_iter()
        .map(|(k, v)| (Key::new(k, mark(1)), v))
        .collect();
    Node::map(m, mark(1))
}

fn service(entries: Vec<(&str, Node)>) -> Node {
    map(vec![("services", map(vec![("web", map(entries))]))])
}

fn run(mut node: Node, vars: &[(&str, &str)]) -> Result<(Node, Warnings), ConfigError> {
    let mut w = Warnings::default();
    interpolate_node(&mut node, &env(vars), &mut w)?;
    Ok((node, w))
}

fn web(node: &Node, key: &str) -> Value {
    node.get("services")
        .and_then(|s| s.get("web"))
        .and_then(|w| w.get(key))
        .map(|n| n.value.clone())
        .unwrap_or(Value::Null)
}

#[test]
fn walk_substitutes_values_not_keys() {
    let doc = service(vec![
        ("image", s("${A}:${T-latest}")),
        ("${A}", s("$A")),
        (
            "command",
            Node::seq(vec![s("$A"), Node::new(Value::Int(3), mark(4))], mark(4)),
        ),
    ]);
    let (out, _) = run(doc, AE).unwrap();
    assert_eq!(web(&out, "image"), Value::String("a:latest".into()));
    assert_eq!(web(&out, "${A}"), Value::String("a".into()));
    assert_eq!(
        web(&out, "command"),
        Value::Seq(vec![s("a"), Node::new(Value::Int(3), mark(4))])
    );
}

#[test]
fn walk_casts_at_typed_paths() {
    let port = map(vec![("target", s("${N}")), ("published", s("${N}"))]);
    let doc = service(vec![
        ("cpu_count", s("${N}")),
        ("cpus", s("${F}")),
        ("init", s("${Y}")),
        ("ports", Node::seq(vec![port], mark(5))),
        ("ulimits", map(vec![("nofile", s("${N}"))])),
        ("mem_limit", s("${N}")),
    ]);
    let vars = [("N", "12"), ("F", "0.5"), ("Y", "yes")];
    let (out, w) = run(doc, &vars).unwrap();
    assert_eq!(web(&out, "cpu_count"), Value::Int(12));
    assert_eq!(web(&out, "cpus"), Value::Float(0.5));
    assert_eq!(web(&out, "init"), Value::Bool(true));
    assert_eq!(web(&out, "mem_limit"), Value::String("12".into()));
    let ports = web(&out, "ports");
    let Value::Seq(ports) = ports else {
        panic!("ports: {ports:?}")
    };
    assert_eq!(
        ports[0].get("target").map(|n| &n.value),
        Some(&Value::Int(12))
    );
    assert_eq!(
        ports[0].get("published").map(|n| &n.value),
        Some(&Value::String("12".into()))
    );
    assert_eq!(
        w.0,
        vec!["\"yes\" for boolean is not supported by YAML 1.2, please use `true`".to_string()]
    );
}

#[test]
fn casts_only_apply_to_strings() {
    let doc = service(vec![("init", Node::new(Value::Int(1), mark(2)))]);
    let (out, _) = run(doc, AE).unwrap();
    assert_eq!(web(&out, "init"), Value::Int(1));
}

#[test]
fn top_level_casts() {
    let doc = map(vec![(
        "networks",
        map(vec![("n", map(vec![("external", s("${T}"))]))]),
    )]);
    let (out, _) = run(doc, &[("T", "true")]).unwrap();
    let ext = out
        .get("networks")
        .and_then(|n| n.get("n"))
        .and_then(|n| n.get("external"));
    assert_eq!(ext.map(|n| &n.value), Some(&Value::Bool(true)));
}

#[test]
fn errors_carry_mark_path_and_message() {
    let err = run(service(vec![("image", s("x${}y"))]), AE).unwrap_err();
    assert_eq!(err.path, "services.web.image");
    assert_eq!(err.mark, Some(mark(3)));
    assert_eq!(
        err.message,
        "invalid interpolation format \"x${}y\": write a literal $ as $$"
    );

    let cmd = Node::seq(vec![s("ok"), s("${B:?oops ${A}}")], mark(4));
    let err = run(service(vec![("command", cmd)]), AE).unwrap_err();
    assert_eq!(err.path, "services.web.command[1]");
    assert_eq!(
        err.message,
        "required variable B is missing a value: oops a"
    );

    let err = run(service(vec![("cpu_count", s("${A}"))]), AE).unwrap_err();
    assert_eq!(err.message, "must be an integer, not \"a\"");

    let err = run(
        service(vec![("ulimits", map(vec![("nofile", s("${U}"))]))]),
        AE,
    )
    .unwrap_err();
    assert_eq!(err.message, "must be an integer, not \"\"");
    let err = run(service(vec![("init", s("${A}"))]), AE).unwrap_err();
    assert_eq!(err.message, "must be true or false, not \"a\"");
}
