//! Compose's labels, so that berth and Docker Compose recognise each other's objects.

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const NUMBER: &str = "com.docker.compose.container-number";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// A one-off container's random id (`compose run`).
pub const SLUG: &str = "com.docker.compose.slug";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const IMAGE: &str = "com.docker.compose.image";
pub const VERSION: &str = "com.docker.compose.version";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";

/// The Compose version berth's labels carry (the Compose v2 it follows).
pub const COMPOSE_VERSION: &str = "2.40.3";

/// The service a container belongs to, by its label (empty when it has none).
pub fn service_of(container: &berth_engine::container::Container) -> &str {
    container
        .record
        .config
        .labels
        .get(SERVICE)
        .map_or("", String::as_str)
}

/// Whether a container is a one-off (`compose run`), not one of a service's replicas.
pub fn is_oneoff(container: &berth_engine::container::Container) -> bool {
    container
        .record
        .config
        .labels
        .get(ONEOFF)
        .is_some_and(|v| v == "True")
}
