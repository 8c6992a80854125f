//! POST /api/market/detect/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_core::ValidationErrors;
use redflag_market::{MarketAssessment, MarketDetector, MarketEvent};
use serde_json::{Map, Value, json};

use super::Endpoint;
use super::render::{AlertShape, alerts, insert_optional, object};
use crate::state::Detectors;

impl Endpoint for MarketDetector {
    /// A trade's `trade_id`, or an order's `order_id` (with its event type).
    const REFERENCE_FIELD: &'static str = "trade_id/order_id";

    fn select(detectors: &Detectors) -> &Self {
        &detectors.market
    }

    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<MarketEvent, ValidationErrors> {
        MarketEvent::parse(body, now)
    }

    fn reference(event: &MarketEvent) -> Option<&str> {
        event.reference.as_deref()
    }

    fn entity(event: &MarketEvent) -> &str {
        &event.symbol
    }

    fn event_time(event: &MarketEvent) -> DateTime<Utc> {
        event.at
    }

    fn render(
        event: &MarketEvent,
        assessment: &MarketAssessment,
        timestamp: String,
    ) -> Map<String, Value> {
        let mut body = object(json!({
            "symbol": event.symbol,
            "price": event.price,
            "volume": event.volume,
            "trader_id": event.trader_id,
            "manipulation_risk": assessment.risk,
            "flagged": assessment.flagged,
            "timestamp": timestamp,
            "alerts": alerts(&assessment.alerts, AlertShape::TypedEvidence),
            "event_type": event.event_type,
        }));
        for (key, value) in [
            ("side", event.side.map(|side| side.as_str().to_owned())),
            ("trade_id", event.trade_id.clone()),
            ("order_id", event.order_id.clone()),
            ("counterparty_id", event.counterparty_id.clone()),
        ] {
            insert_optional(&mut body, key, value);
        }
        insert_optional(&mut body, "model_score", assessment.model_score);
        body
    }
}
