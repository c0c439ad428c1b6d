//! Per-service rules: every attribute with a short form gets its long form here (ports and
//! volumes have their own modules).

use super::{
    bool_at, child, int_at, invalid_type, is_dropped, item, key, map_at, ports, set_value, str_at,
    volumes,
};
use crate::error::ConfigError;
use crate::yaml::{Map, Node, Value};

/// `services`: each service definition.
pub(super) fn services(node: &mut Node) -> Result<(), ConfigError> {
    let Some(services) = node.as_map_mut() else {
        return Err(invalid_type(node, "services", "services"));
    };
    for (name, service) in services.iter_mut() {
        if is_dropped(service) {
            continue;
        }
        service_attributes(service, &child("services", &name.name))?;
    }
    Ok(())
}

/// What a list entry without `=` means: unset (`environment`, `build.args`) or empty
/// (`labels` and other plain string mappings).
#[derive(Clone, Copy)]
enum Bare {
    Null,
    Empty,
}

fn service_attributes(service: &mut Node, path: &str) -> Result<(), ConfigError> {
    // A service that is not a mapping is the schema validator's to report.
    let Some(attributes) = service.as_map_mut() else {
        return Ok(());
    };
    for (name, value) in attributes.iter_mut() {
        if is_dropped(value) {
            continue;
        }
        let path = child(path, &name.name);
        let path = path.as_str();
        match name.name.as_str() {
            "ports" => ports::ports(value, path)?,
            "expose" => ports::expose(value, path)?,
            "volumes" => volumes::service_volumes(value, path)?,
            "depends_on" => depends_on(value, path)?,
            "environment" => key_values(value, path, Bare::Null)?,
            "labels" | "annotations" | "sysctls" => key_values(value, path, Bare::Empty)?,
            "extra_hosts" => extra_hosts(value, path)?,
            "build" => build(value, path)?,
            "networks" | "models" => names_to_map(value, path)?,
            "env_file" => env_file(value, path)?,
            "label_file" | "dns" | "dns_search" | "dns_opt" | "tmpfs" => {
                string_or_list(value, path)?
            }
            "secrets" | "configs" => each(value, path, file_mount)?,
            "devices" => each(value, path, device)?,
            "ulimits" => ulimits(value, path)?,
            "extends" => extends(value, path)?,
            "gpus" => gpus(value, path)?,
            "healthcheck" => healthcheck(value, path)?,
            "deploy" => deploy(value, path)?,
            "develop" => develop(value, path)?,
            _ => {}
        }
    }
    Ok(())
}

/// Applies `rule` to every item of a sequence.
fn each(
    node: &mut Node,
    path: &str,
    rule: fn(&mut Node, &str) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let Some(items) = node.as_seq_mut() else {
        return Err(invalid_type(
            node,
            path,
            path.rsplit('.').next().unwrap_or(path),
        ));
    };
    for (i, entry) in items.iter_mut().enumerate() {
        rule(entry, &item(path, i))?;
    }
    Ok(())
}

/// `["K=v", "K"]` → `{K: "v", K: bare}`; in the mapping form scalars become strings the
/// way Go's `fmt.Sprint` prints them (`1.5`, `true`). Later duplicates win.
fn key_values(node: &mut Node, path: &str, bare: Bare) -> Result<(), ConfigError> {
    match &mut node.value {
        Value::Seq(items) => {
            let mut map = Map::default();
            for (i, entry) in items.iter().enumerate() {
                let Some(text) = entry.scalar_to_string() else {
                    return Err(invalid_type(entry, &item(path, i), "key=value entry"));
                };
                let (name, value) = match text.split_once('=') {
                    Some((name, value)) => (name.to_string(), str_at(value, &entry.mark)),
                    None => match bare {
                        Bare::Null => (text, Node::null(entry.mark.clone())),
                        Bare::Empty => (text, str_at("", &entry.mark)),
                    },
                };
                map.insert(key(&name, &entry.mark), value);
            }
            set_value(node, Value::Map(map));
        }
        Value::Map(map) => {
            for (name, value) in map.iter_mut() {
                match (&value.value, bare) {
                    (Value::Null, Bare::Null) => {}
                    (Value::Null, Bare::Empty) => value.value = Value::String(String::new()),
                    _ => match value.scalar_to_string() {
                        Some(text) => value.value = Value::String(text),
                        None => return Err(invalid_type(value, &child(path, &name.name), "value")),
                    },
                }
            }
        }
        _ => return Err(invalid_type(node, path, "mapping or list of key=value")),
    }
    Ok(())
}

