//! `ports` and `expose`: the short port syntax parsed as docker/go-connections'
//! `nat.ParsePortSpec` does, expanded to one long-form entry per container port.

use std::net::IpAddr;

use super::{child, int_at, invalid_type, item, map_at, set_value, str_at};
use crate::error::ConfigError;
use crate::yaml::{Node, Value};

/// One published container port, as one short-form spec expands to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMapping {
    /// Empty when the spec binds every address.
    pub host_ip: String,
    /// Host port or host port range; empty when the engine picks one.
    pub published: String,
    pub target: u16,
    pub protocol: String,
}

/// Parses `[ip:][host[-host]:]port[-port][/proto]`. Ranges expand to one mapping per
/// container port, ordered as compose-go orders them: by `"port/proto"` as a string, so
/// `9998-10001` yields 10000, 10001, 9998, 9999 (pinned with Compose v2.40.3).
pub fn parse_port_spec(spec: &str) -> Result<Vec<PortMapping>, String> {
    let (raw_ip, host_port, container) = split_parts(spec);
    let (protocol, container) = split_proto_port(container);
    let ip = match raw_ip.strip_prefix('[') {
        Some(rest) => rest
            .strip_suffix(']')
            .ok_or_else(|| format!("invalid IP address {raw_ip}: missing ']' in address"))?,
        None => raw_ip,
    };
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {spec}<empty>"));
    }
    let (start, end) =
        parse_port_range(container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
    let (host_start, host_end) = if host_port.is_empty() {
        (0, 0)
    } else {
        parse_port_range(host_port).ok_or_else(|| format!("invalid hostPort: {host_port}"))?
    };
    // A host range is only allowed against a single container port (the engine picks a
    // free port in it) or against a container range of the same length.
    if !host_port.is_empty() && end - start != host_end - host_start && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host_port}"
        ));
    }
    let protocol = protocol.to_lowercase();
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {protocol}"));
    }
    let mut mappings: Vec<PortMapping> = (0..=end - start)
        .map(|offset| {
            let published = if host_port.is_empty() {
                String::new()
            } else if start == end && host_start != host_end {
                format!("{host_start}-{host_end}")
            } else {
                (u32::from(host_start) + u32::from(offset)).to_string()
            };
            PortMapping {
                host_ip: ip.to_string(),
                published,
                target: start + offset,
                protocol: protocol.clone(),
            }
        })
        .collect();
    mappings.sort_by_key(|m| format!("{}/{}", m.target, m.protocol));
    Ok(mappings)
}

/// Splits on `:` from the right: the container port is last, the host port before it,
/// and whatever remains (an IPv6 address may contain colons) is the address.
fn split_parts(spec: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [container] => ("", "", container),
        [host, container] => ("", host, container),
        [ip, host, container] => (ip, host, container),
        [.., host, container] => {
            // The address keeps its own colons (unbracketed IPv6).
            let ip_len = spec.len() - host.len() - container.len() - 2;
            (spec.get(..ip_len).unwrap_or_default(), host, container)
        }
        [] => ("", "", ""),
    }
}

/// `"80/udp"` → `("udp", "80")`; no protocol (or an empty one) means tcp.
fn split_proto_port(raw: &str) -> (&str, &str) {
    let mut parts = raw.split('/');
    let port = parts.next().unwrap_or_default();
    if port.is_empty() {
        return ("", "");
    }
    match parts.next() {
        None | Some("") => ("tcp", port),
        Some(proto) => (proto, port),
    }
}

/// `"80"` or `"80-90"`; `None` for anything else, including a reversed range.
fn parse_port_range(raw: &str) -> Option<(u16, u16)> {
    let parse = |s: &str| -> Option<u16> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if !raw.contains('-') {
        let port = parse(raw)?;
        return Some((port, port));
    }
    let mut parts = raw.split('-');
    let start = parse(parts.next()?)?;
    let end = parse(parts.next()?)?;
    (end >= start).then_some((start, end))
}

