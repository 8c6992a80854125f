//! POST /api/aml/detect/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_aml::{AmlAssessment, AmlDetector, Transaction};
use redflag_core::ValidationErrors;
use serde_json::{Map, Value, json};

use super::Endpoint;
use super::render::{AlertShape, alerts, insert_optional, object};
use crate::state::Detectors;

impl Endpoint for AmlDetector {
    const REFERENCE_FIELD: &'static str = "transaction_id";

    fn select(detectors: &Detectors) -> &Self {
        &detectors.aml
    }

    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Transaction, ValidationErrors> {
        Transaction::parse(body, now)
    }

    fn reference(transaction: &Transaction) -> Option<&str> {
        Some(&transaction.transaction_id)
    }

    fn entity(transaction: &Transaction) -> &str {
        &transaction.sender_id
    }

    fn event_time(transaction: &Transaction) -> DateTime<Utc> {
        transaction.at
    }

    fn render(
        transaction: &Transaction,
        assessment: &AmlAssessment,
        timestamp: String,
    ) -> Map<String, Value> {
        let mut body = object(json!({
            "transaction_id": transaction.transaction_id,
            "user_id": transaction.user_id,
            "amount": transaction.amount,
            "sender_id": transaction.sender_id,
            "receiver_id": transaction.receiver_id,
            "risk_score": assessment.risk,
            "flagged": assessment.flagged,
            "timestamp": timestamp,
            "alerts": alerts(&assessment.alerts, AlertShape::Metadata),
        }));
        insert_optional(&mut body, "model_score", assessment.model_score);
        body
    }
}