/// `extra_hosts` as a list of `host=ip`: `host:ip` and the mapping form (one or several
/// addresses per host) are rewritten; Compose prints this list form.
fn extra_hosts(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    let mut hosts = Vec::new();
    match &node.value {
        Value::Seq(items) => {
            for (i, entry) in items.iter().enumerate() {
                let Some(text) = entry.as_str() else {
                    return Err(invalid_type(entry, &item(path, i), "extra host"));
                };
                // `=` first: an IPv6 address contains colons (`host:::1` is host `::1`).
                let Some((host, ip)) = text.split_once('=').or_else(|| text.split_once(':')) else {
                    return Err(ConfigError::at(
                        &entry.mark,
                        item(path, i),
                        format!("invalid additional host, missing IP address: {text}"),
                    ));
                };
                hosts.push(str_at(format!("{host}={ip}"), &entry.mark));
            }
        }
        Value::Map(map) => {
            for (host, value) in map {
                let host_path = child(path, &host.name);
                let ips: Vec<&Node> = match &value.value {
                    Value::Seq(ips) => ips.iter().collect(),
                    _ => vec![value],
                };
                for ip in ips {
                    let Some(ip_text) = ip.as_str() else {
                        return Err(invalid_type(ip, &host_path, "extra host address"));
                    };
                    hosts.push(str_at(format!("{}={ip_text}", host.name), &ip.mark));
                }
            }
        }
        _ => return Err(invalid_type(node, path, "extra_hosts")),
    }
    set_value(node, Value::Seq(hosts));
    Ok(())
}

/// `[a, b]` → `{a: null, b: null}` (service `networks`, `models`).
fn names_to_map(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    match &node.value {
        Value::Map(_) => Ok(()),
        Value::Seq(items) => {
            let mut map = Map::default();
            for (i, entry) in items.iter().enumerate() {
                let Some(name) = entry.as_str() else {
                    return Err(invalid_type(entry, &item(path, i), "name"));
                };
                map.insert(key(name, &entry.mark), Node::null(entry.mark.clone()));
            }
            set_value(node, Value::Map(map));
            Ok(())
        }
        _ => Err(invalid_type(
            node,
            path,
            path.rsplit('.').next().unwrap_or(path),
        )),
    }
}

/// `depends_on`: list → `{service: {condition: service_started, required: true}}`; the
/// same defaults fill the mapping form. `restart` has no default (Compose prints none).
fn depends_on(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    names_to_map(node, path)?;
    let Some(map) = node.as_map_mut() else {
        return Ok(());
    };
    for (name, dep) in map.iter_mut() {
        if dep.is_null() {
            set_value(dep, Value::Map(Map::default()));
        }
        let mark = dep.mark.clone();
        let Some(fields) = dep.as_map_mut() else {
            return Err(invalid_type(dep, &child(path, &name.name), "dependency"));
        };
        if !fields.contains_key("condition") {
            fields.insert(key("condition", &mark), str_at("service_started", &mark));
        }
        if !fields.contains_key("required") {
            fields.insert(key("required", &mark), bool_at(true, &mark));
        }
    }
    Ok(())
}

/// `env_file`: string or list of strings and `{path, required?, format?}` → list of
/// `{path, required}` (required defaults to true).
fn env_file(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    if node.as_str().is_some() {
        let single = Node::new(
            std::mem::replace(&mut node.value, Value::Null),
            node.mark.clone(),
        );
        set_value(node, Value::Seq(vec![single]));
    }
    each(node, path, |entry, path| {
        let mark = entry.mark.clone();
        match &mut entry.value {
            Value::String(file) => {
                let file = std::mem::take(file);
                *entry = map_at(
                    &mark,
                    vec![
                        ("path", str_at(file, &mark)),
                        ("required", bool_at(true, &mark)),
                    ],
                );
            }
            Value::Map(fields) => {
                if !fields.contains_key("required") {
                    fields.insert(key("required", &mark), bool_at(true, &mark));
                }
            }
            _ => return Err(invalid_type(entry, path, "env_file")),
        }
        Ok(())
    })
}

