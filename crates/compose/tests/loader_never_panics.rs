//! Whatever the input, the loader returns a value or an error; it never panics.
//! Random bytes, random YAML-like text, and random compose documents built from the
//! keys Compose knows (so that they reach the deeper stages: transform, merge,
//! extends, normalization, typing) all go through the whole pipeline.

use std::path::PathBuf;

use berth_compose::loader::{self, LoadOptions};
use berth_compose::render::{Format, Rendered};
use proptest::prelude::*;

fn load(text: &str) {
    let dir = std::env::temp_dir();
    let mut opts = LoadOptions::new(
        dir,
        [("HOME".to_string(), "/root".to_string())]
            .into_iter()
            .collect(),
    );
    opts.files = vec![PathBuf::from("-")];
    opts.project_name = Some("fuzz".into());
    opts.stdin = Some(text.to_string());
    if let Ok(loaded) = loader::load(&opts) {
        let r = Rendered::new(&loaded);
        let _ = r.to_string(Format::Json);
        let _ = r.to_string(Format::Yaml);
        let _ = r.hashes("*");
    }
}

const SERVICE_KEYS: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "depends_on",
    "networks",
    "network_mode",
    "labels",
    "extends",
    "healthcheck",
    "deploy",
    "restart",
    "profiles",
    "secrets",
    "configs",
    "ulimits",
    "extra_hosts",
    "dns",
    "tmpfs",
    "devices",
    "links",
    "volumes_from",
    "scale",
    "container_name",
    "mem_limit",
    "cpus",
    "stop_grace_period",
    "logging",
    "gpus",
    "sysctls",
    "x-ext",
];

const SCALARS: &[&str] = &[
    "nginx",
    "\"8080:80\"",
    "80",
    "\"80-82:80-82\"",
    "./dir",
    "data:/data:ro",
    "true",
    "1.5",
    "null",
    "\"\"",
    "${VAR:-x}",
    "$$",
    "1m30s",
    "512m",
    "web",
    "[]",
    "{}",
    "service:web",
    "\"127.0.0.1::80/udp\"",
    "!reset []",
    "!override {}",
    "0777",
    "-1",
    "~",
    "a=b",
    "*",
];

fn scalar() -> impl Strategy<Value = String> {
    prop::sample::select(SCALARS).prop_map(str::to_string)
}

fn value(depth: u32) -> BoxedStrategy<String> {
    if depth == 0 {
        return scalar().boxed();
    }
    prop_oneof![
        3 => scalar(),
        1 => prop::collection::vec(value(depth - 1), 0..3).prop_map(|items| format!("[{}]", items.join(", "))),
        1 => prop::collection::vec((prop::sample::select(SERVICE_KEYS), value(depth - 1)), 0..3)
            .prop_map(|kv| format!("{{{}}}", kv.into_iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "))),
    ]
    .boxed()
}

fn service() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(SERVICE_KEYS), value(2)), 0..6).prop_map(|kv| {
        kv.into_iter()
            .map(|(k, v)| format!("    {k}: {v}\n"))
            .collect::<String>()
    })
}

fn compose_document() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            (
                prop::sample::select(&["web", "db", "x", "y"][..]),
                service(),
            ),
            0..4,
        ),
        prop::option::of(value(2)),
        prop::option::of(value(2)),
    )
        .prop_map(|(services, networks, volumes)| {
            let mut doc = String::from("services:\n");
            for (name, body) in services {
                doc.push_str(&format!("  {name}:\n{body}"));
            }
            if let Some(n) = networks {
                doc.push_str(&format!("networks: {n}\n"));
            }
            if let Some(v) = volumes {
                doc.push_str(&format!("volumes: {v}\n"));
            }
            doc
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        load(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_yaml_like_text(text in "[a-z:\\-\\[\\]{}&*!|>'\"#$ \n0-9]{0,300}") {
        load(&text);
    }

    #[test]
    fn random_compose_documents(doc in compose_document()) {
        load(&doc);
    }
}
