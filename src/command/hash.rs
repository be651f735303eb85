//! hash commands (placeholder until the family lands).
