//! POST /api/aml/detect/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_aml::{AmlAssessment, AmlDetector, Transaction};
use redflag_core::ValidationErrors;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Endpoint;
use super::render::{MetadataAlert, metadata_alerts, object};
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
        object(&AmlDecision {
            transaction_id: transaction.transaction_id.clone(),
            user_id: transaction.user_id.clone(),
            amount: transaction.amount,
            sender_id: transaction.sender_id.clone(),
            receiver_id: transaction.receiver_id.clone(),
            risk_score: assessment.risk,
            flagged: assessment.flagged,
            timestamp,
            alerts: metadata_alerts(&assessment.alerts),
            model_score: assessment.model_score,
        })
    }
}

/// The assessment of one transfer (without its `id`, which the pipeline adds first).
#[derive(Debug, Serialize, ToSchema)]
pub struct AmlDecision {
    #[schema(example = "TXN-1001")]
    pub transaction_id: String,
    pub user_id: String,
    #[schema(example = 9800.0)]
    pub amount: f64,
    pub sender_id: String,
    pub receiver_id: String,
    /// 0-100: the noisy-OR of the alerts' confidences.
    #[schema(example = 80.0)]
    pub risk_score: f64,
    pub flagged: bool,
    /// The event time, RFC 3339 UTC with milliseconds.
    #[schema(example = "2026-02-09T09:00:00.000Z")]
    pub timestamp: String,
    pub alerts: Vec<MetadataAlert>,
    /// The anomaly model's score, 0-1 (near 1 is anomalous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_score: Option<f64>,
}
