//! Typed compose-spec model, field for field in compose-go v2.9.1's order (the JSON output
//! order of `config --format json`). Built from the long-form node tree with
//! [`crate::de::from_node`]; serialized with serde through the Go-exact JSON writer.
//!
//! Conventions: Go `omitempty` is `skip_serializing_if` (empty strings, zero numbers,
//! false, `None`, empty collections); a Go non-pointer struct is always printed; Go maps
//! are `BTreeMap`s so keys come out sorted; fields Go tags `json:"-"` are `#[serde(skip)]`.
//! Every struct denies unknown keys; `x-*` keys are dropped except at the top level (see
//! [`crate::de`]).

pub mod build;
pub mod deploy;
pub mod project;
pub mod service;
pub mod types;

pub use build::BuildConfig;
pub use deploy::{
    DeployConfig, DeviceRequest, DiscreteGenericResource, GenericResource, Placement,
    PlacementPreferences, Resource, Resources, RestartPolicy, UpdateConfig,
};
pub use project::{
    ConfigObjConfig, FileObjectConfig, IncludeConfig, IpamConfig, IpamPool, ModelConfig,
    NetworkConfig, Project, SecretConfig, VolumeConfig,
};
pub use service::{
    BlkioConfig, CredentialSpecConfig, DependsOnCondition, DevelopConfig, DeviceMapping, EnvFile,
    ExtendsConfig, FileReferenceConfig, HealthCheckConfig, LoggingConfig, ServiceConfig,
    ServiceConfigObjConfig, ServiceDependency, ServiceHook, ServiceModelConfig,
    ServiceNetworkConfig, ServicePortConfig, ServiceProviderConfig, ServiceSecretConfig,
    ServiceVolumeBind, ServiceVolumeConfig, ServiceVolumeImage, ServiceVolumeTmpfs,
    ServiceVolumeVolume, ThrottleDevice, Trigger, VolumeType, WatchAction, WeightDevice,
};
pub use types::{
    DeviceCount, Duration, Extensions, External, FileMode, HealthCheckTest, HostsList, Labels,
    Mapping, MappingWithEquals, MultiOptions, Options, Scalar, ShellCommand, SshConfig, SshKey,
    StringList, StringOrNumber, StringOrNumberList, UlimitsConfig, UnitBytes, shell_split,
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::de::{from_node, testing::node};

    fn err(v: serde_json::Value) -> String {
        from_node::<Project>(&node(&v)).unwrap_err().to_string()
    }

    #[test]
    fn enums_and_strictness() {
        let e = err(json!({"services": {"a": {"depends_on": {"b": {"condition": "started"}}}}}));
        assert!(e.ends_with("services.a.depends_on.b.condition: invalid value \"started\", must be one of \"service_started\", \"service_healthy\", \"service_completed_successfully\""), "{e}");
        let e = err(json!({"services": {"a": {"volumes": [{"type": "nfs", "target": "/x"}]}}}));
        assert!(
            e.contains("services.a.volumes[0].type: invalid value \"nfs\""),
            "{e}"
        );
        let e = err(json!({"services": {"a": {"container_name": 12}}}));
        assert!(
            e.ends_with("services.a.container_name: must be a string"),
            "{e}"
        );
        let e = err(json!({"services": {"a": {"x-ok": 1, "pre_start": []}}}));
        assert!(
            e.contains("services.a: unknown key \"pre_start\", did you mean"),
            "{e}"
        );
        let e = err(json!({"services": {"a": {"portz": []}}}));
        assert!(
            e.ends_with("unknown key \"portz\", did you mean \"ports\"?"),
            "{e}"
        );
        let e = err(json!({"services": {"a": {"zzzzzz": []}}}));
        assert!(e.ends_with("unknown key \"zzzzzz\""), "{e}");
    }

    #[test]
    fn project_json_shape() {
        let mut p: Project = from_node(&node(&json!({
            "name": "demo",
            "x-z": {"b": 1, "a": 2},
            "services": {"web": {"image": "nginx", "ports": [{"target": 80, "published": 8080}],
                "depends_on": {"db": {"condition": "service_healthy"}}}},
            "volumes": {"data": null},
        })))
        .unwrap();
        p.set_service_names();
        assert_eq!(p.service_names(), ["web"]);
        assert_eq!(p.service("web").map(|s| s.name.as_str()), Some("web"));
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(
            text,
            r#"{"name":"demo","services":{"web":{"command":null,"depends_on":{"db":{"condition":"service_healthy","required":true}},"entrypoint":null,"image":"nginx","ports":[{"target":80,"published":"8080"}]}},"volumes":{"data":{}},"x-z":{"a":2,"b":1}}"#
        );
    }
}

#[cfg(test)]
mod corpus_tests {
    //! Every `config --format json` output of the corpus is itself a long-form compose
    //! document: reading it into the model and writing it back must give it unchanged.

    use std::path::PathBuf;

    use super::Project;
    use crate::de::{from_node, testing::node};

    fn corpus() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
    }

    fn outputs(dir: &std::path::Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                outputs(&p, found);
            } else if p.to_string_lossy().ends_with(".expected.config.json") {
                found.push(p);
            }
        }
    }

    /// JSON equality where numbers compare as f32 (serde_json widens our f32 fields;
    /// the Go-exact writer prints them as Go does).
    fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        use serde_json::Value as V;
        match (a, b) {
            (V::Number(x), V::Number(y)) => {
                x.as_f64().map(|f| f as f32) == y.as_f64().map(|f| f as f32)
            }
            (V::Array(x), V::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (V::Object(x), V::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
            }
            _ => a == b,
        }
    }

    #[test]
    fn corpus_outputs_round_trip() {
        let mut files = Vec::new();
        outputs(&corpus(), &mut files);
        let mut failures = Vec::new();
        for f in &files {
            // Output-only spelling: Go prints blkio devices with its field names (`Path`).
            if f.ends_with("TestBlkioConfig.expected.config.json") {
                continue;
            }
            let text = std::fs::read_to_string(f).unwrap();
            let Ok(expected) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            match from_node::<Project>(&node(&expected)) {
                Err(e) => failures.push(format!("{}: {e}", f.display())),
                Ok(p) => {
                    let got = serde_json::to_value(&p).unwrap();
                    if !same(&got, &expected) {
                        failures.push(format!(
                            "{}: differs\n got {got}\nwant {expected}",
                            f.display()
                        ));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} failed:\n{}",
            failures.len(),
            files.len(),
            failures.join("\n")
        );
    }
}
