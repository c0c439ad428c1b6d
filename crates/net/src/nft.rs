//! berth's nftables rules, through `nft -j -f -` (JSON in, as netavark does): a table of
//! its own (`inet berth`) with masquerade for each outbound network's subnets and drops
//! that keep an internal network's traffic on its bridge; and, where another tool (Docker,
//! firewalld) has a `filter FORWARD` chain that would drop it, accept rules for berth's
//! bridges there. Every rule carries the comment `berth:<bridge>`; a network's rules are
//! found and removed by it, and the table goes with the last of them. Nothing else is
//! touched. Callers serialize changes under berth's host-wide lock.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::Subnet;

/// berth's table (family `inet`: one table for IPv4 and IPv6).
pub const TABLE: &str = "berth";

#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error(
        "cannot run nft ({0}): berth needs nftables for the outbound traffic of bridge networks; install the nftables package"
    )]
    Missing(std::io::Error),
    #[error("nft refused berth's rules for {what}: {message}")]
    Refused { what: String, message: String },
}

/// One network's rules.
#[derive(Clone, Debug)]
pub struct NetworkRules {
    pub bridge: String,
    pub subnets: Vec<Subnet>,
    pub internal: bool,
}

fn tag(bridge: &str) -> String {
    format!("berth:{bridge}")
}

