//! `com.docker.compose.config-hash`: Compose's hash of a service definition, so that
//! containers created by Docker Compose and by berth recognise each other. It is the
//! sha256 of Go's JSON encoding of the service without the keys that do not change
//! what a container runs (build, pull_policy, scale/replicas, depends_on, profiles).

use sha2::{Digest, Sha256};

use crate::gojson;
use crate::model::ServiceConfig;

/// The hex sha256 Compose v2.40 stores in the `config-hash` label.
pub fn service_hash(service: &ServiceConfig) -> String {
    let mut s = service.clone();
    s.build = None;
    s.pull_policy = String::new();
    s.scale = None;
    if let Some(deploy) = s.deploy.as_mut() {
        deploy.replicas = None;
    }
    s.depends_on.clear();
    s.profiles.clear();
    let json = gojson::to_string_compact(&s);
    let digest = Sha256::digest(json.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
