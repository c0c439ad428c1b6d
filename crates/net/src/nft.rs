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

/// `verb` (`add` appends, `insert` puts it first) a rule with berth's comment.
fn rule(
    verb: &str,
    family: &str,
    table: &str,
    chain: &str,
    comment: &str,
    expr: Vec<Value>,
) -> Value {
    json!({verb: {"rule": {"family": family, "table": table, "chain": chain,
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

/// What the listed ruleset holds of berth's for `comment`: the commands deleting those
/// rules, how many other rules berth's table has, and whether the table exists.
fn ours(listed: &[Value], comment: &str) -> (Vec<Value>, usize, bool) {
    let mut deletions = Vec::new();
    let mut others = 0;
    let mut table_exists = false;
    for item in listed {
        if let Some(t) = item.get("table")
            && t["family"] == "inet"
            && t["name"] == TABLE
        {
            table_exists = true;
        }
        let Some(r) = item.get("rule") else {
            continue;
        };
        if r["comment"] == comment {
            deletions.push(
                json!({"delete": {"rule": {"family": r["family"], "table": r["table"],
                "chain": r["chain"], "handle": r["handle"]}}}),
            );
        } else if r["family"] == "inet" && r["table"] == TABLE {
            others += 1;
        }
    }
    (deletions, others, table_exists)
}

fn apply(commands: Vec<Value>, bridge: &str) -> Result<(), NftError> {
    run(
        &["-j", "-f", "-"],
        Some(&json!({"nftables": commands})),
        &format!("bridge {bridge}"),
    )
    .map(|_| ())
}

/// Installs a network's rules, replacing any it had, in one transaction.
pub fn add_network(rules: &NetworkRules) -> Result<(), NftError> {
    let listed = ruleset()?;
    let comment = tag(&rules.bridge);
    let bridge = rules.bridge.as_str();
    let (mut commands, _, _) = ours(&listed, &comment);
    commands.extend([
        json!({"add": {"table": {"family": "inet", "name": TABLE}}}),
        json!({"add": {"chain": {"family": "inet", "table": TABLE, "name": "postrouting",
            "type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"}}}),
        json!({"add": {"chain": {"family": "inet", "table": TABLE, "name": "forward",
            "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}}),
    ]);
    if rules.internal {
        // Nothing from the bridge to elsewhere, nothing from elsewhere to the bridge.
        for (from, to) in [("iifname", "oifname"), ("oifname", "iifname")] {
            commands.push(rule(
                "add",
                "inet",
                TABLE,
                "forward",
                &comment,
                vec![
                    name_match(from, "==", bridge),
                    name_match(to, "!=", bridge),
                    json!({"drop": null}),
                ],
            ));
        }
    } else {
        for subnet in &rules.subnets {
            commands.push(rule(
                "add",
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
    for (family, table) in dropping_forward_chains(&listed) {
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
            commands.push(rule("insert", &family, &table, "FORWARD", &comment, expr));
        }
    }
    apply(commands, bridge)
}

/// Removes every rule tagged for `bridge`, and berth's table once it holds none.
pub fn remove_network(bridge: &str) -> Result<(), NftError> {
    let listed = match ruleset() {
        Ok(r) => r,
        // No nft: berth cannot have made rules either.
        Err(NftError::Missing(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let (mut commands, others, table_exists) = ours(&listed, &tag(bridge));
    if table_exists && others == 0 {
        commands.push(json!({"delete": {"table": {"family": "inet", "name": TABLE}}}));
    }
    if commands.is_empty() {
        return Ok(());
    }
    apply(commands, bridge)
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
