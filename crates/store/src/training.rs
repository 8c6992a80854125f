//! What a model can learn from stored decisions: the figures each was scored on and, once an
//! analyst has closed a case on its alerts, whether it was fraud.

use std::collections::BTreeMap;

use diesel::prelude::*;
use redflag_core::Module;

use crate::schema::{alerts, case_alerts, cases, decisions};
use crate::{CaseStatus, Database, Resolution, StoreError};

/// A stored decision's model input row.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredDecision {
    pub decision_id: i64,
    /// The figures its model scored, in the module's feature order.
    pub features: Vec<f64>,
}

/// A decision a closed case resolved either way (`inconclusive` labels nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledDecision {
    pub decision_id: i64,
    pub features: Vec<f64>,
    /// `confirmed_fraud` (true) or `false_positive` (false), from the last case closed on it.
    pub fraud: bool,
}

impl Database {
    /// The figures each of a module's most recent decisions was scored on (newest first, at most
    /// `limit`), for retraining its model on real traffic. Rows whose figures cannot be read are
    /// skipped.
    pub fn recent_model_features(
        &self,
        module: Module,
        limit: i64,
    ) -> Result<Vec<ScoredDecision>, StoreError> {
        let stored: Vec<(i64, Option<String>)> = decisions::table
            .filter(decisions::module.eq(module.as_str()))
            .filter(decisions::model_features.is_not_null())
            .order(decisions::id.desc())
            .limit(limit)
            .select((decisions::id, decisions::model_features))
            .load(&mut *self.read()?)?;
        Ok(stored
            .into_iter()
            .filter_map(|(decision_id, json)| {
                Some(ScoredDecision {
                    decision_id,
                    features: serde_json::from_str(&json?).ok()?,
                })
            })
            .collect())
    }

    /// Every decision of `module` that closed cases labelled fraud or not, by id. A decision in
    /// several closed cases takes the label of the one closed last (an analyst's later finding
    /// supersedes an earlier one); an `inconclusive` case labels nothing and overrides nothing.
    pub fn labelled_decisions(&self, module: Module) -> Result<Vec<LabelledDecision>, StoreError> {
        let rows: Vec<(i64, Option<String>, Option<Resolution>)> = case_alerts::table
            .inner_join(cases::table)
            .inner_join(alerts::table.inner_join(decisions::table))
            .filter(cases::status.eq(CaseStatus::Closed.as_str()))
            .filter(cases::resolution.eq_any([
                Resolution::ConfirmedFraud.as_str(),
                Resolution::FalsePositive.as_str(),
            ]))
            .filter(decisions::module.eq(module.as_str()))
            .order((cases::updated_at.asc(), cases::id.asc()))
            .select((decisions::id, decisions::model_features, cases::resolution))
            .load(&mut *self.read()?)?;
        let mut labelled: BTreeMap<i64, LabelledDecision> = BTreeMap::new();
        for (decision_id, json, resolution) in rows {
            let Some(features) = json.and_then(|json| serde_json::from_str(&json).ok()) else {
                continue;
            };
            labelled.insert(
                decision_id,
                LabelledDecision {
                    decision_id,
                    features,
                    fraud: resolution == Some(Resolution::ConfirmedFraud),
                },
            );
        }
        Ok(labelled.into_values().collect())
    }
}
