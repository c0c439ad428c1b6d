//! One registry's HTTP API, synchronously (ureq, rustls): the scheme found at the first
//! contact (`GET /v2/`; HTTPS, or plain HTTP for loopback and insecure registries when
//! HTTPS fails), TLS roots from the system bundle plus the registry's `certs.d`, and
//! authorization added to each request: a bearer token per scope from the token server
//! the registry names (fetched again when a request comes back 401), or basic
//! credentials.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use super::RegistryError;
use super::auth::{self, Challenge};
use super::credentials::Credential;
use super::settings::{SYSTEM_ROOTS, Settings};

/// The most a manifest or a token answer may be (Docker's manifest limit).
pub const MAX_MANIFEST: u64 = 4 << 20;

/// A request's body.
pub enum Payload<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// A stream of the given length (sent with that `Content-Length`).
    Reader(&'a mut dyn Read, u64),
}

/// An answer, its body not read yet.
pub struct Reply {
    pub status: u16,
    headers: ureq::http::HeaderMap,
    body: ureq::Body,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, at most `limit` bytes.
    pub fn bytes(mut self, limit: u64) -> Result<Vec<u8>, RegistryError> {
        self.body
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| RegistryError::Content(format!("cannot read the answer: {e}")))
    }

    pub fn into_reader(self) -> impl Read + 'static {
        self.body.into_reader()
    }

    /// The registry's error message (`unauthorized: authentication required`), from its
    /// JSON error body if it has one.
    pub fn error_message(self) -> String {
        let status = self.status;
        let bytes = self.bytes(64 << 10).unwrap_or_default();
        error_message(status, &bytes)
    }
}

