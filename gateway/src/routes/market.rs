//! POST /api/market/detect/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_core::ValidationErrors;
use redflag_market::{EventType, MarketAssessment, MarketDetector, MarketEvent};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Endpoint;
use super::render::{TypedEvidenceAlert, object, typed_evidence_alerts};
use crate::state::Detectors;

impl Endpoint for MarketDetector {
    fn select(detectors: &Detectors) -> &Self {
        &detectors.market
    }

    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<MarketEvent, ValidationErrors> {
        MarketEvent::parse(body, now)
    }

    /// A trade's `trade_id`; orders carry their `order_id` (required), and a modification has
    /// no business id.
    fn optional_reference_field(body: &Map<String, Value>) -> Option<&'static str> {
        let is_trade = match body.get("event_type") {
            None | Some(Value::Null) => true,
            Some(Value::String(kind)) => kind.trim().eq_ignore_ascii_case("trade"),
            Some(_) => false,
        };
        is_trade.then_some("trade_id")
    }

    fn read_stored(
        stored: &Value,
        event_time: DateTime<Utc>,
    ) -> Result<MarketEvent, ValidationErrors> {
        MarketEvent::parse(stored, event_time)
    }

    fn render(
        event: &MarketEvent,
        assessment: &MarketAssessment,
        timestamp: String,
    ) -> Map<String, Value> {
        object(&MarketDecision {
            symbol: event.symbol.clone(),
            price: event.price,
            volume: event.volume,
            trader_id: event.trader_id.clone(),
            manipulation_risk: assessment.risk,
            flagged: assessment.flagged,
            timestamp,
            alerts: typed_evidence_alerts(&assessment.alerts),
            event_type: event.event_type,
            side: event.side.map(|side| side.as_str()),
            trade_id: event.trade_id.clone(),
            order_id: event.order_id.clone(),
            counterparty_id: event.counterparty_id.clone(),
            model_score: assessment.model_score,
        })
    }
}

/// The assessment of one market event (without its `id`, which the pipeline adds first).
#[derive(Debug, Serialize, ToSchema)]
pub struct MarketDecision {
    #[schema(example = "ACME")]
    pub symbol: String,
    pub price: f64,
    pub volume: f64,
    pub trader_id: String,
    /// 0-100: the noisy-OR of the alerts' confidences.
    pub manipulation_risk: f64,
    pub flagged: bool,
    /// The event time, RFC 3339 UTC with milliseconds.
    pub timestamp: String,
    pub alerts: Vec<TypedEvidenceAlert>,
    /// `trade`, `order` or `cancel`.
    #[schema(value_type = String, example = "trade")]
    pub event_type: EventType,
    /// `buy` or `sell`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trade_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterparty_id: Option<String>,
    /// The anomaly model's score, 0-1 (near 1 is anomalous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_score: Option<f64>,
}
