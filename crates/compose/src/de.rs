//! serde deserialization from [`crate::yaml::Node`] with positions and key paths in
//! every error (owner: model helper). STUB.
