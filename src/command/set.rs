//! set commands (placeholder until the family lands).