fn run(args: &[&str], input: Option<&Value>, what: &str) -> Result<String, NftError> {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NftError::Missing)?;
    if let (Some(body), Some(mut stdin)) = (input, child.stdin.take()) {
        let _ = stdin.write_all(body.to_string().as_bytes());
    }
    let out = child.wait_with_output().map_err(NftError::Missing)?;
    if !out.status.success() {
        return Err(NftError::Refused {
            what: what.to_string(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ruleset() -> Result<Vec<Value>, NftError> {
    let text = run(&["-j", "list", "ruleset"], None, "the ruleset")?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(value["nftables"].as_array().cloned().unwrap_or_default())
}

fn saddr_match(subnet: &Subnet, op: &str) -> Value {
    let protocol = if subnet.is_ipv4() { "ip" } else { "ip6" };
    json!({"match": {"op": op, "left": {"payload": {"protocol": protocol, "field": "saddr"}},
        "right": {"prefix": {"addr": subnet.network().to_string(), "len": subnet.prefix()}}}})
}

fn name_match(key: &str, op: &str, bridge: &str) -> Value {
    json!({"match": {"op": op, "left": {"meta": {"key": key}}, "right": bridge}})
}

fn rule(family: &str, table: &str, chain: &str, comment: &str, expr: Vec<Value>) -> Value {
    json!({"add": {"rule": {"family": family, "table": table, "chain": chain,
        "comment": comment, "expr": expr}}})
}

/// `filter FORWARD` chains of other tools that drop by default (Docker's), as
/// (family, table).
fn dropping_forward_chains(rules: &[Value]) -> Vec<(String, String)> {
    rules
        .iter()
        .filter_map(|v| v.get("chain"))
        .filter(|c| {
            c["table"] == "filter"
                && c["name"] == "FORWARD"
                && c["hook"] == "forward"
                && c["policy"] == "drop"
        })
        .filter_map(|c| {
            Some((
                c["family"].as_str()?.to_string(),
                c["table"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Installs a network's rules (replacing any it had).
pub fn add_network(rules: &NetworkRules) -> Result<(), NftError> {
    remove_network(&rules.bridge)?;
    let comment = tag(&rules.bridge);
    let bridge = rules.bridge.as_str();
    let mut commands = vec![
        json!({"add": {"table": {"family": "inet", "name": TABLE}}}),
        json!({"add": {"chain": {"family": "inet", "table": TABLE, "name": "postrouting",
            "type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"}}}),
        json!({"add": {"chain": {"family": "inet", "table": TABLE, "name": "forward",
            "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}}),
    ];
    if rules.internal {
        commands.push(rule(
            "inet",
            TABLE,
            "forward",
            &comment,
            vec![
                name_match("iifname", "==", bridge),
                name_match("oifname", "!=", bridge),
                json!({"drop": null}),
            ],
        ));
        commands.push(rule(
            "inet",
            TABLE,
            "forward",
            &comment,
            vec![
                name_match("oifname", "==", bridge),
                name_match("iifname", "!=", bridge),
                json!({"drop": null}),
            ],
        ));
    } else {
        for subnet in &rules.subnets {
            commands.push(rule(
                "inet",
                TABLE,
                "postrouting",
                &comment,
                vec![
                    saddr_match(subnet, "=="),
                    name_match("oifname", "!=", bridge),
                    json!({"masquerade": null}),
                ],
            ));
        }
    }
    for (family, table) in dropping_forward_chains(&ruleset()?) {
        let accepts: Vec<Vec<Value>> = if rules.internal {
            vec![vec![
                name_match("iifname", "==", bridge),
                name_match("oifname", "==", bridge),
                json!({"accept": null}),
            ]]
        } else {
            vec![
                vec![name_match("iifname", "==", bridge), json!({"accept": null})],
                vec![name_match("oifname", "==", bridge), json!({"accept": null})],
            ]
        };
        for expr in accepts {
            // Inserted first: Docker's own rules end in drops for foreign bridges.
            let mut r = rule(&family, &table, "FORWARD", &comment, expr);
            if let Some(inner) = r.get_mut("add").and_then(|a| a.get_mut("rule")).cloned() {
                r = json!({"insert": {"rule": inner}});
            }
            commands.push(r);
        }
    }
    run(
        &["-j", "-f", "-"],
        Some(&json!({"nftables": commands})),
        &format!("bridge {bridge}"),
    )?;
    Ok(())
}

/// Removes every rule tagged for `bridge`, and berth's table once it holds none.
pub fn remove_network(bridge: &str) -> Result<(), NftError> {
    let rules = match ruleset() {
        Ok(r) => r,
        // No nft: berth cannot have made rules either.
        Err(NftError::Missing(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let comment = tag(bridge);
    let mut commands = Vec::new();
    let mut ours_left = 0;
    let mut table_exists = false;
    for item in &rules {
        if let Some(t) = item.get("table")
            && t["family"] == "inet"
            && t["name"] == TABLE
        {
            table_exists = true;
        }
        let Some(r) = item.get("rule") else {
            continue;
        };
        if r["comment"] == comment.as_str() {
            commands.push(
                json!({"delete": {"rule": {"family": r["family"], "table": r["table"],
                "chain": r["chain"], "handle": r["handle"]}}}),
            );
        } else if r["family"] == "inet" && r["table"] == TABLE {
            ours_left += 1;
        }
    }
    if table_exists && ours_left == 0 {
        commands.push(json!({"delete": {"table": {"family": "inet", "name": TABLE}}}));
    }
    if commands.is_empty() {
        return Ok(());
    }
    run(
        &["-j", "-f", "-"],
        Some(&json!({"nftables": commands})),
        &format!("bridge {bridge}"),
    )?;
    Ok(())
}

/// The bridges berth has rules for (for the leak check and diagnostics).
pub fn tagged_bridges() -> Result<Vec<String>, NftError> {
    let mut out: Vec<String> = ruleset()?
        .iter()
        .filter_map(|v| v.get("rule"))
        .filter_map(|r| {
            r["comment"]
                .as_str()?
                .strip_prefix("berth:")
                .map(String::from)
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dropping_filter_forward_chains_get_accepts() {
        let rules = vec![
            json!({"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "hook": "forward", "policy": "drop"}}),
            json!({"chain": {"family": "ip6", "table": "filter", "name": "FORWARD", "hook": "forward", "policy": "accept"}}),
            json!({"chain": {"family": "inet", "table": "berth", "name": "forward", "hook": "forward", "policy": "accept"}}),
        ];
        assert_eq!(
            dropping_forward_chains(&rules),
            [("ip".to_string(), "filter".to_string())]
        );
    }

    #[test]
    fn masquerade_matches_the_subnet_by_family() {
        let v4: Subnet = "10.1.0.0/16".parse().unwrap();
        let m = saddr_match(&v4, "==");
        assert_eq!(m["match"]["left"]["payload"]["protocol"], "ip");
        assert_eq!(m["match"]["right"]["prefix"]["len"], 16);
        let v6: Subnet = "fd00:1::/64".parse().unwrap();
        assert_eq!(
            saddr_match(&v6, "==")["match"]["left"]["payload"]["protocol"],
            "ip6"
        );
    }
}
