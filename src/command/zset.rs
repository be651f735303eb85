//! zset commands (placeholder until the family lands).
