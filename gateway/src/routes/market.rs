//! POST /api/market/detect/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_core::ValidationErrors;
use redflag_market::{MarketAssessment, MarketDetector, Trade};
use serde_json::{Map, Value, json};

use super::Endpoint;
use super::render::{AlertShape, alerts, insert_optional, object};
use crate::state::Detectors;

impl Endpoint for MarketDetector {
    const REFERENCE_FIELD: &'static str = "trade_id";

    fn select(detectors: &Detectors) -> &Self {
        &detectors.market
    }

    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Trade, ValidationErrors> {
        Trade::parse(body, now)
    }

    fn reference(trade: &Trade) -> Option<&str> {
        trade.trade_id.as_deref()
    }

    fn entity(trade: &Trade) -> &str {
        &trade.symbol
    }

    fn event_time(trade: &Trade) -> DateTime<Utc> {
        trade.at
    }

    fn render(
        trade: &Trade,
        assessment: &MarketAssessment,
        timestamp: String,
    ) -> Map<String, Value> {
        let mut body = object(json!({
            "symbol": trade.symbol,
            "price": trade.price,
            "volume": trade.volume,
            "trader_id": trade.trader_id,
            "manipulation_risk": assessment.risk,
            "flagged": assessment.flagged,
            "timestamp": timestamp,
            "alerts": alerts(&assessment.alerts, AlertShape::TypedEvidence),
        }));
        if let Some(trade_id) = &trade.trade_id {
            body.insert("trade_id".to_owned(), json!(trade_id));
        }
        insert_optional(&mut body, "model_score", assessment.model_score);
        body
    }
}
