//! `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` of a container, written into its
//! directory at each start and bind-mounted over the image's, with Docker's contents:
//! the host's files for `--network host`; otherwise the standard localhost lines, the
//! `--add-host` entries and the container's own address; `resolv.conf` pointing at the
//! embedded server (127.0.0.11) on networks that have one, or the host's servers with the
//! loopback ones left out (unreachable from the container) on the others.

use std::io;
use std::net::IpAddr;
use std::path::Path;

use super::config::{Config, HostConfig};
use super::record::ContainerRecord;

/// The host's resolver configuration.
pub const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// systemd-resolved's list of the real servers behind its 127.0.0.53 stub.
const SYSTEMD_RESOLV_CONF: &str = "/run/systemd/resolve/resolv.conf";

/// Docker's servers for a container whose host has only loopback ones (which a
/// container without the embedded server cannot reach).
const FALLBACK_SERVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// Where the embedded DNS server answers inside the container.
pub const EMBEDDED_DNS: &str = "127.0.0.11";

/// What the files depend on besides the record.
pub struct EtcInputs<'a> {
    /// The container's addresses on its first network (`/etc/hosts` names it by them).
    pub addresses: &'a [IpAddr],
    /// The gateway `host-gateway` in `--add-host` stands for.
    pub host_gateway: Option<IpAddr>,
    /// Whether the embedded DNS server serves the container (user-defined networks).
    pub embedded_dns: bool,
    /// `--network container:<x>`: x's directory, whose files it shares (Docker's).
    pub shared_from: Option<std::path::PathBuf>,
    /// `/etc/hosts` lines of the legacy links (`links::resolve`).
    pub links: &'a [String],
}

pub fn write(dir: &Path, record: &ContainerRecord, inputs: &EtcInputs<'_>) -> io::Result<()> {
    if let Some(other) = &inputs.shared_from {
        for name in ["hostname", "hosts", "resolv.conf"] {
            std::fs::copy(other.join(name), dir.join(name))?;
        }
        return Ok(());
    }
    std::fs::write(
        dir.join("hostname"),
        format!("{}\n", record.config.hostname),
    )?;
    let mut host_resolv = std::fs::read_to_string(HOST_RESOLV_CONF).unwrap_or_default();
    // Docker: behind systemd-resolved's stub, a container without the embedded server
    // uses the servers the stub forwards to.
    if !inputs.embedded_dns
        && parse_resolv(&host_resolv).nameservers == ["127.0.0.53"]
        && let Ok(real) = std::fs::read_to_string(SYSTEMD_RESOLV_CONF)
    {
        host_resolv = real;
    }
    let (hosts, resolv) = if record.host_config.network_mode == "host" {
        (
            std::fs::read("/etc/hosts").unwrap_or_default(),
            host_resolv.into_bytes(),
        )
    } else {
        (
            hosts_file(&record.config, &record.host_config, inputs)?.into_bytes(),
            resolv_conf(&record.host_config, &host_resolv, inputs.embedded_dns).into_bytes(),
        )
    };
    std::fs::write(dir.join("hosts"), hosts)?;
    std::fs::write(dir.join("resolv.conf"), resolv)
}

/// Docker's `/etc/hosts` for a container without a network address.
const DEFAULT_HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

fn hosts_file(config: &Config, host: &HostConfig, inputs: &EtcInputs<'_>) -> io::Result<String> {
    let mut out = DEFAULT_HOSTS.to_string();
    for entry in host.extra_hosts.iter().flatten() {
        let (name, ip) =
            parse_extra_host(entry).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let ip = if ip == "host-gateway" {
            inputs
                .host_gateway
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "--add-host {entry}: host-gateway needs the container on a bridge network"
                        ),
                    )
                })?
                .to_string()
        } else {
            ip.to_string()
        };
        out.push_str(&format!("{ip}\t{name}\n"));
    }
    for line in inputs.links {
        out.push_str(line);
        out.push('\n');
    }
    let names = if config.domainname.is_empty() {
        config.hostname.clone()
    } else {
        format!(
            "{}.{} {}",
            config.hostname, config.domainname, config.hostname
        )
    };
    for ip in inputs.addresses {
        out.push_str(&format!("{ip}\t{names}\n"));
    }
    Ok(out)
}

/// `--add-host name:ip` (the address may be IPv6 with colons, or `host-gateway`).
pub fn parse_extra_host(entry: &str) -> Result<(&str, &str), String> {
    let bad = || format!("bad format for add-host: {entry:?} (expected host:ip)");
    let (name, ip) = entry.split_once(':').ok_or_else(bad)?;
    if name.is_empty() || ip.is_empty() {
        return Err(bad());
    }
    if ip != "host-gateway" && ip.trim_matches(['[', ']']).parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address in add-host: {ip:?}"));
    }
    Ok((name, ip.trim_matches(['[', ']'])))
}

/// The parts of a `resolv.conf` berth uses.
#[derive(Debug, Default, PartialEq)]
pub struct Resolv {
    pub nameservers: Vec<String>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

pub fn parse_resolv(text: &str) -> Resolv {
    let mut out = Resolv::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => out.nameservers.extend(words.next().map(String::from)),
            Some("search") | Some("domain") => out.search = words.map(String::from).collect(),
            Some("options") => out.options.extend(words.map(String::from)),
            _ => {}
        }
    }
    out
}

