//! Typed compose-spec model, field for field in compose-go's order (owner: model helper). STUB.
