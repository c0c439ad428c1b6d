//! `com.docker.compose.config-hash` as Compose computes it (owner: model helper). STUB.
