use chrono::{DateTime, Utc};
use diesel::dsl::{avg, count_star};
use diesel::prelude::*;
use redflag_core::{Module, Severity};

use crate::decisions::hour_of;
use crate::schema::{alerts, decisions};
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
}

impl Database {
    /// Aggregates everything stored; `now` ends the hourly series and `top` bounds the rule list.
    pub fn statistics(&self, now: DateTime<Utc>, top: usize) -> Result<Statistics, StoreError> {
        let mut connection = self.read()?;
        let connection = &mut *connection;

        let totals: Vec<(String, i64, Option<f64>)> = decisions::table
            .group_by(decisions::module)
            .select((decisions::module, count_star(), avg(decisions::risk_score)))
            .load(connection)?;
        let flagged: Vec<(String, i64)> = decisions::table
            .filter(decisions::flagged.eq(true))
            .group_by(decisions::module)
            .select((decisions::module, count_star()))
            .load(connection)?;
        let modules = Module::ALL
            .into_iter()
            .map(|module| {
                let (total, average_risk) = totals
                    .iter()
                    .find(|(name, _, _)| name == module.as_str())
                    .map_or((0, None), |(_, total, average)| (*total, *average));
                ModuleStatistics {
                    module,
                    total,
                    flagged: count_for(&flagged, module.as_str()),
                    average_risk,
                }
            })
            .collect();

        let severities: Vec<(String, i64)> = alerts::table
            .group_by(alerts::severity)
            .select((alerts::severity, count_star()))
            .load(connection)?;
        let alerts_by_severity = Severity::ALL
            .into_iter()
            .map(|severity| SeverityCount {
                severity,
                count: count_for(&severities, severity.as_str()),
            })
            .collect();

        let mut top_rules: Vec<RuleCount> = alerts::table
            .group_by((alerts::module, alerts::rule))
            .select((alerts::module, alerts::rule, count_star()))
            .load::<(String, String, i64)>(connection)?
            .into_iter()
            .map(|(module, rule, count)| RuleCount {
                module,
                rule,
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
        let in_range = decisions::event_hour
            .ge(first_hour)
            .and(decisions::event_hour.le(last_hour));
        let hourly_totals: Vec<(i64, i64)> = decisions::table
            .filter(in_range)
            .group_by(decisions::event_hour)
            .select((decisions::event_hour, count_star()))
            .load(connection)?;
        let hourly_flagged: Vec<(i64, i64)> = decisions::table
            .filter(in_range)
            .filter(decisions::flagged.eq(true))
            .group_by(decisions::event_hour)
            .select((decisions::event_hour, count_star()))
            .load(connection)?;
        let hourly = (first_hour..=last_hour)
            .map(|hour| HourBucket {
                start: DateTime::from_timestamp(hour * 3600, 0).unwrap_or(now),
                total: count_for(&hourly_totals, &hour),
                flagged: count_for(&hourly_flagged, &hour),
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

fn count_for<K: PartialEq<Q>, Q: ?Sized>(counts: &[(K, i64)], key: &Q) -> i64 {
    counts
        .iter()
        .find(|(name, _)| name == key)
        .map_or(0, |(_, count)| *count)
}
