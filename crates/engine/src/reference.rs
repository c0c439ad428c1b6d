//! Image references as Docker parses and normalizes them. STUB (owner: reference helper).