/// `services.*.ports`: every entry to `{target, published?, host_ip?, protocol, mode}`.
pub(super) fn ports(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    let Value::Seq(entries) = &mut node.value else {
        return Err(invalid_type(node, path, "ports"));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (i, mut entry) in std::mem::take(entries).into_iter().enumerate() {
        let entry_path = item(path, i);
        match &entry.value {
            Value::Int(target) => {
                let target = port_number(*target, &entry, &entry_path)?;
                let long = map_at(&entry.mark, vec![("target", int_at(target, &entry.mark))]);
                out.push(with_port_defaults(long));
            }
            Value::String(spec) => {
                let mappings = parse_port_spec(spec)
                    .map_err(|e| ConfigError::at(&entry.mark, entry_path.as_str(), e))?;
                out.extend(mappings.into_iter().map(|m| port_node(&m, &entry)));
            }
            Value::Map(_) => {
                long_port(&mut entry, &entry_path)?;
                out.push(with_port_defaults(entry));
            }
            _ => return Err(invalid_type(&entry, &entry_path, "port")),
        }
    }
    set_value(node, Value::Seq(out));
    Ok(())
}

fn port_number(n: i64, node: &Node, path: &str) -> Result<i64, ConfigError> {
    if (0..=65535).contains(&n) {
        Ok(n)
    } else {
        Err(ConfigError::at(
            &node.mark,
            path,
            format!("invalid port number {n}"),
        ))
    }
}

/// The long form of one parsed mapping, at the short form's position.
fn port_node(m: &PortMapping, short: &Node) -> Node {
    let mark = &short.mark;
    let mut entries = vec![("mode", str_at("ingress", mark))];
    if !m.host_ip.is_empty() {
        entries.push(("host_ip", str_at(m.host_ip.clone(), mark)));
    }
    entries.push(("target", int_at(i64::from(m.target), mark)));
    if !m.published.is_empty() {
        entries.push(("published", str_at(m.published.clone(), mark)));
    }
    entries.push(("protocol", str_at(m.protocol.clone(), mark)));
    let mut node = map_at(mark, entries);
    node.tag = short.tag.clone();
    node
}

/// Long form as written: `published` is a string and `target` an integer.
fn long_port(entry: &mut Node, path: &str) -> Result<(), ConfigError> {
    let Some(map) = entry.as_map_mut() else {
        return Ok(());
    };
    if let Some(published) = map.get_mut("published")
        && let Value::Int(n) = published.value
    {
        published.value = Value::String(n.to_string());
    }
    if let Some(target) = map.get_mut("target")
        && let Value::String(s) = &target.value
    {
        let n = s.parse::<u16>().map_err(|_| {
            ConfigError::at(
                &target.mark,
                child(path, "target"),
                format!("invalid port {s:?}"),
            )
        })?;
        target.value = Value::Int(i64::from(n));
    }
    Ok(())
}

/// compose-go's `portDefaults`: protocol tcp, mode ingress.
fn with_port_defaults(mut node: Node) -> Node {
    let mark = node.mark.clone();
    if let Some(map) = node.as_map_mut() {
        for (key, default) in [("protocol", "tcp"), ("mode", "ingress")] {
            if !map.contains_key(key) {
                map.insert(super::key(key, &mark), str_at(default, &mark));
            }
        }
    }
    node
}

/// `services.*.expose`: a list of strings (`"3000"`, `"4000-4001/udp"`); integers become
/// strings, as compose-go prints them.
pub(super) fn expose(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    let Some(entries) = node.as_seq_mut() else {
        return Err(invalid_type(node, path, "expose"));
    };
    for (i, entry) in entries.iter_mut().enumerate() {
        match &entry.value {
            Value::String(_) => {}
            Value::Int(n) => entry.value = Value::String(n.to_string()),
            _ => return Err(invalid_type(entry, &item(path, i), "expose")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::transform::testutil::service;
    use serde_json::json;

    fn ports_of(short: serde_json::Value) -> serde_json::Value {
        service(json!({ "ports": short }))
            .map(|s| s["ports"].clone())
            .unwrap_or_default()
    }

    fn port(
        target: u16,
        published: Option<&str>,
        ip: Option<&str>,
        proto: &str,
    ) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("mode".into(), json!("ingress"));
        if let Some(ip) = ip {
            m.insert("host_ip".into(), json!(ip));
        }
        m.insert("target".into(), json!(target));
        if let Some(p) = published {
            m.insert("published".into(), json!(p));
        }
        m.insert("protocol".into(), json!(proto));
        serde_json::Value::Object(m)
    }

    #[test]
    fn container_port_only() {
        assert_eq!(
            ports_of(json!(["80"])),
            json!([port(80, None, None, "tcp")])
        );
        assert_eq!(
            ports_of(json!([80])),
            json!([{"target": 80, "protocol": "tcp", "mode": "ingress"}])
        );
    }

    #[test]
    fn host_and_container() {
        assert_eq!(
            ports_of(json!(["8080:80"])),
            json!([port(80, Some("8080"), None, "tcp")])
        );
        assert_eq!(
            ports_of(json!(["127.0.0.1:8081:83/udp"])),
            json!([port(83, Some("8081"), Some("127.0.0.1"), "udp")])
        );
        assert_eq!(
            ports_of(json!(["127.0.0.1::84"])),
            json!([port(84, None, Some("127.0.0.1"), "tcp")])
        );
        assert_eq!(
            ports_of(json!(["8088:88/SCTP"])),
            json!([port(88, Some("8088"), None, "sctp")])
        );
    }

    #[test]
    fn ipv6_addresses() {
        assert_eq!(
            ports_of(json!(["[::1]:85:85"])),
            json!([port(85, Some("85"), Some("::1"), "tcp")])
        );
        assert_eq!(
            ports_of(json!(["::1:85:85"])),
            json!([port(85, Some("85"), Some("::1"), "tcp")])
        );
    }

    #[test]
    fn ranges_expand_in_string_order() {
        assert_eq!(
            ports_of(json!(["9000-9001:9000-9001"])),
            json!([
                port(9000, Some("9000"), None, "tcp"),
                port(9001, Some("9001"), None, "tcp")
            ])
        );
        assert_eq!(
            ports_of(json!(["9998-10001:9998-10001"])),
            json!([
                port(10000, Some("10000"), None, "tcp"),
                port(10001, Some("10001"), None, "tcp"),
                port(9998, Some("9998"), None, "tcp"),
                port(9999, Some("9999"), None, "tcp"),
            ])
        );
        assert_eq!(
            ports_of(json!(["89-90"])),
            json!([port(89, None, None, "tcp"), port(90, None, None, "tcp")])
        );
        // A host range against one container port stays a range.
        assert_eq!(
            ports_of(json!(["9100-9101:86"])),
            json!([port(86, Some("9100-9101"), None, "tcp")])
        );
    }

    #[test]
    fn long_form_normalised() {
        assert_eq!(
            ports_of(json!([{"target": 87, "published": 8087}])),
            json!([{"target": 87, "published": "8087", "protocol": "tcp", "mode": "ingress"}])
        );
        assert_eq!(
            ports_of(json!([{"target": "87", "protocol": "udp", "mode": "host"}])),
            json!([{"target": 87, "protocol": "udp", "mode": "host"}])
        );
    }

    #[test]
    fn invalid_ports_are_errors() {
        let err = |v| {
            service(json!({ "ports": v }))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            err(json!([true])),
            "test.yaml:1:1: services.web.ports[0]: invalid port: got a boolean"
        );
        assert_eq!(
            err(json!(["a:b"])),
            "test.yaml:1:1: services.web.ports[0]: invalid containerPort: b"
        );
        assert_eq!(
            err(json!(["9000-9002:80-81"])),
            "test.yaml:1:1: services.web.ports[0]: invalid ranges specified for container and host Ports: 80-81 and 9000-9002"
        );
        assert!(err(json!(["x.y:80:80"])).ends_with("invalid IP address: x.y"));
        assert!(err(json!(["80/icmp"])).ends_with("invalid proto: icmp"));
        assert!(err(json!(["90-80"])).ends_with("invalid containerPort: 90-80"));
        assert!(err(json!(["70000"])).ends_with("invalid containerPort: 70000"));
        assert!(err(json!([""])).ends_with("no port specified: <empty>"));
        assert!(err(json!("80")).ends_with("invalid ports: got a string"));
    }

    #[test]
    fn expose_to_strings() {
        let s = service(json!({ "expose": ["3000", 3001, "4000-4001/udp"] })).unwrap_or_default();
        assert_eq!(s["expose"], json!(["3000", "3001", "4000-4001/udp"]));
    }
}

#[cfg(test)]
mod never_panics {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_port_spec(spec in "[0-9a-f:\\[\\]./-]{0,24}") {
            let _ = super::parse_port_spec(&spec);
        }

        #[test]
        fn any_volume_spec(spec in "\\PC{0,24}") {
            let _ = crate::transform::parse_volume_spec(&spec);
        }
    }
}
