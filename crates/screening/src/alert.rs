//! The alert a sanctions match raises, in the flow and on a list update alike: critical, its
//! confidence the best match's score, and every match with the numbers behind it.

use redflag_core::{Alert, Severity};
use serde_json::{Value, json};

use crate::screen::{Agreement, Match};

/// The rule's name, as alerts, rule sets and the queue's filter name it.
pub const SANCTIONS_MATCH_RULE: &str = "SanctionsMatchRule";
const CODE: &str = "sanctions_match";

/// A match and whom it is about: the role (`sender`, `receiver`, `party`) and, when the event
/// gave it, the name screened (a remembered party's name is not kept, only its hash).
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    pub role: &'a str,
    pub name: Option<&'a str>,
    pub party_id: &'a str,
    pub found: &'a Match,
}

fn agreement(word: &str, agreement: Agreement) -> Option<String> {
    match agreement {
        Agreement::Agrees => Some(format!("{word} agrees")),
        Agreement::Disagrees => Some(format!("{word} disagrees")),
        Agreement::Unknown => None,
    }
}

/// One evidence line: who matched what, and why the score is what it is.
fn evidence(named: &Named<'_>) -> String {
    let found = named.found;
    let parts = &found.parts;
    let mut why = vec![format!("name {:.3}", parts.name)];
    if parts.alias {
        why.push(if parts.weak_alias {
            format!("weak alias \"{}\"", found.matched_name)
        } else {
            format!("alias \"{}\"", found.matched_name)
        });
    }
    why.extend(agreement("date of birth", parts.date_of_birth));
    why.extend(agreement("country", parts.country));
    why.extend(agreement("kind", parts.kind));
    let who = match named.name {
        Some(name) => format!("{} \"{name}\"", named.role),
        None => format!("{} {}", named.role, named.party_id),
    };
    let programs = if found.programs.is_empty() {
        String::new()
    } else {
        format!(" [{}]", found.programs.join(", "))
    };
    format!(
        "{who} matches {} entry {} \"{}\"{programs} at {:.3} ({})",
        found.list,
        found.entry_id,
        found.name,
        found.score,
        why.join(", ")
    )
}

/// The match as the alert's metadata lists it.
fn described(named: &Named<'_>) -> Value {
    let mut value = json!({
        "role": named.role,
        "party_id": named.party_id,
        "list": named.found.list,
        "entry_id": named.found.entry_id,
        "name": named.found.name,
        "matched_name": named.found.matched_name,
        "score": named.found.score,
        "parts": named.found.parts,
        "programs": named.found.programs,
    });
    if let (Some(name), Some(object)) = (named.name, value.as_object_mut()) {
        object.insert("screened_name".to_owned(), json!(name));
    }
    value
}

/// The alert for these matches, best first; `None` when there are none.
pub fn sanctions_alert(named: &[Named<'_>]) -> Option<Alert> {
    let best = named
        .iter()
        .max_by(|a, b| a.found.score.total_cmp(&b.found.score))?;
    let reason = format!(
        "{} matches {} entry {} ({}) at score {:.3}",
        best.role, best.found.list, best.found.entry_id, best.found.name, best.found.score
    );
    let mut ordered: Vec<&Named<'_>> = named.iter().collect();
    ordered.sort_by(|a, b| b.found.score.total_cmp(&a.found.score));
    let mut alert = Alert::new(
        SANCTIONS_MATCH_RULE,
        CODE,
        Severity::Critical,
        best.found.score,
        reason,
    )
    .with_metadata(
        "matches",
        Value::Array(ordered.iter().map(|named| described(named)).collect()),
    );
    for named in ordered {
        alert = alert.with_evidence(evidence(named));
    }
    Some(alert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::Parts;

    fn found(score: f64, entry_id: &str) -> Match {
        Match {
            list: "demo".to_owned(),
            entry_id: entry_id.to_owned(),
            name: "NORIEGA, Manuel Antonio".to_owned(),
            matched_name: "Cara de Pina".to_owned(),
            score,
            parts: Parts {
                name: 0.97,
                alias: true,
                weak_alias: true,
                date_of_birth: Agreement::Agrees,
                country: Agreement::Unknown,
                kind: Agreement::Disagrees,
            },
            programs: vec!["SDNTK".to_owned()],
        }
    }

    #[test]
    fn the_alert_is_critical_scored_by_the_best_match_and_explains_each() {
        let (weaker, stronger) = (found(0.88, "8"), found(0.95, "7"));
        let alert = sanctions_alert(&[
            Named {
                role: "receiver",
                name: None,
                party_id: "p2",
                found: &weaker,
            },
            Named {
                role: "sender",
                name: Some("Manuel Noriega"),
                party_id: "p1",
                found: &stronger,
            },
        ])
        .expect("an alert");
        assert_eq!(
            (alert.rule.as_str(), alert.severity),
            (SANCTIONS_MATCH_RULE, Severity::Critical)
        );
        assert_eq!(alert.confidence, 0.95);
        assert_eq!(
            alert.reason,
            "sender matches demo entry 7 (NORIEGA, Manuel Antonio) at score 0.950"
        );
        assert_eq!(
            alert.evidence[0],
            "sender \"Manuel Noriega\" matches demo entry 7 \"NORIEGA, Manuel Antonio\" [SDNTK] \
             at 0.950 (name 0.970, weak alias \"Cara de Pina\", date of birth agrees, kind disagrees)"
        );
        assert!(alert.evidence[1].starts_with("receiver p2 matches demo entry 8"));
        assert_eq!(
            alert.metadata["matches"][0]["screened_name"],
            "Manuel Noriega"
        );
        assert_eq!(alert.metadata["matches"][1].get("screened_name"), None);
        assert_eq!(
            alert.metadata["matches"][0]["parts"]["date_of_birth"],
            "agrees"
        );
        assert!(sanctions_alert(&[]).is_none());
    }
}
