//! Published ports as Docker writes them: `-p [ip:][hostport[-range]:]containerport[-range][/proto]`
//! parsed into `HostConfig.PortBindings` entries (`"80/tcp": [{HostIp, HostPort}]`), and
//! `EXPOSE` / `--expose` keys. A host port may be empty (ephemeral) or a range from which
//! one free port is taken at start (Docker's rule for one container port).

use std::net::IpAddr;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PortError {
    #[error("invalid containerPort: {0}")]
    ContainerPort(String),
    #[error("invalid hostPort: {0}")]
    HostPort(String),
    #[error("invalid IP address: {0}")]
    Ip(String),
    #[error("invalid proto: {0}")]
    Proto(String),
    #[error("invalid ranges specified for container and host Ports: {container} and {host}")]
    Ranges { container: String, host: String },
}

/// One binding of a container port (Docker's `PortBinding`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// `80/tcp`.
    pub port: String,
    /// Empty for every address.
    pub host_ip: String,
    /// Empty (ephemeral), one port, or `a-b` (the first free one of them).
    pub host_port: String,
}

/// `80`, `8000-8010` (inclusive).
fn range(text: &str) -> Option<(u16, u16)> {
    let number = |p: &str| p.parse::<u16>().ok();
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (number(a)?, number(b)?);
            (a <= b).then_some((a, b))
        }
        None => number(text).map(|p| (p, p)),
    }
}

/// Splits `[ip:][host:]container` where the ip may be `[v6]` or a bare IPv6 address.
fn split(spec: &str) -> Result<(String, String, String), PortError> {
    if let Some(rest) = spec.strip_prefix('[') {
        let (ip, rest) = rest
            .split_once("]:")
            .ok_or_else(|| PortError::Ip(spec.to_string()))?;
        let (host, container) = rest
            .split_once(':')
            .ok_or_else(|| PortError::ContainerPort(spec.to_string()))?;
        return Ok((ip.to_string(), host.to_string(), container.to_string()));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    Ok(match parts.as_slice() {
        [container] => (String::new(), String::new(), container.to_string()),
        [host, container] => (String::new(), host.to_string(), container.to_string()),
        [ip, host, container] => (ip.to_string(), host.to_string(), container.to_string()),
        // A bare IPv6 address: everything before the last two fields.
        [.., host, container] => {
            let ip = &spec[..spec.len() - host.len() - container.len() - 2];
            (ip.to_string(), host.to_string(), container.to_string())
        }
        [] => return Err(PortError::ContainerPort(spec.to_string())),
    })
}

/// `-p` / `--publish`: the bindings it asks for.
pub fn parse_publish(spec: &str) -> Result<Vec<Binding>, PortError> {
    let (body, proto) = match spec.rsplit_once('/') {
        Some((b, p)) => (b, p.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(PortError::Proto(proto));
    }
    let (ip, host, container) = split(body)?;
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(PortError::Ip(ip));
    }
    let (c_start, c_end) = range(&container)
        .filter(|(a, _)| *a > 0)
        .ok_or_else(|| PortError::ContainerPort(container.clone()))?;
    let host_range = if host.is_empty() {
        None
    } else {
        Some(
            range(&host)
                .filter(|(a, _)| *a > 0)
                .ok_or_else(|| PortError::HostPort(host.clone()))?,
        )
    };
    let count = c_end - c_start;
    let mut out = Vec::new();
    for i in 0..=count {
        let host_port = match host_range {
            None => String::new(),
            // One container port, a host range: any free port of the range.
            Some((h_start, h_end)) if count == 0 && h_end > h_start => format!("{h_start}-{h_end}"),
            Some((h_start, h_end)) if h_end - h_start == count => (h_start + i).to_string(),
            Some(_) => {
                return Err(PortError::Ranges {
                    container: container.clone(),
                    host: host.clone(),
                });
            }
        };
        out.push(Binding {
            port: format!("{}/{proto}", c_start + i),
            host_ip: ip.clone(),
            host_port,
        });
    }
    Ok(out)
}

/// `--expose 80`, `8000-8002/udp`: `ExposedPorts` keys.
pub fn parse_expose(spec: &str) -> Result<Vec<String>, PortError> {
    let (body, proto) = match spec.rsplit_once('/') {
        Some((b, p)) => (b, p.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(PortError::Proto(proto));
    }
    let (a, b) = range(body)
        .filter(|(a, _)| *a > 0)
        .ok_or_else(|| PortError::ContainerPort(body.to_string()))?;
    Ok((a..=b).map(|p| format!("{p}/{proto}")).collect())
}

/// `80/tcp` as (80, "tcp").
pub fn split_key(key: &str) -> Option<(u16, &str)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, proto))
}

/// A host port (or range) as the ports to try, in order.
pub fn host_candidates(host_port: &str) -> Option<Vec<u16>> {
    if host_port.is_empty() {
        return Some(vec![0]);
    }
    let (a, b) = range(host_port)?;
    Some((a..=b).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> (String, String, String) {
        let b = parse_publish(spec).unwrap();
        assert_eq!(b.len(), 1, "{spec}");
        (
            b[0].port.clone(),
            b[0].host_ip.clone(),
            b[0].host_port.clone(),
        )
    }

    #[test]
    fn docker_forms() {
        let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(one("80"), s("80/tcp", "", ""));
        assert_eq!(one("8080:80"), s("80/tcp", "", "8080"));
        assert_eq!(
            one("127.0.0.1:8080:80/udp"),
            s("80/udp", "127.0.0.1", "8080")
        );
        assert_eq!(one("127.0.0.1::80"), s("80/tcp", "127.0.0.1", ""));
        assert_eq!(one("[::1]:8080:80"), s("80/tcp", "::1", "8080"));
        assert_eq!(one("::1:8080:80"), s("80/tcp", "::1", "8080"));
        assert_eq!(one("8000-8010:80"), s("80/tcp", "", "8000-8010"));
        let many = parse_publish("8000-8002:9000-9002").unwrap();
        assert_eq!(
            many.iter()
                .map(|b| format!("{}={}", b.port, b.host_port))
                .collect::<Vec<_>>(),
            ["9000/tcp=8000", "9001/tcp=8001", "9002/tcp=8002"]
        );
    }

    #[test]
    fn bad_specs_are_named() {
        assert_eq!(
            parse_publish("x"),
            Err(PortError::ContainerPort("x".into()))
        );
        assert_eq!(
            parse_publish("0"),
            Err(PortError::ContainerPort("0".into()))
        );
        assert_eq!(
            parse_publish("99999:80"),
            Err(PortError::HostPort("99999".into()))
        );
        assert_eq!(
            parse_publish("nothost:80:80"),
            Err(PortError::Ip("nothost".into()))
        );
        assert_eq!(
            parse_publish("80/icmp"),
            Err(PortError::Proto("icmp".into()))
        );
        assert!(matches!(
            parse_publish("8000-8001:80-82"),
            Err(PortError::Ranges { .. })
        ));
        assert_eq!(
            parse_expose("8000-8001/udp").unwrap(),
            ["8000/udp", "8001/udp"]
        );
        assert!(parse_expose("a").is_err());
    }

    #[test]
    fn candidates_and_keys() {
        assert_eq!(host_candidates(""), Some(vec![0]));
        assert_eq!(host_candidates("8000-8002"), Some(vec![8000, 8001, 8002]));
        assert_eq!(split_key("53/udp"), Some((53, "udp")));
    }
}
