//! The windows a claim is seen through: its policy's and its claimant's claims, every claim
//! sharing one of its contact identifiers, and the recent claims of its type (the providers'
//! peers).

use chrono::{Datelike, Duration, NaiveDate};
use redflag_core::{Activity, EntityKind, Module, Observation, WindowKey, WindowMode};

use crate::contacts::IdentifierKind;
use crate::{Claim, ClaimType, InsuranceConfig};

pub fn policy_window(claim: &Claim) -> WindowKey {
    WindowKey::new(Module::Insurance, EntityKind::Policy, &claim.policy_id)
}

pub fn claimant_window(claimant_id: &str) -> WindowKey {
    WindowKey::new(Module::Insurance, EntityKind::Claimant, claimant_id)
}

pub fn identifier_window(kind: IdentifierKind, hash: &str) -> WindowKey {
    WindowKey::new(
        Module::Insurance,
        EntityKind::SharedIdentifier,
        format!("{}:{hash}", kind.code()),
    )
}

pub fn claim_type_window(claim_type: ClaimType) -> WindowKey {
    WindowKey::new(
        Module::Insurance,
        EntityKind::ClaimType,
        claim_type.as_str(),
    )
}

/// An incident date as a window entry's `quantity` (days since the common era), so that a
/// duplicate can be recognised by its date; 0 when the claim gives none.
pub fn incident_day(date: Option<NaiveDate>) -> f64 {
    date.map_or(0.0, |date| f64::from(date.num_days_from_ce()))
}

/// Whether the claim's type has its providers compared with their peers.
pub fn peer_compared(claim: &Claim, config: &InsuranceConfig) -> Option<ClaimType> {
    let claim_type = claim.claim_type?;
    claim.provider_id.as_ref()?;
    config
        .provider_outlier_claim_types
        .iter()
        .any(|name| name.eq_ignore_ascii_case(claim_type.as_str()))
        .then_some(claim_type)
}

/// Every window the claim is recorded in.
pub fn observations(claim: &Claim, config: &InsuranceConfig) -> Vec<Observation> {
    let activity = |counterparty: &str| {
        Activity::new(
            claim.at,
            &claim.claim_id,
            claim.claim_amount,
            incident_day(claim.incident_date),
            counterparty,
        )
    };
    let claims_horizon = Duration::days(i64::from(config.repeat_claims_window_days));
    let mut observations = vec![Observation {
        key: policy_window(claim),
        activity: activity(&claim.claimant()),
        horizon: claims_horizon,
        mode: WindowMode::Record,
    }];
    if let Some(claimant) = &claim.claimant_id {
        observations.push(Observation {
            key: claimant_window(claimant),
            activity: activity(&claim.policy_id),
            horizon: claims_horizon,
            mode: WindowMode::Record,
        });
    }
    for kind in IdentifierKind::ALL {
        if let Some(hash) = claim.contacts.get(kind) {
            observations.push(Observation {
                key: identifier_window(kind, hash),
                activity: activity(&claim.claimant()),
                horizon: Duration::days(i64::from(config.ring_window_days)),
                mode: WindowMode::Record,
            });
        }
    }
    if let (Some(claim_type), Some(provider)) = (peer_compared(claim, config), &claim.provider_id) {
        observations.push(Observation {
            key: claim_type_window(claim_type),
            activity: activity(provider),
            horizon: Duration::days(i64::from(config.provider_peer_window_days)),
            mode: WindowMode::Latest {
                keep: config.provider_peer_sample.max(1) as usize,
            },
        });
    }
    observations
}
