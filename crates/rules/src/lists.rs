//! The team's lists (mule accounts, trusted merchants, ...) that rules read with
//! `in_list("name", value)`.

use std::collections::{HashMap, HashSet};

/// Named sets of values, as they stood when a rule set was compiled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lists {
    lists: HashMap<String, HashSet<String>>,
}

impl Lists {
    /// Adds (or replaces) a list.
    pub fn insert(&mut self, name: impl Into<String>, values: impl IntoIterator<Item = String>) {
        self.lists.insert(name.into(), values.into_iter().collect());
    }

    /// Removes a list (to check what would still compile without it).
    pub fn remove(&mut self, name: &str) {
        self.lists.remove(name);
    }

    pub fn has(&self, name: &str) -> bool {
        self.lists.contains_key(name)
    }

    /// Whether `value` is on the list `name`; an unknown list holds nothing.
    pub fn contains(&self, name: &str, value: &str) -> bool {
        self.lists
            .get(name)
            .is_some_and(|values| values.contains(value))
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.lists.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}
