//! Merge rules, each pinned against `docker compose -f base -f override config` (v2.40.3).

use super::*;
use crate::transform::canonical;
use crate::transform::testutil::{json, node};
use serde_json::{Value as Json, json};

fn canon(v: Json) -> Node {
    let mut n = node(v);
    assert!(canonical(&mut n).is_ok());
    n
}

fn merged(base: Json, over: Json) -> Json {
    match merge_projects(canon(base), canon(over)) {
        Ok(n) => json(&n),
        Err(e) => json!(e.to_string()),
    }
}

fn web(v: Json) -> Json {
    json!({ "services": { "web": v } })
}

/// Tags `services.web.<attr>` in a canonical tree.
fn tagged(mut project: Node, attr: &str, tag: Tag) -> Node {
    if let Some(n) = project
        .get_mut("services")
        .and_then(|s| s.get_mut("web"))
        .and_then(|w| w.get_mut(attr))
    {
        n.tag = Some(tag);
    }
    project
}

#[test]
fn override_file_scenario() {
    let out = merged(
        web(json!({
            "build": "./a", "ports": ["8080:80"], "expose": ["3000"],
            "environment": {"A": "1", "B": "2"}, "labels": ["x=1"],
            "extra_hosts": {"aa": ["2.2.2.2"]}, "volumes": ["/a:/data", "/b:/other"],
            "secrets": ["s1"], "dns": "1.1.1.1", "depends_on": {"db": {"condition": "service_healthy"}},
            "networks": {"front": {"aliases": ["x"]}}, "command": ["a", "b"],
            "healthcheck": {"test": ["CMD", "x"], "interval": "10s"},
            "ulimits": {"nproc": 10, "nofile": {"soft": 1, "hard": 2}}, "cap_add": ["A"], "tmpfs": "/t1"
        })),
        web(json!({
            "build": {"dockerfile": "Other"},
            "ports": ["8080:80", "127.0.0.1:8080:80", {"target": 80, "published": "8080"}],
            "expose": ["3000", 3001], "environment": ["B=3", "C"], "labels": {"y": "2"},
            "extra_hosts": ["aa=2.2.2.2", "bb:4.4.4.4"], "volumes": ["/c:/data:ro"],
            "secrets": [{"source": "s1", "target": "/run/secrets/s1", "mode": "0400"}],
            "dns": ["8.8.8.8", "1.1.1.1"], "depends_on": ["db"], "networks": ["back"], "command": "c",
            "healthcheck": {"test": "y"}, "ulimits": {"nproc": {"soft": 3, "hard": 4}, "nofile": 5},
            "cap_add": ["A", "B"], "tmpfs": ["/t1", "/t2"]
        })),
    );
    let w = &out["services"]["web"];
    assert_eq!(w["build"], json!({"context": "./a", "dockerfile": "Other"}));
    assert_eq!(
        w["ports"],
        json!([
            {"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"},
            {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8080", "protocol": "tcp"},
        ])
    );
    assert_eq!(w["expose"], json!(["3000", "3001"]));
    assert_eq!(w["environment"], json!({"A": "1", "B": "3", "C": null}));
    assert_eq!(w["labels"], json!({"x": "1", "y": "2"}));
    assert_eq!(w["extra_hosts"], json!(["aa=2.2.2.2", "bb=4.4.4.4"]));
    assert_eq!(
        w["volumes"],
        json!([
            {"type": "bind", "source": "/c", "target": "/data", "read_only": true, "bind": {"create_host_path": true}},
            {"type": "bind", "source": "/b", "target": "/other", "bind": {"create_host_path": true}},
        ])
    );
    assert_eq!(
        w["secrets"],
        json!([{"source": "s1", "target": "/run/secrets/s1", "mode": "0400"}])
    );
    assert_eq!(w["dns"], json!(["1.1.1.1", "8.8.8.8"]));
    // The override's default condition wins over the base's explicit one.
    assert_eq!(
        w["depends_on"],
        json!({"db": {"condition": "service_started", "required": true}})
    );
    assert_eq!(
        w["networks"],
        json!({"front": {"aliases": ["x"]}, "back": null})
    );
    assert_eq!(w["command"], json!("c"));
    assert_eq!(
        w["healthcheck"],
        json!({"test": ["CMD-SHELL", "y"], "interval": "10s"})
    );
    assert_eq!(
        w["ulimits"],
        json!({"nproc": {"soft": 3, "hard": 4}, "nofile": {"single": 5}})
    );
    assert_eq!(w["cap_add"], json!(["A", "B"]));
    assert_eq!(w["tmpfs"], json!(["/t1", "/t2"]));
}

#[test]
fn logging_options_survive_only_the_same_driver() {
    let base = web(json!({"logging": {"driver": "json-file", "options": {"max-size": "1m"}}}));
    assert_eq!(
        merged(base.clone(), web(json!({"logging": {"driver": "syslog"}})))["services"]["web"]["logging"],
        json!({"driver": "syslog"})
    );
    assert_eq!(
        merged(
            base.clone(),
            web(json!({"logging": {"options": {"max-file": "2"}}}))
        )["services"]["web"]["logging"],
        json!({"driver": "json-file", "options": {"max-size": "1m", "max-file": "2"}})
    );
}

#[test]
fn reset_removes_and_override_replaces() {
    let base = canon(web(
        json!({"image": "x", "volumes": ["/x:/y"], "ports": ["1:1"], "environment": {"A": "1"}}),
    ));
    let over = canon(web(
        json!({"volumes": [], "ports": ["2:2"], "environment": {"B": "2"}}),
    ));
    let over = tagged(
        tagged(tagged(over, "volumes", Tag::Reset), "ports", Tag::Override),
        "environment",
        Tag::Override,
    );
    let out = merge_projects(base, over)
        .map(|n| json(&n))
        .unwrap_or_default();
    assert_eq!(
        out["services"]["web"],
        json!({"image": "x", "ports": [{"mode": "ingress", "target": 2, "published": "2", "protocol": "tcp"}], "environment": {"B": "2"}})
    );
}

#[test]
fn single_file_drops_reset_and_dedups() {
    let file = canon(web(
        json!({"image": "x", "cap_add": ["A", "A"], "volumes": ["/x:/data", "/y:/data"], "ports": ["1:1"]}),
    ));
    let file = tagged(file, "ports", Tag::Reset);
    let out = merge_projects(node(json!({})), file)
        .map(|n| json(&n))
        .unwrap_or_default();
    assert_eq!(
        out["services"]["web"],
        json!({"image": "x", "cap_add": ["A"], "volumes": [
            {"type": "bind", "source": "/y", "target": "/data", "bind": {"create_host_path": true}}
        ]})
    );
}

#[test]
fn null_override_keeps_base_but_not_in_key_values() {
    let out = merged(
        web(
            json!({"image": "x", "environment": {"A": "1"}, "networks": {"n": {"aliases": ["a"]}}}),
        ),
        web(json!({"image": null, "environment": ["A"], "networks": {"n": null}})),
    );
    assert_eq!(
        out["services"]["web"],
        json!({"image": "x", "environment": {"A": null}, "networks": {"n": {"aliases": ["a"]}}})
    );
}

#[test]
fn services_merge_for_extends() {
    let base = canon(web(
        json!({"image": "x", "ports": ["80"], "command": "a b"}),
    ));
    let over = canon(web(json!({"ports": ["80", "81"], "command": ["c"]})));
    let take = |n: Node| {
        n.get("services")
            .and_then(|s| s.get("web"))
            .cloned()
            .unwrap_or(Node::null(Default::default()))
    };
    let out = merge_services(take(base), take(over))
        .map(|n| json(&n))
        .unwrap_or_default();
    assert_eq!(out["command"], json!(["c"]));
    assert_eq!(out["ports"].as_array().map(Vec::len), Some(2));
}

#[test]
fn ipam_config_merges_by_subnet() {
    let net = |configs: Json| json!({"networks": {"n": {"ipam": {"config": configs}}}});
    let out = merged(
        net(json!([{"subnet": "10.0.0.0/24", "gateway": "10.0.0.1"}, {"subnet": "10.1.0.0/24"}])),
        net(json!([{"subnet": "10.0.0.0/24", "ip_range": "10.0.0.0/25"}])),
    );
    assert_eq!(
        out["networks"]["n"]["ipam"]["config"],
        json!([{"subnet": "10.0.0.0/24", "gateway": "10.0.0.1", "ip_range": "10.0.0.0/25"}])
    );
}

#[test]
fn mismatched_shapes_are_errors() {
    let out = merged(
        web(json!({"deploy": {"replicas": 1}})),
        web(json!({"deploy": "x"})),
    );
    assert_eq!(
        out,
        json!("test.yaml:1:1: services.web.deploy: cannot override a mapping with a string")
    );
}
