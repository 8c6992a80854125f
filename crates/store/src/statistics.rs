use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use redflag_core::{Module, Severity};

use crate::decisions::hour_of;
use crate::rollup::{self, AlertRow, HourRow};
use crate::schema::{alert_rollups, decision_rollups};
use crate::{Database, StoreError};

/// The dashboard aggregates, computed from the stored decisions and alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// One entry per module, in [`Module::ALL`] order, including modules with no decisions.
    pub modules: Vec<ModuleStatistics>,
    /// One entry per severity, least urgent first, including zero counts.
    pub alerts_by_severity: Vec<SeverityCount>,
    /// The rules that fired most, most frequent first.
    pub top_rules: Vec<RuleCount>,
    /// The last 24 hours by event time, oldest first, one bucket per hour (the current hour last).
    pub hourly: Vec<HourBucket>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModuleStatistics {
    pub module: Module,
    pub total: i64,
    pub flagged: i64,
    /// Mean risk on the common 0..=100 scale; `None` without decisions.
    pub average_risk: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeverityCount {
    pub severity: Severity,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleCount {
    pub module: String,
    pub rule: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HourBucket {
    pub start: DateTime<Utc>,
    pub total: i64,
    pub flagged: i64,
    /// The same hour per module, in [`Module::ALL`] order, including modules without decisions.
    pub modules: Vec<ModuleHour>,
}

/// One module's decisions in one hour.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleHour {
    pub module: Module,
    pub total: i64,
    pub flagged: i64,
}

impl Database {
    /// Aggregates everything stored; `now` ends the hourly series and `top` bounds the rule list.
    ///
    /// Decisions up to the roll-up watermark are read from the roll-ups (a few rows per module and
    /// hour), the rest from the decisions themselves, so the cost follows the roll-up lag, not the
    /// table's size. The watermark is read before and after the roll-ups: if a roll-up committed
    /// in between, the read is repeated, so no decision is counted twice or missed on either
    /// backend.
    pub fn statistics(&self, now: DateTime<Utc>, top: usize) -> Result<Statistics, StoreError> {
        let mut connection = self.read()?;
        let connection = &mut *connection;
        let (watermark, rolled, rolled_alerts) = loop {
            let before = rollup::watermark(connection)?;
            let rolled: Vec<HourRow> = decision_rollups::table
                .select((
                    decision_rollups::module,
                    decision_rollups::event_hour,
                    decision_rollups::total,
                    decision_rollups::flagged,
                    decision_rollups::risk_sum,
                ))
                .load(connection)?;
            let rolled_alerts: Vec<AlertRow> = alert_rollups::table
                .select((
                    alert_rollups::module,
                    alert_rollups::rule,
                    alert_rollups::severity,
                    alert_rollups::count,
                ))
                .load(connection)?;
            if rollup::watermark(connection)? == before {
                break (before, rolled, rolled_alerts);
            }
        };
        let mut hours = rollup::decisions_by_hour(connection, watermark, None)?;
        hours.extend(rolled);
        let mut alert_counts = rollup::alerts_by_rule(connection, watermark, None)?;
        alert_counts.extend(rolled_alerts);

        let modules = Module::ALL
            .into_iter()
            .map(|module| {
                let rows = hours.iter().filter(|row| row.0 == module.as_str());
                let (total, flagged, risk) = rows.fold((0, 0, 0.0), |sums, row| {
                    (sums.0 + row.2, sums.1 + row.3, sums.2 + row.4)
                });
                ModuleStatistics {
                    module,
                    total,
                    flagged,
                    average_risk: (total > 0).then(|| risk / total as f64),
                }
            })
            .collect();

        let alerts_by_severity = Severity::ALL
            .into_iter()
            .map(|severity| SeverityCount {
                severity,
                count: alert_counts
                    .iter()
                    .filter(|row| row.2 == severity.as_str())
                    .map(|row| row.3)
                    .sum(),
            })
            .collect();

        let mut by_rule: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        for (module, rule, _, count) in &alert_counts {
            *by_rule.entry((module, rule)).or_default() += count;
        }
        let mut top_rules: Vec<RuleCount> = by_rule
            .into_iter()
            .map(|((module, rule), count)| RuleCount {
                module: module.to_owned(),
                rule: rule.to_owned(),
                count,
            })
            .collect();
        top_rules.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.rule.cmp(&b.rule))
                .then_with(|| a.module.cmp(&b.module))
        });
        top_rules.truncate(top);

        let last_hour = hour_of(now);
        let first_hour = last_hour - 23;
        let hourly = (first_hour..=last_hour)
            .map(|hour| {
                let modules: Vec<ModuleHour> = Module::ALL
                    .into_iter()
                    .map(|module| {
                        let (total, flagged) = hours
                            .iter()
                            .filter(|row| row.1 == hour && row.0 == module.as_str())
                            .fold((0, 0), |sums, row| (sums.0 + row.2, sums.1 + row.3));
                        ModuleHour {
                            module,
                            total,
                            flagged,
                        }
                    })
                    .collect();
                HourBucket {
                    start: DateTime::from_timestamp(hour * 3600, 0).unwrap_or(now),
                    total: modules.iter().map(|m| m.total).sum(),
                    flagged: modules.iter().map(|m| m.flagged).sum(),
                    modules,
                }
            })
            .collect();

        Ok(Statistics {
            modules,
            alerts_by_severity,
            top_rules,
            hourly,
        })
    }
}
