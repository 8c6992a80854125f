//! The anomaly model's alert, shared by every module scored by an Isolation Forest.

use redflag_core::{Alert, Severity, Verdict};
use serde_json::json;

use crate::{Artifact, IsolationForest};

/// An anomaly model as a detector scores with it: the forest, and the score from which its alert
/// fires (`None`: the score only ranks events, as while a deployment's calibration warms up).
#[derive(Debug, Clone)]
pub struct AnomalyModel {
    pub forest: IsolationForest,
    pub threshold: Option<f64>,
}

impl AnomalyModel {
    /// The artifact's forest, alerting from the score that flagged the expected anomaly share of
    /// its training data (the artifact's `threshold` metric), so that no caller digs it out.
    pub fn from_artifact(artifact: Artifact<IsolationForest>) -> Self {
        Self {
            threshold: artifact.metrics.get("threshold").copied(),
            forest: artifact.model,
        }
    }
}

/// The alert for an event whose anomaly score reaches `threshold` (the score that flags the
/// expected anomaly share of the model's training data), naming the three features that isolated
/// it most; `names` are the model's features in order, `row` the event's values.
///
/// An anomaly is a behavioural signal, not a typology: a supporting alert, confidence 0.30-0.45
/// (low to medium). It draws an analyst's eye and adds to a typology's risk, but never flags an
/// event alone, whatever the engine's flag level ([`Verdict::from_alerts`]).
pub fn anomaly_alert(
    model: &IsolationForest,
    names: &[&str],
    row: &[f64],
    score: f64,
    threshold: f64,
) -> Option<Alert> {
    if score < threshold {
        return None;
    }
    let excess = ((score - threshold) / (1.0 - threshold).max(0.01)).clamp(0.0, 1.0);
    let confidence = ALERT_FLOOR + 0.15 * excess;
    let shares = model.explain(row).ok()?;
    let mut drivers: Vec<(&str, f64)> = names.iter().copied().zip(shares).collect();
    drivers.sort_by(|a, b| b.1.total_cmp(&a.1));
    drivers.truncate(3);
    let driver_names: Vec<&str> = drivers.iter().map(|(name, _)| *name).collect();
    let mut alert = Alert::new(
        "AnomalyRule",
        "anomaly",
        Severity::from_confidence(confidence),
        confidence,
        format!(
            "Unusual behaviour: anomaly score {score:.2} at or above the model's {threshold:.2} threshold, driven by {}",
            driver_names.join(", ")
        ),
    )
    .supporting()
    .with_metadata("model_score", round3(score))
    .with_metadata("threshold", round3(threshold))
    .with_metadata(
        "features",
        names
            .iter()
            .zip(row)
            .map(|(name, value)| ((*name).to_owned(), json!(round3(*value))))
            .collect::<serde_json::Map<_, _>>(),
    )
    .with_metadata(
        "drivers",
        drivers
            .iter()
            .map(|(name, share)| json!({"feature": name, "share": (share * 100.0).round() / 100.0}))
            .collect::<Vec<_>>(),
    );
    for (name, share) in &drivers {
        alert = alert.with_evidence(format!(
            "{name}: {:.0}% of the isolating splits",
            share * 100.0
        ));
    }
    Some(alert)
}

/// The conclusion of an engine whose rules are backed by an anomaly model: the rules' alerts plus,
/// when the model's threshold is known and reached, the model's explained alert, combined by
/// noisy-OR and flagged from `flag_at_risk` (0-100). Below the threshold the score still ranks an
/// event no typology speaks for ([`Verdict::ranked`]), without an alert. The model's score and
/// its input row are kept with the verdict (the row even without a model, so that one can be
/// trained on real traffic).
pub fn verdict_with_model(
    alerts: Vec<Alert>,
    flag_at_risk: f64,
    model: Option<&AnomalyModel>,
    names: &[&str],
    row: &[f64],
) -> Verdict {
    let score = model.and_then(|model| model.forest.score(row).ok());
    verdict_with_score(alerts, flag_at_risk, model, names, row, score)
}

