//! The AML anomaly model's inputs, and the synthetic transfers it is trained on by default.

use redflag_core::History;
use redflag_ml_core::TrainingSet;

use crate::Transaction;
use crate::windows::{distinct_counterparties, sender_outflows, since};

/// The features, in the order the model takes them.
pub const FEATURES: [&str; 6] = [
    "log_amount",
    "hour_of_day",
    "sender_transfers_24h",
    "sender_log_amount_24h",
    "amount_to_sender_mean",
    "sender_distinct_receivers_24h",
];

/// The features of one transfer given the sender's window: ln(1 + amount), the UTC hour with
/// minutes as a fraction, the sender's earlier transfers in the last 24 hours and ln(1 + their
/// total), the amount over their mean (1 without), and the distinct receivers of the last 24
/// hours including this one.
pub fn features(transaction: &Transaction, history: &History) -> [f64; 6] {
    let past = since(
        history.get(&sender_outflows(transaction)),
        transaction.at - chrono::Duration::hours(24),
    );
    let total: f64 = past.iter().map(|activity| activity.amount).sum();
    let ratio = if past.is_empty() || total <= 0.0 {
        1.0
    } else {
        transaction.amount / (total / past.len() as f64)
    };
    let at = transaction.at;
    [
        transaction.amount.ln_1p(),
        redflag_core::hour_of_day(at),
        past.len() as f64,
        total.ln_1p(),
        ratio,
        distinct_counterparties(past, Some(&transaction.receiver_id)) as f64,
    ]
}

/// `rows` synthetic transfers, 2% of them planted anomalies (labelled true).
///
/// Every sender has a typical amount, log-normal with median ~245 (mu 5.5, sigma 1.0).
/// Ordinary transfers: the amount is that typical amount times a log-normal factor (sigma 0.35);
/// the hour is normal around 14:00 (sd 3.5 h); the earlier transfers in the window are
/// Poisson(2). Planted, in equal shares: structuring (8,000-9,999, typical amount within 10% of
/// it, 2 + Poisson(3) earlier transfers, hour around 13:00), night bursts (01:00-05:00,
/// 6 + Poisson(5) earlier transfers, amount about 2.2x typical) and spikes (about 12x typical).
/// Distinct receivers in the last 24 hours: 1 + Poisson(0.8) (at most one per transfer) for
/// ordinary transfers and spikes, 1 + Poisson(0.5) for structuring (one bank), and 4 + Poisson(3)
/// for night bursts (new receivers).
pub fn synthetic(rows: usize, seed: u64) -> TrainingSet {
    TrainingSet::generate(&FEATURES, rows, seed, |s| {
        let planted = s.chance(0.02);
        let typical = s.log_normal(5.5, 1.0);
        let (typical, amount, hour, earlier) = if !planted {
            (
                typical,
                typical * s.log_normal(0.0, 0.35),
                s.normal(14.0, 3.5),
                s.poisson(2.0),
            )
        } else {
            match s.below(3) {
                0 => {
                    let amount = s.uniform(8000.0, 9999.0);
                    (
                        amount * s.uniform(0.9, 1.1),
                        amount,
                        s.normal(13.0, 3.0),
                        2.0 + s.poisson(3.0),
                    )
                }
                1 => (
                    typical,
                    typical * s.log_normal(0.8, 0.4),
                    s.uniform(1.0, 5.0),
                    6.0 + s.poisson(5.0),
                ),
                _ => (
                    typical,
                    typical * s.log_normal(2.5, 0.4),
                    s.normal(14.0, 3.5),
                    1.0 + s.poisson(3.0),
                ),
            }
        };
        let ratio = if earlier == 0.0 {
            1.0
        } else {
            amount / typical
        };
        let new_receivers = match (planted, hour) {
            (true, hour) if hour < 5.0 => 3.0 + s.poisson(3.0),
            (true, _) if (8000.0..10_000.0).contains(&amount) => s.poisson(0.5),
            _ => s.poisson(0.8),
        };
        let row = [
            amount.ln_1p(),
            hour.rem_euclid(24.0),
            earlier,
            (earlier * typical).ln_1p(),
            ratio,
            1.0 + new_receivers.min(earlier),
        ];
        (row, planted)
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use redflag_core::Activity;
    use redflag_ml_core::{IsolationForestParams, train_isolation_forest};

    use super::*;

    #[test]
    fn features_are_the_documented_figures() {
        let at = DateTime::parse_from_rfc3339("2026-02-09T13:30:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        let body = serde_json::json!({"transaction_id": "T3", "user_id": "U", "amount": 300,
                                      "sender_id": "S", "receiver_id": "R"});
        let transaction = Transaction::parse(&body, at).expect("valid");
        let key = sender_outflows(&transaction);
        let earlier = |amount: f64| Activity::new(at, &format!("{amount}"), amount, 0.0, "");
        let mut history = History::new();
        history.insert(key, vec![earlier(100.0), earlier(200.0)]);
        let values = features(&transaction, &history);
        assert_eq!(
            values,
            [300f64.ln_1p(), 13.5, 2.0, 300f64.ln_1p(), 2.0, 2.0],
            "the earlier transfers' one receiver, and this one's"
        );
    }

    #[test]
    fn the_planted_transfers_are_what_the_default_model_learns_to_isolate() {
        let artifact =
            train_isolation_forest(&synthetic(4000, 1), IsolationForestParams::default())
                .expect("trains");
        assert!(artifact.metrics["roc_auc"] > 0.9, "{:?}", artifact.metrics);
    }
}
