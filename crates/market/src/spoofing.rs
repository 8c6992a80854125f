use chrono::{DateTime, Duration, Utc};
use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::tags::decode;
use crate::windows::{since, trader_events};
use crate::{EventType, MarketConfig, MarketEvent};

/// Spoofing and layering: orders on one side placed to move the price and cancelled within
/// seconds, while the same trader executes on the other side. Judged when the pattern completes,
/// at a cancel: orders at several price levels make it layering.
#[derive(Debug, Clone)]
pub struct SpoofingRule {
    window: Duration,
    max_lifetime: Duration,
    min_cancel_ratio: f64,
    min_size_multiple: f64,
    layering_levels: usize,
}

impl SpoofingRule {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            window: Duration::seconds(i64::from(config.spoof_window_seconds)),
            max_lifetime: Duration::seconds(i64::from(config.spoof_max_order_lifetime_seconds)),
            min_cancel_ratio: config.spoof_min_cancel_ratio,
            min_size_multiple: config.spoof_min_size_multiple,
            layering_levels: config.layering_min_levels.max(2) as usize,
        }
    }
}

/// One order of the trader, as its latest version stands.
struct RestingOrder<'a> {
    id: &'a str,
    placed: DateTime<Utc>,
    price: f64,
    volume: f64,
    cancelled: Option<DateTime<Utc>>,
}

impl Rule<MarketEvent> for SpoofingRule {
    fn name(&self) -> &'static str {
        "Spoofing"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        if event.event_type != EventType::Cancel {
            return None;
        }
        let from = event.at - self.window;
        let earlier: Vec<_> = since(
            history.get(&trader_events(&event.trader_id, &event.symbol)),
            from,
        )
        .iter()
        .filter_map(|past| decode(past.counterparty()).map(|tag| (past, tag)))
        .collect();
        let cancelled_id = event.order_id.as_deref()?;
        let side = event.side.or_else(|| {
            earlier
                .iter()
                .find(|(_, tag)| tag.kind != EventType::Trade && tag.id == cancelled_id)
                .and_then(|(_, tag)| tag.side)
        })?;
        // The orders on that side, each at its latest version, and when each was cancelled.
        let mut orders: Vec<RestingOrder<'_>> = Vec::new();
        for (past, tag) in &earlier {
            match tag.kind {
                EventType::Order | EventType::Modify if tag.side == Some(side) => {
                    match orders.iter_mut().find(|order| order.id == tag.id) {
                        Some(order) => {
                            order.price = past.amount;
                            order.volume = past.quantity;
                        }
                        None => orders.push(RestingOrder {
                            id: tag.id,
                            placed: past.at,
                            price: past.amount,
                            volume: past.quantity,
                            cancelled: None,
                        }),
                    }
                }
                EventType::Cancel => {
                    if let Some(order) = orders.iter_mut().find(|order| order.id == tag.id) {
                        order.cancelled = Some(past.at);
                    }
                }
                _ => {}
            }
        }
        if let Some(order) = orders.iter_mut().find(|order| order.id == cancelled_id) {
            order.cancelled = Some(event.at);
        }
        let placed: f64 = orders.iter().map(|order| order.volume).sum();
        let quick: Vec<&RestingOrder<'_>> = orders
            .iter()
            .filter(|order| {
                order
                    .cancelled
                    .is_some_and(|at| at - order.placed <= self.max_lifetime)
            })
            .collect();
        let cancelled: f64 = quick.iter().map(|order| order.volume).sum();
        let (executed, notional) = earlier
            .iter()
            .filter(|(_, tag)| tag.kind == EventType::Trade && tag.side == Some(side.opposite()))
            .fold((0.0, 0.0), |(volume, value), (past, _)| {
                (volume + past.quantity, value + past.quantity * past.amount)
            });
        if executed <= 0.0
            || placed <= 0.0
            || cancelled / placed < self.min_cancel_ratio
            || cancelled < self.min_size_multiple * executed
        {
            return None;
        }
        let mut levels: Vec<f64> = quick.iter().map(|order| order.price).collect();
        levels.sort_by(f64::total_cmp);
        levels.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        let layering = levels.len() >= self.layering_levels;
        let slowest = quick
            .iter()
            .filter_map(|order| order.cancelled.map(|at| (at - order.placed).num_seconds()))
            .max()
            .unwrap_or_default();
        let multiple = cancelled / executed;
        let confidence = 0.6
            + 0.1 * ((multiple - self.min_size_multiple) / self.min_size_multiple).min(2.0)
            + if layering { 0.05 } else { 0.0 };
        let (rule, code) = if layering {
            ("Layering", "layering")
        } else {
            ("Spoofing", "spoofing")
        };
        let mut alert = Alert::new(
            rule,
            code,
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "{rule} suspected: {} {side} orders for {} shares cancelled within {slowest} seconds while {} {} {} shares on the other side",
                quick.len(),
                Fixed(cancelled, 0),
                event.trader_id,
                side.opposite().verb(),
                Fixed(executed, 0),
                side = side.as_str()
            ),
        )
        .with_metadata("orders_cancelled", quick.len())
        .with_metadata("cancelled_volume", cancelled)
        .with_metadata("placed_volume", placed)
        .with_metadata("executed_volume", executed)
        .with_metadata("cancel_ratio", (cancelled / placed * 100.0).round() / 100.0)
        .with_metadata("price_levels", levels.len())
        .with_evidence(format!(
            "{} {} orders for {} shares placed, {} cancelled within {slowest} seconds (cancel ratio {}%)",
            orders.len(),
            side.as_str(),
            Fixed(placed, 0),
            quick.len(),
            Fixed(cancelled / placed * 100.0, 0)
        ))
        .with_evidence(format!(
            "{} {} shares on the other side at an average {} while the orders rested",
            capitalised(side.opposite().verb()),
            Fixed(executed, 0),
            Money(notional / executed)
        ))
        .with_evidence(format!(
            "Cancelled volume {}x the executed volume",
            Fixed(multiple, 1)
        ));
        if layering {
            alert = alert.with_evidence(format!(
                "Orders at {} price levels from {} to {}",
                levels.len(),
                Money(levels[0]),
                Money(levels[levels.len() - 1])
            ));
        }
        Some(alert)
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
