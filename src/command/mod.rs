//! Commands: the table, argument parsing, error texts, and one file per
//! command family. Handlers are named after their command in lowercase;
//! shared bodies end in `_generic`.

pub mod args;
pub mod connection;
pub mod errors;
pub mod fanout;
pub mod keys;
pub mod list;
pub mod server;
pub mod string;
pub mod table;
