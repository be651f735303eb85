//! The README's "Supported commands" table lists exactly the commands of
//! the command table, so neither can drift from the other.

use std::collections::BTreeSet;

#[test]
fn readme_lists_exactly_the_command_table() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("## Supported commands")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a 'Supported commands' section");
    let listed: BTreeSet<String> = section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| family"))
        .filter_map(|l| l.split('|').nth(2))
        .flat_map(|cell| cell.split_whitespace().map(|w| w.to_ascii_lowercase()))
        .collect();
    let table: BTreeSet<String> = lanner::command::table::COMMANDS
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    let missing: Vec<_> = table.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&table).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README lacks {missing:?}; README lists unknown {extra:?}"
    );
}
