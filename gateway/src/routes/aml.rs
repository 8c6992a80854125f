//! POST /api/aml/detect/ in the contract's shape, and the learned peer groups (GET
//! /api/aml/peer-groups/, POST /api/aml/peer-groups/learn/).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use redflag_aml::{
    AmlAssessment, AmlConfig, AmlDetector, PeerGroup, PeerGroups, PeerLimits, Transaction,
};
use redflag_core::ValidationErrors;
use redflag_store::PartyToRemember;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Endpoint;
use super::detect::format_timestamp;
use super::render::{MetadataAlert, metadata_alerts, object};
use crate::auth::{Authenticated, Role};
use crate::errors::ApiError;
use crate::state::{AppState, Detectors};

impl Endpoint for AmlDetector {
    fn select(detectors: &Detectors) -> &Self {
        &detectors.aml
    }

    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Transaction, ValidationErrors> {
        let mut transaction = Transaction::parse(body, now)?;
        self.name_parties(&mut transaction);
        Ok(transaction)
    }

    fn read_stored(
        stored: &Value,
        event_time: DateTime<Utc>,
    ) -> Result<Transaction, ValidationErrors> {
        Transaction::parse(stored, event_time)
    }

    fn parties(transaction: &Transaction) -> Vec<PartyToRemember> {
        transaction
            .parties
            .iter()
            .filter_map(|named| {
                Some(PartyToRemember {
                    party_id: named.party.party_id.clone(),
                    print_json: serde_json::to_string(named.print.as_ref()?).ok()?,
                })
            })
            .collect()
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

/// GET /api/aml/peer-groups/: what new senders of each segment are judged against (see
/// `redflag_service::peer_groups`), as every gateway reads it from the database.
#[tracing::instrument(skip_all)]
pub async fn peer_groups(
    state: web::Data<AppState>,
    _user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let stored = web::block(move || redflag_service::peer_groups::stored(&db))
        .await
        .map_err(ApiError::internal)??;
    Ok(HttpResponse::Ok().json(PeerGroupReport::new(stored, &state.settings.aml)))
}

/// POST /api/aml/peer-groups/learn/ (admins): learns the peer groups now, as the worker's
/// `learn-peer-groups` task does, and swaps them in here at once (other gateways within
/// `models.reload_seconds`): after loading a history, or to see what a setting changes.
#[tracing::instrument(skip_all)]
pub async fn learn_peer_groups(
    state: web::Data<AppState>,
    user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let (db, config) = (state.db.clone(), state.settings.aml.clone());
    let stored = web::block(move || {
        redflag_service::peer_groups::learn(&db, &config, &user.username, Utc::now())?;
        redflag_service::peer_groups::stored(&db)
    })
    .await
    .map_err(ApiError::internal)??;
    if let Err(error) = state.reload_models() {
        tracing::error!(%error, "the detectors did not reload; the peer groups wait for the next reload");
    }
    Ok(HttpResponse::Ok().json(PeerGroupReport::new(stored, &state.settings.aml)))
}

/// The learned AML peer groups: a sender without a profile of its own yet (too few active days or
/// transfers) is judged against its segment's group, or the configured limits while its segment
/// has none.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerGroupReport {
    /// When the worker last learned them (RFC 3339 UTC); null before the first learning.
    pub learned_at: Option<String>,
    /// The event time of the newest transfer learned from: the learning window ends there.
    pub learned_through: Option<String>,
    /// Days of transfers learned from (`aml.velocity_baseline_days`).
    #[schema(example = 30)]
    pub window_days: u32,
    /// The quantile of the members' hours and days a new sender may reach
    /// (`aml.peer_group_quantile`).
    #[schema(example = 0.95)]
    pub quantile: f64,
    /// Established senders a segment needs for a group (`aml.peer_group_min_members`).
    #[schema(example = 20)]
    pub min_members: usize,
    /// What new senders of a segment without a group meet (`aml.velocity_1h_*`, `velocity_24h_*`).
    pub configured_limits: VelocityLimits,
    /// One per segment with enough established senders, by segment name; senders naming no
    /// `sender_segment` form the group `unsegmented`.
    pub groups: Vec<LearnedGroup>,
}

impl PeerGroupReport {
    /// The stored groups (and when they were learned), or the settings they would be learned
    /// with before the first learning.
    fn new(stored: Option<(PeerGroups, DateTime<Utc>)>, config: &AmlConfig) -> Self {
        let configured_limits = PeerLimits::configured(config).into();
        match stored {
            Some((peers, learned_at)) => Self {
                learned_at: Some(format_timestamp(learned_at)),
                learned_through: peers.learned_through.map(format_timestamp),
                window_days: peers.window_days,
                quantile: peers.quantile,
                min_members: peers.min_members,
                configured_limits,
                groups: peers.groups.into_iter().map(LearnedGroup::from).collect(),
            },
            None => Self {
                learned_at: None,
                learned_through: None,
                window_days: config.velocity_baseline_days,
                quantile: config.peer_group_quantile,
                min_members: config.peer_group_min_members as usize,
                configured_limits,
                groups: Vec::new(),
            },
        }
    }
}

/// One segment's group.
#[derive(Debug, Serialize, ToSchema)]
pub struct LearnedGroup {
    #[schema(example = "retail")]
    pub segment: String,
    /// Its established senders.
    #[schema(example = 134)]
    pub members: usize,
    /// Their transfers in the window.
    pub transfers: usize,
    pub limits: VelocityLimits,
    /// What a member sends on its quieter days (the median member): the scale at which a
    /// receiver of the segment that has not sent anything yet is judged.
    #[schema(example = 85.0)]
    pub quiet_transfer: f64,
}

impl From<PeerGroup> for LearnedGroup {
    fn from(group: PeerGroup) -> Self {
        Self {
            segment: group.segment,
            members: group.members,
            transfers: group.transfers,
            limits: group.limits.into(),
            quiet_transfer: group.quiet_transfer,
        }
    }
}

/// Most transfers and money in an hour and in a day before velocity speaks.
#[derive(Debug, Serialize, ToSchema)]
pub struct VelocityLimits {
    pub transactions_1h: u32,
    pub amount_1h: f64,
    pub transactions_24h: u32,
    pub amount_24h: f64,
}

impl From<PeerLimits> for VelocityLimits {
    fn from(limits: PeerLimits) -> Self {
        Self {
            transactions_1h: limits.transactions_1h,
            amount_1h: limits.amount_1h,
            transactions_24h: limits.transactions_24h,
            amount_24h: limits.amount_24h,
        }
    }
}