/// `dns: 8.8.8.8` → `dns: [8.8.8.8]`.
fn string_or_list(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    match &node.value {
        Value::Seq(_) => Ok(()),
        Value::String(_) => {
            let single = Node::new(
                std::mem::replace(&mut node.value, Value::Null),
                node.mark.clone(),
            );
            set_value(node, Value::Seq(vec![single]));
            Ok(())
        }
        _ => Err(invalid_type(
            node,
            path,
            path.rsplit('.').next().unwrap_or(path),
        )),
    }
}

/// `secrets`/`configs` entries: `name` → `{source: name}`; the default secret target is set
/// after merging ([`super::set_defaults`]).
fn file_mount(entry: &mut Node, path: &str) -> Result<(), ConfigError> {
    match &entry.value {
        Value::Map(_) => Ok(()),
        Value::String(source) => {
            let long = map_at(
                &entry.mark,
                vec![("source", str_at(source.clone(), &entry.mark))],
            );
            set_value(entry, long.value);
            Ok(())
        }
        _ => Err(invalid_type(entry, path, "file mount")),
    }
}

/// `devices` entries: `src[:dst[:permissions]]` → `{source, target, permissions}`; the
/// target defaults to the source and permissions to `rwm`.
fn device(entry: &mut Node, path: &str) -> Result<(), ConfigError> {
    let spec = match &entry.value {
        Value::Map(_) => return Ok(()),
        Value::String(spec) => spec.clone(),
        _ => return Err(invalid_type(entry, path, "device")),
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, permissions) = match parts.as_slice() {
        [source] => (*source, *source, "rwm"),
        [source, target] => (*source, *target, "rwm"),
        [source, target, permissions] => (*source, *target, *permissions),
        _ => {
            return Err(ConfigError::at(
                &entry.mark,
                path,
                format!("confusing device mapping, please use long syntax: {spec}"),
            ));
        }
    };
    let target = if target.is_empty() { source } else { target };
    let m = &entry.mark;
    let long = map_at(
        m,
        vec![
            ("source", str_at(source, m)),
            ("target", str_at(target, m)),
            ("permissions", str_at(permissions, m)),
        ],
    );
    set_value(entry, long.value);
    Ok(())
}

/// `ulimits: {nproc: 65535}` → `{nproc: {single: 65535}}` (the typed model prints a
/// single limit back as a bare integer, as Compose does).
fn ulimits(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    let Some(limits) = node.as_map_mut() else {
        return Err(invalid_type(node, path, "ulimits"));
    };
    for (name, limit) in limits.iter_mut() {
        match limit.value {
            Value::Map(_) => {}
            Value::Int(n) => {
                let long = map_at(&limit.mark, vec![("single", int_at(n, &limit.mark))]);
                set_value(limit, long.value);
            }
            _ => return Err(invalid_type(limit, &child(path, &name.name), "ulimit")),
        }
    }
    Ok(())
}

/// `extends: base` → `extends: {service: base}`.
fn extends(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    match &node.value {
        Value::Map(_) => Ok(()),
        Value::String(service) => {
            let long = map_at(
                &node.mark,
                vec![("service", str_at(service.clone(), &node.mark))],
            );
            set_value(node, long.value);
            Ok(())
        }
        _ => Err(invalid_type(node, path, "extends")),
    }
}

/// `gpus: all` → `[{count: all}]` (the typed model reads `all` as -1).
fn gpus(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    match &node.value {
        Value::Seq(_) => Ok(()),
        Value::String(_) => {
            let all = map_at(&node.mark, vec![("count", str_at("all", &node.mark))]);
            set_value(node, Value::Seq(vec![all]));
            Ok(())
        }
        _ => Err(invalid_type(node, path, "gpus")),
    }
}

