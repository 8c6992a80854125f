use redflag_core::{Alert, History, Rule, Severity};

use crate::Transaction;

/// Watched parties: sanctions, PEP or internal lists, by the party ids the institution uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Watchlist {
    entries: Vec<WatchlistEntry>,
}

/// One watched party.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchlistEntry {
    /// The party id as transfers carry it (compared ignoring case and surrounding spaces).
    pub id: String,
    pub name: String,
    /// The list the party is on, e.g. `OFAC-SDN` or `internal`.
    pub list: String,
}

/// Why a watchlist could not be read; names the source and the line.
#[derive(Debug, thiserror::Error)]
pub enum WatchlistError {
    #[error("watchlist {source_name}: {reason}")]
    Malformed { source_name: String, reason: String },
    #[error("watchlist {source_name} line {line}: the `id` is empty")]
    EmptyId { source_name: String, line: u64 },
}

impl Watchlist {
    /// Reads a CSV with the header `id,name,list` (any order; `name` and `list` may be empty).
    /// `source_name` names the file in errors.
    pub fn from_csv(text: &str, source_name: &str) -> Result<Self, WatchlistError> {
        let malformed = |reason: String| WatchlistError::Malformed {
            source_name: source_name.to_owned(),
            reason,
        };
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| malformed(e.to_string()))?
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let column = |name: &str| header.iter().position(|h| h == name);
        let id = column("id")
            .ok_or_else(|| malformed(format!("no `id` column (found: {})", header.join(", "))))?;
        let (name, list) = (column("name"), column("list"));
        let mut entries = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| malformed(e.to_string()))?;
            let field = |index: Option<usize>| {
                index
                    .and_then(|i| record.get(i))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            let party = field(Some(id));
            if party.is_empty() {
                return Err(WatchlistError::EmptyId {
                    source_name: source_name.to_owned(),
                    line: record.position().map_or(0, csv::Position::line),
                });
            }
            let list = field(list);
            entries.push(WatchlistEntry {
                id: party.to_lowercase(),
                name: field(name),
                list: if list.is_empty() {
                    source_name.to_owned()
                } else {
                    list
                },
            });
        }
        Ok(Self { entries })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, party: &str) -> Option<&WatchlistEntry> {
        let party = party.trim().to_lowercase();
        self.entries.iter().find(|entry| entry.id == party)
    }
}

/// A transfer whose sender, receiver or customer is on a watchlist.
#[derive(Debug, Clone)]
pub struct WatchlistRule {
    watchlist: Watchlist,
}

impl WatchlistRule {
    pub fn new(watchlist: Watchlist) -> Self {
        Self { watchlist }
    }
}

impl Rule<Transaction> for WatchlistRule {
    /// It reads the event alone.
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "WatchlistRule"
    }

    fn evaluate(&self, transaction: &Transaction, _history: &History) -> Option<Alert> {
        let hits: Vec<(&str, &str, &WatchlistEntry)> = [
            ("sender", transaction.sender_id.as_str()),
            ("receiver", transaction.receiver_id.as_str()),
            ("customer", transaction.user_id.as_str()),
        ]
        .into_iter()
        .filter_map(|(role, party)| self.watchlist.find(party).map(|entry| (role, party, entry)))
        .collect();
        let (role, party, entry) = hits.first()?;
        let named = if entry.name.is_empty() {
            String::new()
        } else {
            format!(" ({})", entry.name)
        };
        let mut alert = Alert::new(
            self.name(),
            "watchlist",
            Severity::Critical,
            0.95,
            format!(
                "Watchlist hit: {role} {party}{named} is on the {} list",
                entry.list
            ),
        )
        .with_metadata("party", *party)
        .with_metadata("role", *role)
        .with_metadata("list", entry.list.as_str())
        .with_metadata("name", entry.name.as_str());
        for (role, party, entry) in &hits {
            alert =
                alert.with_evidence(format!("{role} {party}: {} on {}", entry.name, entry.list));
        }
        Some(alert)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn transfer(sender: &str, receiver: &str) -> Transaction {
        let body = json!({"transaction_id": "T", "user_id": "U", "amount": 10, "sender_id": sender, "receiver_id": receiver});
        Transaction::parse(&body, Utc::now()).expect("valid")
    }

    #[test]
    fn a_watched_party_on_either_side_is_a_critical_hit_naming_the_list() {
        let list = Watchlist::from_csv(
            "name,id,list\nIvan Example, R-77 ,OFAC-SDN\n,S-5,\n",
            "watch.csv",
        )
        .expect("valid");
        assert_eq!(list.len(), 2);
        let rule = WatchlistRule::new(list);
        let hit = rule
            .evaluate(&transfer("S-1", "r-77"), &History::new())
            .expect("hit");
        assert_eq!(hit.severity, Severity::Critical);
        assert_eq!(
            hit.reason,
            "Watchlist hit: receiver r-77 (Ivan Example) is on the OFAC-SDN list"
        );
        let unnamed = rule
            .evaluate(&transfer("S-5", "R-1"), &History::new())
            .expect("hit");
        assert_eq!(
            unnamed.reason,
            "Watchlist hit: sender S-5 is on the watch.csv list"
        );
        assert!(
            rule.evaluate(&transfer("S-1", "R-1"), &History::new())
                .is_none()
        );
    }

    #[test]
    fn a_malformed_watchlist_names_the_file_and_the_problem() {
        let error = Watchlist::from_csv("party,list\nX,Y\n", "watch.csv")
            .expect_err("no id column")
            .to_string();
        assert_eq!(
            error,
            "watchlist watch.csv: no `id` column (found: party, list)"
        );
        let error = Watchlist::from_csv("id,name\nA,Alice\n ,Bob\n", "watch.csv")
            .expect_err("empty id")
            .to_string();
        assert_eq!(error, "watchlist watch.csv line 3: the `id` is empty");
    }
}
