//! The OCI distribution API, client side: where a reference's registry is (Docker Hub's
//! mirrors first), how to reach and trust it (`settings`), who the user is there
//! (`credentials`, Docker's own config file), the token dance (`auth`), the requests
//! (`client`) and what manifests say (`manifest`). `image::pull` and `image::push` bring
//! images in and out of the store through it.

mod auth;
pub mod client;
pub mod credentials;
pub mod manifest;
pub mod settings;

pub use client::{Client, Payload, Reply};
pub use credentials::{Credential, DockerConfig};
pub use manifest::{Manifest, Platform};
pub use settings::Settings;

use crate::digest::Digest;
use crate::reference::Reference;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot reach registry {registry}: {reason}")]
    Unreachable { registry: String, reason: String },
    #[error("{registry}: unauthorized: {message}")]
    Unauthorized { registry: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{registry} answered {status} to {what}: {message}")]
    Status {
        registry: String,
        status: u16,
        what: String,
        message: String,
    },
    #[error("credential helper {helper}: {message}")]
    Helper { helper: String, message: String },
    #[error("{0}")]
    Content(String),
}

/// What the engine needs to talk to registries: the settings and the user's credentials.
#[derive(Clone, Debug)]
pub struct Registry {
    pub settings: Settings,
    pub credentials: DockerConfig,
}

/// A manifest as fetched: its bytes, the type it was served as, and its digest.
#[derive(Clone, Debug)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub digest: Digest,
}

impl Registry {
    /// berth's settings (or Docker's) and Docker's credentials, as the environment says.
    pub fn from_environment() -> Result<Registry, RegistryError> {
        Ok(Registry {
            settings: Settings::load()?,
            credentials: DockerConfig::locate(),
        })
    }

    /// A client of `registry` (a domain, `docker.io`) with the user's credential there.
    pub fn client(&self, registry: &str) -> Result<Client, RegistryError> {
        let credential = self.credentials.get(registry)?;
        Client::new(&self.settings, registry, credential)
    }

    /// The clients to try for `reference`, in order: Docker Hub's mirrors, then the
    /// registry itself.
    pub fn clients_for(&self, reference: &Reference) -> Result<Vec<Client>, RegistryError> {
        let mut out = Vec::new();
        if reference.domain() == "docker.io" {
            for mirror in &self.settings.mirrors {
                out.push(Client::mirror(&self.settings, mirror)?);
            }
        }
        out.push(self.client(reference.domain())?);
        Ok(out)
    }
}

/// `GET /v2/<path>/manifests/<target>`, verified: its digest is computed from its bytes and
/// must equal `expected` when the caller pins one, and the registry's
/// `Docker-Content-Digest` when it sends one.
pub fn fetch_manifest(
    client: &Client,
    reference: &Reference,
    target: &str,
    expected: Option<&Digest>,
) -> Result<FetchedManifest, RegistryError> {
    let scope = auth_scope(reference, false);
    let path = format!("/v2/{}/manifests/{target}", reference.path());
    let reply = client.send(
        "GET",
        &path,
        &scope,
        &[("Accept", manifest::ACCEPT)],
        Payload::Empty,
    )?;
    let shown = reference.familiar_name();
    match reply.status {
        200 => {}
        404 => {
            return Err(RegistryError::NotFound(format!(
                "manifest for {shown}{} not found: {}",
                target_suffix(target),
                reply.error_message()
            )));
        }
        401 | 403 => {
            return Err(RegistryError::Unauthorized {
                registry: client.registry().to_string(),
                message: format!(
                    "pull access denied for {shown}, repository does not exist or may require 'berth login': {}",
                    reply.error_message()
                ),
            });
        }
        status => {
            return Err(RegistryError::Status {
                registry: client.registry().to_string(),
                status,
                what: format!("GET {path}"),
                message: reply.error_message(),
            });
        }
    }
    let content_type = reply.header("content-type").map(str::to_string);
    let header_digest = reply.header("docker-content-digest").map(str::to_string);
    let bytes = reply.bytes(client::MAX_MANIFEST)?;
    let digest = Digest::of_bytes(&bytes);
    if let Some(expected) = expected
        && *expected != digest
    {
        return Err(RegistryError::Content(format!(
            "manifest for {shown}@{expected} has digest {digest}: the registry sent other content"
        )));
    }
    if let Some(header) = header_digest.filter(|h| h.starts_with("sha256:"))
        && header != digest.to_string()
    {
        return Err(RegistryError::Content(format!(
            "manifest for {shown}{}: the registry says its digest is {header} but its content has {digest}",
            target_suffix(target)
        )));
    }
    Ok(FetchedManifest {
        bytes,
        content_type,
        digest,
    })
}

/// `:tag` or `@sha256:...` after a name.
fn target_suffix(target: &str) -> String {
    if target.starts_with("sha256:") {
        format!("@{target}")
    } else {
        format!(":{target}")
    }
}

/// `GET /v2/<path>/blobs/<digest>`: the answer, status 200 checked.
pub fn fetch_blob(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
) -> Result<Reply, RegistryError> {
    let path = format!("/v2/{}/blobs/{digest}", reference.path());
    let reply = client.send(
        "GET",
        &path,
        &auth_scope(reference, false),
        &[],
        Payload::Empty,
    )?;
    match reply.status {
        200 => Ok(reply),
        404 => Err(RegistryError::NotFound(format!(
            "blob {digest} of {} not found in {}: {}",
            reference.familiar_name(),
            client.registry(),
            reply.error_message()
        ))),
        status => Err(RegistryError::Status {
            registry: client.registry().to_string(),
            status,
            what: format!("GET {path}"),
            message: reply.error_message(),
        }),
    }
}

/// The token scope for `reference`'s repository.
pub fn auth_scope(reference: &Reference, push: bool) -> String {
    auth::repository_scope(reference.path(), push)
}

/// The repository's tags (`GET /v2/<path>/tags/list`, following `Link` pages).
pub fn list_tags(client: &Client, reference: &Reference) -> Result<Vec<String>, RegistryError> {
    let scope = auth_scope(reference, false);
    let mut target = format!("/v2/{}/tags/list", reference.path());
    let mut tags = Vec::new();
    for _ in 0..1000 {
        let reply = client.send("GET", &target, &scope, &[], Payload::Empty)?;
        if reply.status != 200 {
            return Err(RegistryError::Status {
                registry: client.registry().to_string(),
                status: reply.status,
                what: format!("GET {target}"),
                message: reply.error_message(),
            });
        }
        // `Link: </v2/x/tags/list?last=a&n=100>; rel="next"`
        let next = reply
            .header("link")
            .and_then(|l| l.split_once('<'))
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(url, _)| url.to_string());
        let body = reply.bytes(client::MAX_MANIFEST)?;
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Content(format!("unreadable tag list: {e}")))?;
        tags.extend(
            value["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_string)),
        );
        match next {
            Some(url) => target = url,
            None => break,
        }
    }
    Ok(tags)
}
