//! Shadow runs: while a draft shadows its module, every live decision is also decided by the
//! draft, on the history the live decision read (the windows are not updated twice), and what
//! the draft decided is stored beside the live decision and never answered. Its report compares
//! the two in a backtest's form.
//!
//! The draft sees the windows as the live rule set records them: thresholds that change what is
//! recorded (the pass-through minimum, a longer window) are replayed exactly by a backtest only.

use std::collections::HashMap;
use std::time::Instant;

use redflag_aml::NameScreening;
use redflag_core::{Assessment, Module};
use redflag_rules::RuleSetDocument;
use redflag_store::{Database, ShadowToRecord, StoredShadow};
use serde_json::json;

use crate::ServiceError;
use crate::backtest::{BacktestReport, Tally};
use crate::detectors::{Detectors, Learned};
use crate::rule_sets::RuleSets;
use crate::settings::Settings;

/// A draft shadowing its module, loaded and ready to decide beside the live detectors.
pub struct ShadowRun {
    pub id: i64,
    pub module: Module,
    /// The detectors with the draft in force for `module` (the other modules as live).
    pub detectors: Detectors,
}

/// Loads the running shadow runs. A run whose draft no longer applies (a list it reads was
/// deleted, a threshold the settings refuse) is left out and logged: a shadow never stops the
/// live detectors from loading.
pub fn load(
    settings: &Settings,
    learned: &Learned,
    (live, screening): (&RuleSets, &NameScreening),
    running: Vec<StoredShadow>,
) -> Vec<ShadowRun> {
    running
        .into_iter()
        .filter_map(|run| {
            let module: Module = run.module.parse().ok()?;
            let loaded = serde_json::from_str::<RuleSetDocument>(&run.document)
                .map_err(|error| error.to_string())
                .and_then(|document| {
                    let mut rule_sets = live.clone();
                    rule_sets.replace(module, document);
                    Detectors::load(settings, learned.clone(), rule_sets, Some(screening))
                        .map_err(|error| error.to_string())
                });
            match loaded {
                Ok(detectors) => Some(ShadowRun {
                    id: run.id,
                    module,
                    detectors,
                }),
                Err(error) => {
                    tracing::error!(%error, id = run.id, %module, draft = run.draft_id,
                        "the shadowed draft does not load; its run records nothing until it does");
                    None
                }
            }
        })
        .collect()
}

/// What the run's draft decided, as stored beside the live decision.
pub fn outcome(run: &ShadowRun, decided: &impl Assessment) -> ShadowToRecord {
    let alerts: Vec<_> = decided
        .alerts()
        .iter()
        .map(|alert| {
            json!({"rule": alert.rule, "severity": alert.severity.as_str(),
                   "confidence": alert.confidence, "reason": alert.reason})
        })
        .collect();
    ShadowToRecord {
        shadow_id: run.id,
        risk_score: decided.risk(),
        flagged: decided.flagged(),
        alerts_json: serde_json::Value::from(alerts).to_string(),
    }
}

/// Shadowed decisions read per page for a report.
const PAGE: i64 = 5_000;

/// Compares every decision the run shadowed so far with what the draft decided, in a backtest
/// report's form (no warm-up, nothing unreadable: the live path read them).
pub fn report(
    db: &Database,
    module: Module,
    run: &StoredShadow,
) -> Result<BacktestReport, ServiceError> {
    let started = Instant::now();
    let labels: HashMap<i64, bool> = db
        .labelled_decisions(module)?
        .into_iter()
        .map(|labelled| (labelled.decision_id, labelled.fraud))
        .collect();
    let mut tally = Tally::default();
    let mut after = 0;
    loop {
        let page = db.shadowed_decisions(run.id, after, PAGE)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.id;
        for shadowed in &page {
            let label = labels.get(&shadowed.id).copied();
            tally.add(
                (module, shadowed.id),
                &shadowed.live,
                &shadowed.shadow,
                label,
            );
        }
    }
    Ok(tally.report(started.elapsed().as_secs_f64()))
}