/// `code: message` of the distribution spec's `{"errors":[...]}`, or the status.
pub fn error_message(status: u16, body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let first = parsed
        .as_ref()
        .and_then(|v| v["errors"].as_array())
        .and_then(|e| e.first())
        .cloned();
    match first {
        Some(e) => {
            let code = e["code"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase()
                .replace('_', " ");
            let message = e["message"].as_str().unwrap_or_default();
            match (code.is_empty(), message.is_empty()) {
                (false, false) => format!("{code}: {message}"),
                (false, true) => code,
                _ => message.to_string(),
            }
        }
        None => format!("HTTP status {status}"),
    }
}

#[derive(Default)]
struct AuthState {
    challenge: Option<Challenge>,
    tokens: HashMap<String, String>,
}

pub struct Client {
    agent: ureq::Agent,
    /// The TLS material, for an agent that does not verify the server (an insecure
    /// registry whose certificate does not verify, as Docker treats it).
    tls: Tls,
    unverified: OnceLock<ureq::Agent>,
    verify: std::sync::atomic::AtomicBool,
    warnings: Mutex<Vec<String>>,
    /// The registry's name, for credentials and messages (`docker.io`, `127.0.0.1:5000`).
    registry: String,
    /// Where its API is (`registry-1.docker.io` for Docker Hub).
    host: String,
    insecure: bool,
    /// `https://host` or `http://host`, once known.
    base: OnceLock<String>,
    credential: Option<Credential>,
    state: Mutex<AuthState>,
}

/// Docker Hub's API host.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

impl Client {
    /// A client of `registry` (a reference's domain) with `credential`.
    pub fn new(
        settings: &Settings,
        registry: &str,
        credential: Option<Credential>,
    ) -> Result<Client, RegistryError> {
        let host = if registry == "docker.io" {
            DOCKER_HUB_API
        } else {
            registry
        };
        let tls = Tls::load(settings, host)?;
        Ok(Client {
            agent: tls.agent(false),
            tls,
            unverified: OnceLock::new(),
            verify: std::sync::atomic::AtomicBool::new(true),
            warnings: Mutex::new(Vec::new()),
            registry: registry.to_string(),
            host: host.to_string(),
            insecure: settings.is_insecure(host),
            base: OnceLock::new(),
            credential,
            state: Mutex::new(AuthState::default()),
        })
    }

    /// A client of the mirror at `url` (`http://127.0.0.1:5000`): its scheme is the URL's.
    pub fn mirror(settings: &Settings, url: &str) -> Result<Client, RegistryError> {
        let host = url
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
            .unwrap_or(url);
        let tls = Tls::load(settings, host)?;
        let client = Client {
            agent: tls.agent(false),
            tls,
            unverified: OnceLock::new(),
            verify: std::sync::atomic::AtomicBool::new(true),
            warnings: Mutex::new(Vec::new()),
            registry: host.to_string(),
            host: host.to_string(),
            insecure: url.starts_with("http://"),
            base: OnceLock::new(),
            credential: None,
            state: Mutex::new(AuthState::default()),
        };
        let _ = client.base.set(url.trim_end_matches('/').to_string());
        Ok(client)
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    fn warn(&self, text: String) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(text);
        }
    }

    /// What the client had to accept on the way (an unverified certificate), for the
    /// caller to show.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    fn unreachable(&self, e: &ureq::Error) -> RegistryError {
        let reason = match (rustls_error(e), e) {
            (
                Some(rustls::Error::AlertReceived(
                    rustls::AlertDescription::CertificateRequired
                    | rustls::AlertDescription::BadCertificate,
                )),
                _,
            ) => format!(
                "TLS: the registry wants a client certificate: put it in certs.d/{}/client.cert with its key in client.key",
                self.host
            ),
            (Some(t), _) if self.tls.roots.is_empty() => format!(
                "TLS: {t} (this host has no CA certificates in {SYSTEM_ROOTS}: install the ca-certificates package, or put the registry's CA in certs.d/{}/ca.crt)",
                self.host
            ),
            (Some(t), _) => format!(
                "TLS: {t} (a registry with its own CA needs it in certs.d/{}/ca.crt)",
                self.host
            ),
            (None, ureq::Error::Io(io)) => io.to_string(),
            (None, ureq::Error::HostNotFound) => "host not found".to_string(),
            (None, ureq::Error::Tls(t)) => format!("TLS: {t}"),
            (None, ureq::Error::Timeout(t)) => format!("timed out ({t})"),
            (None, e) => e.to_string(),
        };
        let uri: Option<ureq::http::Uri> = format!("https://{}/", self.host).parse().ok();
        let proxied = |p: &&ureq::Proxy| uri.as_ref().is_some_and(|u| !p.is_no_proxy(u));
        let reason = match self.agent.config().proxy().filter(proxied) {
            Some(proxy) => {
                format!(
                    "{reason} (through the proxy {}:{} the environment sets)",
                    proxy.host(),
                    proxy.port()
                )
            }
            _ => reason,
        };
        RegistryError::Unreachable {
            registry: self.registry.clone(),
            reason,
        }
    }

    /// The API's base URL, found by `GET /v2/` at the first call (which also learns how
    /// the registry wants clients to authenticate).
    fn base(&self) -> Result<&str, RegistryError> {
        if let Some(base) = self.base.get() {
            return Ok(base);
        }
        let https = format!("https://{}", self.host);
        let ping = |base: &str| self.raw("GET", &format!("{base}/v2/"), &[], None, Payload::Empty);
        let reply = match ping(&https) {
            Ok(r) => (https, r),
            Err(e) if self.insecure => {
                // An insecure registry: a certificate that does not verify is taken (with a
                // warning), and plain HTTP is tried when what answers it is a registry.
                let mut found = None;
                if invalid_certificate(&e) {
                    self.verify
                        .store(false, std::sync::atomic::Ordering::Relaxed);
                    match ping(&https) {
                        Ok(r) => {
                            self.warn(format!(
                                "the TLS certificate of {} is not verified ({}): it is an insecure registry; put its CA in certs.d/{}/ca.crt",
                                self.host,
                                tls_reason(&e),
                                self.host
                            ));
                            found = Some((https.clone(), r));
                        }
                        Err(_) => self
                            .verify
                            .store(true, std::sync::atomic::Ordering::Relaxed),
                    }
                }
                match found {
                    Some(f) => f,
                    None => {
                        let http = format!("http://{}", self.host);
                        match ping(&http) {
                            Ok(r) if r.status == 200 || r.status == 401 => (http, r),
                            _ => return Err(self.unreachable(&e)),
                        }
                    }
                }
            }
            Err(e) => return Err(self.unreachable(&e)),
        };
        let (base, reply) = reply;
        self.learn(&reply);
        let _ = self.base.set(base);
        Ok(self.base.get().map(String::as_str).unwrap_or_default())
    }

    /// Takes the challenge of a 401 answer.
    fn learn(&self, reply: &Reply) {
        if reply.status != 401 {
            return;
        }
        if let Some(challenge) = reply
            .header("www-authenticate")
            .and_then(auth::parse_challenge)
            && let Ok(mut state) = self.state.lock()
        {
            state.challenge = Some(challenge);
        }
    }

    fn raw(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        authorization: Option<&str>,
        payload: Payload<'_>,
    ) -> Result<Reply, ureq::Error> {
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        if let Some(a) = authorization {
            builder = builder.header("Authorization", a);
        }
        let agent = if self.verify.load(std::sync::atomic::Ordering::Relaxed) {
            &self.agent
        } else {
            self.unverified.get_or_init(|| self.tls.agent(true))
        };
        let response = match payload {
            Payload::Empty => {
                if matches!(method, "PUT" | "POST" | "PATCH") {
                    builder = builder.header("Content-Length", "0");
                }
                agent.run(builder.body(())?)?
            }
            Payload::Bytes(b) => {
                builder = builder.header("Content-Length", b.len().to_string());
                agent.run(builder.body(b)?)?
            }
            Payload::Reader(r, len) => {
                builder = builder.header("Content-Length", len.to_string());
                agent.run(builder.body(ureq::SendBody::from_reader(r))?)?
            }
        };
        let (parts, body) = response.into_parts();
        Ok(Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    /// The `Authorization` value for `scope`, fetching a token if the registry wants one.
    fn authorization(&self, scope: &str) -> Result<Option<String>, RegistryError> {
        let challenge = self.state.lock().ok().and_then(|s| s.challenge.clone());
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic) => match &self.credential {
                Some(Credential::Basic { username, password }) => Ok(Some(format!(
                    "Basic {}",
                    STANDARD.encode(format!("{username}:{password}"))
                ))),
                _ => Err(RegistryError::Unauthorized {
                    registry: self.registry.clone(),
                    message: format!(
                        "the registry needs a user name and password: run `berth login {}`",
                        self.registry
                    ),
                }),
            },
            Some(Challenge::Bearer { realm, service, .. }) => {
                if let Some(token) = self
                    .state
                    .lock()
                    .ok()
                    .and_then(|s| s.tokens.get(scope).cloned())
                {
                    return Ok(Some(format!("Bearer {token}")));
                }
                let token = self.fetch_token(&realm, service.as_deref(), scope)?;
                if let Ok(mut state) = self.state.lock() {
                    state.tokens.insert(scope.to_string(), token.clone());
                }
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<String, RegistryError> {
        // Several scopes, space-separated (a cross-repository mount needs two).
        let scopes: Vec<String> = scope.split_whitespace().map(str::to_string).collect();
        let url = auth::token_url(realm, service, &scopes);
        let basic;
        let authorization = match &self.credential {
            Some(Credential::Basic { username, password }) => {
                basic = format!(
                    "Basic {}",
                    STANDARD.encode(format!("{username}:{password}"))
                );
                Some(basic.as_str())
            }
            // An identity token is exchanged by OAuth POST; not supported yet.
            Some(Credential::IdentityToken(_)) => {
                return Err(RegistryError::Unauthorized {
                    registry: self.registry.clone(),
                    message: "the stored credential is an identity token, which berth cannot use yet: run `berth login` with a password".into(),
                });
            }
            None => None,
        };
        let reply = self
            .raw("GET", &url, &[], authorization, Payload::Empty)
            .map_err(|e| {
                let mut err = self.unreachable(&e);
                if let RegistryError::Unreachable { reason, .. } = &mut err {
                    *reason = format!("token server {realm}: {reason}");
                }
                err
            })?;
        match reply.status {
            200 => {
                let body = reply.bytes(MAX_MANIFEST)?;
                auth::token_from(&body).ok_or_else(|| {
                    RegistryError::Content(format!(
                        "the token server {realm} of {} sent no token",
                        self.registry
                    ))
                })
            }
            401 | 403 => Err(RegistryError::Unauthorized {
                registry: self.registry.clone(),
                message: format!(
                    "{} (token server {realm}){}",
                    reply.error_message(),
                    if self.credential.is_some() {
                        ""
                    } else {
                        "; run `berth login` if the registry needs credentials"
                    }
                ),
            }),
            status => Err(RegistryError::Status {
                registry: self.registry.clone(),
                status,
                what: format!("a token request ({realm})"),
                message: reply.error_message(),
            }),
        }
    }

    /// Sends a request for `target` (a path under the API's base, `/v2/...`, or an
    /// absolute URL the registry gave), authorized for `scope`. A 401 answer is retried
    /// once with a fresh token when the payload can be sent again.
    pub fn send(
        &self,
        method: &str,
        target: &str,
        scope: &str,
        headers: &[(&str, &str)],
        mut payload: Payload<'_>,
    ) -> Result<Reply, RegistryError> {
        let url = if target.starts_with("http://") || target.starts_with("https://") {
            target.to_string()
        } else {
            format!("{}{target}", self.base()?)
        };
        let replayable = !matches!(payload, Payload::Reader(..));
        for attempt in 0..2 {
            let authorization = self.authorization(scope)?;
            let body = match &mut payload {
                Payload::Empty => Payload::Empty,
                Payload::Bytes(b) => Payload::Bytes(b),
                Payload::Reader(r, len) => Payload::Reader(&mut **r, *len),
            };
            let reply = self
                .raw(method, &url, headers, authorization.as_deref(), body)
                .map_err(|e| self.unreachable(&e))?;
            if reply.status == 401 && attempt == 0 && replayable {
                if let Ok(mut state) = self.state.lock() {
                    state.tokens.remove(scope);
                }
                let had = self.state.lock().ok().and_then(|s| s.challenge.clone());
                self.learn(&reply);
                let now = self.state.lock().ok().and_then(|s| s.challenge.clone());
                // Retry only when there is something new to try: a first challenge, or a
                // bearer token that may have expired.
                if had.is_none() || matches!(now, Some(Challenge::Bearer { .. })) {
                    continue;
                }
            }
            return Ok(reply);
        }
        Err(RegistryError::Unauthorized {
            registry: self.registry.clone(),
            message: "authentication required".into(),
        })
    }

    /// Checks that the registry takes the client's credentials (`login`): `GET /v2/` with
    /// them, through the token server for bearer registries.
    pub fn check_login(&self) -> Result<(), RegistryError> {
        let reply = self.send("GET", "/v2/", "", &[], Payload::Empty)?;
        match reply.status {
            200..=299 => Ok(()),
            401 | 403 => Err(RegistryError::Unauthorized {
                registry: self.registry.clone(),
                message: reply.error_message(),
            }),
            status => Err(RegistryError::Status {
                registry: self.registry.clone(),
                status,
                what: "GET /v2/".into(),
                message: reply.error_message(),
            }),
        }
    }
}

/// The TLS material of one registry: the system's roots and the registry's own CAs, its
/// client certificate if it has one.
struct Tls {
    roots: Vec<Certificate<'static>>,
    client_cert: Option<ClientCert>,
}

impl Tls {
    fn load(settings: &Settings, host: &str) -> Result<Tls, RegistryError> {
        let mut roots: Vec<Certificate<'static>> = Vec::new();
        if let Ok(pem) = std::fs::read(SYSTEM_ROOTS) {
            roots.extend(certificates(&pem));
        }
        let mut client_cert = None;
        for dir in settings.cert_dirs_of(host) {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut names: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            names.sort();
            for path in names {
                let bad = |what: &str| {
                    RegistryError::Invalid(format!("{}: not a PEM {what}", path.display()))
                };
                match path.extension().and_then(|e| e.to_str()) {
                    Some("crt") => {
                        let pem = std::fs::read(&path).map_err(|_| bad("certificate"))?;
                        let certs = certificates(&pem);
                        if certs.is_empty() {
                            return Err(bad("certificate"));
                        }
                        roots.extend(certs);
                    }
                    Some("cert") if client_cert.is_none() => {
                        let key_path = path.with_extension("key");
                        let pem = std::fs::read(&path).map_err(|_| bad("certificate"))?;
                        let key_pem = std::fs::read(&key_path).map_err(|_| {
                            RegistryError::Invalid(format!(
                                "{}: a client certificate needs its key in {}",
                                path.display(),
                                key_path.display()
                            ))
                        })?;
                        let key = PrivateKey::from_pem(&key_pem).map_err(|_| {
                            RegistryError::Invalid(format!(
                                "{}: not a PEM private key",
                                key_path.display()
                            ))
                        })?;
                        client_cert = Some(ClientCert::new_with_certs(&certificates(&pem), key));
                    }
                    _ => {}
                }
            }
        }
        Ok(Tls { roots, client_cert })
    }

    /// An agent with this material: statuses are answers, not errors; no overall timeout
    /// (a layer may take long), but connecting may not.
    fn agent(&self, unverified: bool) -> ureq::Agent {
        // ureq takes the process-wide provider; ring is the only one berth links.
        static PROVIDER: std::sync::Once = std::sync::Once::new();
        PROVIDER.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        // No roots at all (no CA bundle on the host) fails every TLS registry with
        // "unknown issuer", which the error message explains.
        let root_certs = RootCerts::Specific(Arc::new(self.roots.clone()));
        let tls = TlsConfig::builder()
            .root_certs(root_certs)
            .client_cert(self.client_cert.clone())
            .disable_verification(unverified)
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(8)
            .build();
        ureq::Agent::new_with_config(config)
    }
}

/// The rustls error behind a failed request, if TLS failed (ureq passes it up as an I/O
/// error).
fn rustls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(r) => Some(r),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    }
}

/// A TLS failure about the server's certificate (unknown issuer, wrong name, expired).
fn invalid_certificate(e: &ureq::Error) -> bool {
    matches!(rustls_error(e), Some(rustls::Error::InvalidCertificate(_)))
}

fn tls_reason(e: &ureq::Error) -> String {
    match rustls_error(e) {
        Some(r) => r.to_string(),
        None => e.to_string(),
    }
}

fn certificates(pem: &[u8]) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors_read_as_docker_prints_them() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        assert_eq!(
            error_message(404, body),
            "manifest unknown: manifest unknown"
        );
        assert_eq!(
            error_message(401, br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#),
            "unauthorized"
        );
        assert_eq!(
            error_message(502, b"<html>bad gateway</html>"),
            "HTTP status 502"
        );
    }
}