/// `healthcheck.test: cmd` → `["CMD-SHELL", cmd]`.
fn healthcheck(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    let Some(test) = node.get_mut("test") else {
        return Ok(());
    };
    match &test.value {
        Value::Seq(_) | Value::Null => Ok(()),
        Value::String(cmd) => {
            let m = &test.mark;
            let long = vec![str_at("CMD-SHELL", m), str_at(cmd.clone(), m)];
            set_value(test, Value::Seq(long));
            Ok(())
        }
        _ => Err(invalid_type(test, &child(path, "test"), "healthcheck test")),
    }
}

/// `build: ./dir` → `{context: ./dir}`, then the build section's own short forms.
fn build(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    if let Value::String(context) = &node.value {
        let long = map_at(
            &node.mark,
            vec![("context", str_at(context.clone(), &node.mark))],
        );
        set_value(node, long.value);
    }
    let Some(fields) = node.as_map_mut() else {
        return Err(invalid_type(node, path, "build"));
    };
    for (name, value) in fields.iter_mut() {
        if is_dropped(value) {
            continue;
        }
        let path = child(path, &name.name);
        match name.name.as_str() {
            "args" => key_values(value, &path, Bare::Null)?,
            "labels" | "additional_contexts" => key_values(value, &path, Bare::Empty)?,
            "extra_hosts" => extra_hosts(value, &path)?,
            "ssh" => ssh(value, &path)?,
            "secrets" => each(value, &path, file_mount)?,
            "ulimits" => ulimits(value, &path)?,
            _ => {}
        }
    }
    Ok(())
}

/// `build.ssh: [default, id=path]` → `{default: null, id: path}`; only `default` may
/// omit its path.
fn ssh(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    let items = match &node.value {
        Value::Map(_) => return Ok(()),
        Value::Seq(items) => items,
        _ => return Err(invalid_type(node, path, "ssh")),
    };
    let mut map = Map::default();
    for (i, entry) in items.iter().enumerate() {
        let Some(text) = entry.as_str() else {
            return Err(invalid_type(entry, &item(path, i), "ssh key"));
        };
        let value = match text.split_once('=') {
            Some((id, file)) => (id, str_at(file, &entry.mark)),
            None if text == "default" => (text, Node::null(entry.mark.clone())),
            None => {
                return Err(ConfigError::at(
                    &entry.mark,
                    item(path, i),
                    format!("invalid ssh key {text:?}"),
                ));
            }
        };
        map.insert(key(value.0, &entry.mark), value.1);
    }
    set_value(node, Value::Map(map));
    Ok(())
}

/// `deploy.labels` list → mapping.
fn deploy(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    if let Some(labels) = node.get_mut("labels") {
        key_values(labels, &child(path, "labels"), Bare::Empty)?;
    }
    Ok(())
}

/// `develop.watch`: an entry watching several paths becomes one entry per path.
fn develop(node: &mut Node, _path: &str) -> Result<(), ConfigError> {
    let Some(watch) = node.get_mut("watch").and_then(Node::as_seq_mut) else {
        return Ok(());
    };
    let mut out = Vec::with_capacity(watch.len());
    for rule in std::mem::take(watch) {
        let paths = match rule.get("path").map(|p| &p.value) {
            Some(Value::Seq(paths)) => paths.clone(),
            _ => {
                out.push(rule);
                continue;
            }
        };
        for p in paths {
            let mut single = rule.clone();
            if let Some(slot) = single.get_mut("path") {
                *slot = p;
            }
            out.push(single);
        }
    }
    *watch = out;
    Ok(())
}

/// Fills what compose-go's `SetDefaultValues` fills in one service.
pub(super) fn set_service_defaults(service: &mut Node) {
    // A device request naming neither a count nor devices asks for all of them.
    let requests = [service.get_mut("gpus")];
    for list in requests.into_iter().flatten() {
        device_request_defaults(list);
    }
    if let Some(devices) = service
        .get_mut("deploy")
        .and_then(|d| d.get_mut("resources"))
        .and_then(|r| r.get_mut("reservations"))
        .and_then(|r| r.get_mut("devices"))
    {
        device_request_defaults(devices);
    }
    if let Some(build) = service.get_mut("build") {
        let mark = build.mark.clone();
        if let Some(fields) = build.as_map_mut()
            && !fields.contains_key("context")
        {
            fields.insert(key("context", &mark), str_at(".", &mark));
        }
    }
    if let Some(secrets) = service.get_mut("secrets").and_then(Node::as_seq_mut) {
        for secret in secrets {
            let mark = secret.mark.clone();
            let Some(fields) = secret.as_map_mut() else {
                continue;
            };
            if fields.contains_key("target") {
                continue;
            }
            let source = fields
                .get("source")
                .and_then(Node::scalar_to_string)
                .unwrap_or_default();
            fields.insert(
                key("target", &mark),
                str_at(format!("/run/secrets/{source}"), &mark),
            );
        }
    }
}