/// As [`verdict_with_model`], with the model's score on `row` already known: a second decision
/// on the same event and model (a shadowed rule set's) reuses the first one's.
pub fn verdict_with_score(
    mut alerts: Vec<Alert>,
    flag_at_risk: f64,
    model: Option<&AnomalyModel>,
    names: &[&str],
    row: &[f64],
    score: Option<f64>,
) -> Verdict {
    let threshold = model.and_then(|model| model.threshold);
    let mut background = 0.0;
    if let (Some(model), Some(score), Some(threshold)) = (model, score, threshold) {
        alerts.extend(anomaly_alert(&model.forest, names, row, score, threshold));
        background = below_threshold(score, threshold);
    }
    Verdict::ranked(alerts, background, flag_at_risk)
        .with_model_score(score)
        .with_model_features(row)
}

/// The confidence an anomaly score below the alert threshold lends an event no typology speaks
/// for: 0 up to 0.5 (an Isolation Forest's score for a typical point), rising linearly to the
/// alert's own 0.3 at the threshold, so that the risk does not jump where the alert starts.
fn below_threshold(score: f64, threshold: f64) -> f64 {
    if score >= threshold || threshold <= TYPICAL_SCORE {
        return 0.0;
    }
    ALERT_FLOOR * ((score - TYPICAL_SCORE) / (threshold - TYPICAL_SCORE)).clamp(0.0, 1.0)
}

/// An Isolation Forest's score for a point as easy to isolate as an average one.
const TYPICAL_SCORE: f64 = 0.5;
/// The anomaly alert's confidence at its threshold.
const ALERT_FLOOR: f64 = 0.3;

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use redflag_core::Severity;

    use super::*;
    use crate::IsolationForestParams;

    /// A forest of 200 points on a line, and a point far off it.
    fn forest() -> IsolationForest {
        let data = Array2::from_shape_fn((200, 2), |(i, j)| (i as f64) * (j as f64 + 1.0) / 100.0);
        IsolationForest::fit(data.view(), IsolationForestParams::default())
            .expect("200 finite rows fit")
    }

    fn alerting_from(forest: &IsolationForest, threshold: Option<f64>) -> AnomalyModel {
        AnomalyModel {
            forest: forest.clone(),
            threshold,
        }
    }

    #[test]
    fn the_anomaly_alone_never_flags_whatever_the_flag_level_but_adds_to_a_typology() {
        let forest = forest();
        let outlier = [50.0, -50.0];
        // The lowest flag level an engine may set: the anomaly (confidence 0.3 or more) would
        // reach it were it a typology.
        let model = alerting_from(&forest, Some(0.5));
        let alone = verdict_with_model(Vec::new(), 10.0, Some(&model), &["x", "y"], &outlier);
        let anomaly = alone.alerts.first().expect("the outlier is an anomaly");
        assert!(anomaly.is_supporting() && anomaly.confidence >= 0.3);
        assert!(!alone.flagged, "risk {}", alone.risk);
        assert!(alone.risk > 0.0 && alone.risk < 10.0, "{}", alone.risk);

        let typology = Alert::new("Typology", "t", Severity::Medium, 0.6, "because");
        let with = verdict_with_model(vec![typology], 50.0, Some(&model), &["x", "y"], &outlier);
        assert!(with.flagged);
        assert!(
            with.risk > 60.0,
            "the anomaly adds to the typology's 60: {}",
            with.risk
        );
    }

    #[test]
    fn below_its_threshold_the_score_ranks_events_without_an_alert_and_meets_the_alert_there() {
        let forest = forest();
        let verdict = |row: &[f64], threshold| {
            let model = alerting_from(&forest, Some(threshold));
            verdict_with_model(Vec::new(), 50.0, Some(&model), &["x", "y"], row)
        };
        let (typical, outlier) = ([1.0, 2.0], [50.0, -50.0]);
        let score = forest.score(&outlier).expect("a score");
        let just_below = verdict(&outlier, score + 1e-9);
        assert!(just_below.alerts.is_empty() && !just_below.flagged);
        let at = verdict(&outlier, score);
        assert_eq!(at.alerts.len(), 1, "the alert from its threshold");
        assert!(
            (just_below.risk - at.risk).abs() <= 0.1,
            "no jump where the alert starts: {} and {}",
            just_below.risk,
            at.risk
        );
        let quiet = verdict(&typical, score + 1e-9);
        assert!(
            quiet.risk < just_below.risk,
            "{} {}",
            quiet.risk,
            just_below.risk
        );
        assert_eq!(
            verdict_with_model(
                Vec::new(),
                50.0,
                Some(&alerting_from(&forest, None)),
                &["x", "y"],
                &outlier
            )
            .risk,
            0.0,
            "no threshold (warming up): the score ranks nothing yet"
        );
    }
}
