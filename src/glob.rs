//! Glob matching.