fn device_request_defaults(list: &mut Node) {
    for request in list.as_seq_mut().into_iter().flatten() {
        let mark = request.mark.clone();
        if let Some(fields) = request.as_map_mut()
            && !fields.contains_key("count")
            && !fields.contains_key("device_ids")
        {
            fields.insert(key("count", &mark), str_at("all", &mark));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::transform::testutil::service;
    use serde_json::{Value, json};

    fn long(attr: &str, short: Value) -> Value {
        match service(json!({ attr: short })) {
            Ok(s) => s[attr].clone(),
            Err(e) => json!(e.to_string()),
        }
    }

    #[test]
    fn depends_on_list_and_map() {
        let started = json!({"condition": "service_started", "required": true});
        assert_eq!(long("depends_on", json!(["db"])), json!({"db": started}));
        assert_eq!(
            long(
                "depends_on",
                json!({"db": {"condition": "service_healthy"}})
            ),
            json!({"db": {"condition": "service_healthy", "required": true}})
        );
    }

    #[test]
    fn environment_and_labels() {
        assert_eq!(
            long("environment", json!(["A=1", "B", "C=", "D=x=y"])),
            json!({"A": "1", "B": null, "C": "", "D": "x=y"})
        );
        assert_eq!(
            long(
                "environment",
                json!({"A": 1, "B": true, "C": 1.5, "D": null})
            ),
            json!({"A": "1", "B": "true", "C": "1.5", "D": null})
        );
        assert_eq!(
            long("labels", json!(["l1=a", "l2"])),
            json!({"l1": "a", "l2": ""})
        );
        assert_eq!(long("annotations", json!(["an=1"])), json!({"an": "1"}));
        assert_eq!(
            long("sysctls", json!(["net.core.somaxconn=1024"])),
            json!({"net.core.somaxconn": "1024"})
        );
        assert_eq!(long("sysctls", json!({"a": 1})), json!({"a": "1"}));
    }

    #[test]
    fn extra_hosts_forms() {
        assert_eq!(
            long(
                "extra_hosts",
                json!(["h1:1.2.3.4", "h2=5.6.7.8", "h3=::1", "h4:::1"])
            ),
            json!(["h1=1.2.3.4", "h2=5.6.7.8", "h3=::1", "h4=::1"])
        );
        assert_eq!(
            long(
                "extra_hosts",
                json!({"zz": "1.1.1.1", "aa": ["2.2.2.2", "3.3.3.3"]})
            ),
            json!(["zz=1.1.1.1", "aa=2.2.2.2", "aa=3.3.3.3"])
        );
        assert!(
            long("extra_hosts", json!(["nohost"]))
                .as_str()
                .unwrap_or_default()
                .ends_with("missing IP address: nohost")
        );
    }

    #[test]
    fn build_forms() {
        assert_eq!(long("build", json!("./dir")), json!({"context": "./dir"}));
        assert_eq!(
            long(
                "build",
                json!({"context": ".", "ssh": ["default", "key=/k"], "args": ["A=1", "B"], "labels": ["x=y"], "secrets": ["s"]})
            ),
            json!({"context": ".", "ssh": {"default": null, "key": "/k"}, "args": {"A": "1", "B": null}, "labels": {"x": "y"}, "secrets": [{"source": "s"}]})
        );
        assert!(
            long("build", json!({"ssh": ["nokey"]}))
                .as_str()
                .unwrap_or_default()
                .ends_with("invalid ssh key \"nokey\"")
        );
    }

    #[test]
    fn name_lists_to_maps() {
        assert_eq!(long("networks", json!(["front"])), json!({"front": null}));
        assert_eq!(
            long("networks", json!({"front": {"aliases": ["x"]}})),
            json!({"front": {"aliases": ["x"]}})
        );
        assert_eq!(long("models", json!(["m"])), json!({"m": null}));
    }

    #[test]
    fn env_file_forms() {
        assert_eq!(
            long("env_file", json!("a.env")),
            json!([{"path": "a.env", "required": true}])
        );
        assert_eq!(
            long(
                "env_file",
                json!(["a.env", {"path": "b.env", "required": false}, {"path": "c.env", "format": "raw"}])
            ),
            json!([{"path": "a.env", "required": true}, {"path": "b.env", "required": false}, {"path": "c.env", "format": "raw", "required": true}])
        );
    }

    #[test]
    fn string_or_list() {
        assert_eq!(long("dns", json!("8.8.8.8")), json!(["8.8.8.8"]));
        assert_eq!(
            long("dns_search", json!("example.com")),
            json!(["example.com"])
        );
        assert_eq!(long("tmpfs", json!("/tmp")), json!(["/tmp"]));
        assert_eq!(long("label_file", json!("l.env")), json!(["l.env"]));
        assert_eq!(long("dns", json!(["a", "b"])), json!(["a", "b"]));
    }

    #[test]
    fn file_mounts_and_devices() {
        assert_eq!(
            long("secrets", json!(["s1", {"source": "s2", "target": "/t"}])),
            json!([{"source": "s1"}, {"source": "s2", "target": "/t"}])
        );
        assert_eq!(long("configs", json!(["c1"])), json!([{"source": "c1"}]));
        assert_eq!(
            long(
                "devices",
                json!(["/dev/a:/dev/b:rwm", "/dev/c", "/dev/d:/dev/e"])
            ),
            json!([
                {"source": "/dev/a", "target": "/dev/b", "permissions": "rwm"},
                {"source": "/dev/c", "target": "/dev/c", "permissions": "rwm"},
                {"source": "/dev/d", "target": "/dev/e", "permissions": "rwm"},
            ])
        );
        assert!(
            long("devices", json!(["a:b:c:d"]))
                .as_str()
                .unwrap_or_default()
                .ends_with("please use long syntax: a:b:c:d")
        );
    }

    #[test]
    fn scalars_to_structs() {
        assert_eq!(
            long(
                "ulimits",
                json!({"nproc": 65535, "nofile": {"soft": 1, "hard": 2}})
            ),
            json!({"nproc": {"single": 65535}, "nofile": {"soft": 1, "hard": 2}})
        );
        assert_eq!(long("extends", json!("base")), json!({"service": "base"}));
        assert_eq!(long("gpus", json!("all")), json!([{"count": "all"}]));
        assert_eq!(
            long("healthcheck", json!({"test": "curl x"})),
            json!({"test": ["CMD-SHELL", "curl x"]})
        );
        assert_eq!(
            long("deploy", json!({"labels": ["d=1"]})),
            json!({"labels": {"d": "1"}})
        );
    }

    #[test]
    fn watch_paths_split() {
        assert_eq!(
            long(
                "develop",
                json!({"watch": [{"path": ["a", "b"], "action": "sync"}]})
            ),
            json!({"watch": [{"path": "a", "action": "sync"}, {"path": "b", "action": "sync"}]})
        );
    }

    #[test]
    fn short_form_marks_are_kept() {
        let mut project =
            crate::transform::testutil::node(json!({"services": {"web": {"ports": ["80"]}}}));
        let mark = crate::yaml::Mark::new("f.yaml".into(), 7, 9);
        if let Some(p) = project
            .get_mut("services")
            .and_then(|s| s.get_mut("web"))
            .and_then(|w| w.get_mut("ports"))
            .and_then(|p| p.as_seq_mut())
            .and_then(|s| s.first_mut())
        {
            p.mark = mark.clone();
        }
        assert!(crate::transform::canonical(&mut project).is_ok());
        let target = project
            .get("services")
            .and_then(|s| s.get("web"))
            .and_then(|w| w.get("ports"))
            .and_then(|p| p.as_seq())
            .and_then(|s| s.first())
            .and_then(|p| p.get("target"))
            .map(|t| t.mark.clone());
        assert_eq!(target, Some(mark));
    }
}