fn is_loopback(server: &str) -> bool {
    server
        .split('%')
        .next()
        .and_then(|s| s.parse::<IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

/// The servers the embedded DNS server forwards to: `--dns`, or the host's (loopback
/// ones included: the server forwards from the host's namespace).
pub fn upstreams(host: &HostConfig, host_resolv: &str) -> Vec<String> {
    if host.dns.is_empty() {
        parse_resolv(host_resolv).nameservers
    } else {
        host.dns.clone()
    }
}

fn resolv_conf(host: &HostConfig, host_resolv: &str, embedded_dns: bool) -> String {
    let parsed = parse_resolv(host_resolv);
    let search = if host.dns_search.is_empty() {
        parsed.search.clone()
    } else {
        host.dns_search.clone()
    };
    let mut options = if host.dns_options.is_empty() {
        parsed.options.clone()
    } else {
        host.dns_options.clone()
    };
    let nameservers = if embedded_dns {
        // Docker: names like `db` must go to the embedded server as they are.
        if !options.iter().any(|o| o.starts_with("ndots:")) {
            options.push("ndots:0".into());
        }
        vec![EMBEDDED_DNS.to_string()]
    } else if !host.dns.is_empty() {
        host.dns.clone()
    } else if host.dns_search.is_empty() && host.dns_options.is_empty() {
        // Docker copies the host's file with its loopback servers left out.
        let mut out = String::new();
        let mut any = false;
        for line in host_resolv.lines() {
            let mut words = line.split_whitespace();
            if words.next() == Some("nameserver") {
                if words.next().is_some_and(is_loopback) {
                    continue;
                }
                any = true;
            }
            out.push_str(line);
            out.push('\n');
        }
        if !any {
            for server in FALLBACK_SERVERS {
                out.push_str(&format!("nameserver {server}\n"));
            }
        }
        return out;
    } else {
        let servers: Vec<String> = parsed
            .nameservers
            .into_iter()
            .filter(|s| !is_loopback(s))
            .collect();
        if servers.is_empty() {
            FALLBACK_SERVERS.iter().map(|s| s.to_string()).collect()
        } else {
            servers
        }
    };
    // Docker: `--dns-search .` means no search domains.
    let search: Vec<String> = search.into_iter().filter(|s| s != ".").collect();
    let mut out = String::new();
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    for server in &nameservers {
        out.push_str(&format!("nameserver {server}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostConfig {
        HostConfig {
            network_mode: "mynet".into(),
            ..HostConfig::default()
        }
    }

    const HOST: &str = "# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0 trust-ad\n";

    #[test]
    fn user_networks_point_at_the_embedded_server_with_the_hosts_search_and_options() {
        assert_eq!(
            resolv_conf(&host(), HOST, true),
            "search corp.example\nnameserver 127.0.0.11\noptions edns0 trust-ad ndots:0\n"
        );
        let mut r = host();
        r.dns_search = vec!["a.test".into()];
        r.dns_options = vec!["ndots:2".into()];
        assert_eq!(
            resolv_conf(&r, HOST, true),
            "search a.test\nnameserver 127.0.0.11\noptions ndots:2\n"
        );
    }

    #[test]
    fn the_default_bridge_gets_the_hosts_file_without_loopback_servers() {
        assert_eq!(
            resolv_conf(&host(), HOST, false),
            "# comment\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0 trust-ad\n"
        );
        let mut r = host();
        r.dns = vec!["192.0.2.53".into()];
        assert_eq!(
            resolv_conf(&r, HOST, false),
            "search corp.example\nnameserver 192.0.2.53\noptions edns0 trust-ad\n"
        );
    }

    #[test]
    fn only_loopback_servers_fall_back_to_dockers_defaults() {
        let host_only_stub = "nameserver 127.0.0.53\nsearch x.test\n";
        assert_eq!(
            resolv_conf(&host(), host_only_stub, false),
            "search x.test\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn upstreams_are_dns_flags_or_the_hosts_servers_loopback_included() {
        assert_eq!(upstreams(&host(), HOST), ["127.0.0.53", "10.0.0.2"]);
        let mut r = host();
        r.dns = vec!["10.9.9.9".into()];
        assert_eq!(upstreams(&r, HOST), ["10.9.9.9"]);
    }

    #[test]
    fn hosts_has_extra_hosts_then_the_containers_address() {
        let mut r = host();
        r.extra_hosts = Some(vec![
            "db.local:10.1.2.3".into(),
            "host.docker.internal:host-gateway".into(),
            "v6:[fd00::1]".into(),
        ]);
        let ip: IpAddr = "172.18.0.2".parse().unwrap();
        let config = Config {
            hostname: "0123456789ab".into(),
            ..Config::default()
        };
        let text = hosts_file(
            &config,
            &r,
            &EtcInputs {
                addresses: &[ip],
                host_gateway: Some("172.18.0.1".parse().unwrap()),
                embedded_dns: true,
                shared_from: None,
                links: &["172.18.0.3\tdb 0123456789cd".to_string()],
            },
        )
        .unwrap();
        assert!(text.starts_with(DEFAULT_HOSTS), "{text}");
        assert!(text.ends_with(
            "10.1.2.3\tdb.local\n172.18.0.1\thost.docker.internal\nfd00::1\tv6\n172.18.0.3\tdb 0123456789cd\n172.18.0.2\t0123456789ab\n"
        ), "{text}");
    }

    #[test]
    fn bad_extra_hosts_are_refused() {
        assert!(parse_extra_host("nocolon").is_err());
        assert!(parse_extra_host("x:notanip").is_err());
        assert!(parse_extra_host(":1.2.3.4").is_err());
        assert_eq!(parse_extra_host("a:::1"), Ok(("a", "::1")));
    }
}
