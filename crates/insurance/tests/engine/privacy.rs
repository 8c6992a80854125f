//! Contact identifiers never leave the request in clear; malformed ones are refused without
//! being quoted.

use super::*;

const PHONE: &str = "+1 (555) 010-2030";
const EMAIL: &str = "Jane.Roe@Example.org";
const ACCOUNT: &str = "GB29 NWBK 6016 1331 9268 19";
const ADDRESS: &str = "221B Baker Street, London";

#[test]
fn the_stored_claim_holds_hashes_and_no_contact_value() {
    let scenario = Scenario::new();
    let body = json!({"claim_id": "C1", "policy_id": "P1", "claim_amount": 1_000,
                      "claimant_phone": PHONE, "claimant_email": EMAIL,
                      "claimant_bank_account": ACCOUNT, "claimant_address": ADDRESS});
    let claim = scenario.detector.parse(&body, Utc::now()).expect("valid");
    let stored = serde_json::to_string(&claim).expect("serialises");
    for fragment in [
        "555", "010", "2030", "jane", "roe", "example", "nwbk", "6016", "baker", "london",
    ] {
        assert!(
            !stored.to_lowercase().contains(fragment),
            "{fragment} leaked: {stored}"
        );
    }
    let stored: Value = serde_json::from_str(&stored).expect("JSON");
    for field in [
        "claimant_phone_hash",
        "claimant_email_hash",
        "claimant_bank_account_hash",
        "claimant_address_hash",
    ] {
        let hash = stored[field].as_str().expect("a hash");
        assert_eq!(hash.len(), 32);
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    }
    let debug = format!("{claim:?} {:?}", scenario.detector.hasher());
    assert!(
        !debug.contains("2030") && !debug.contains("test-key"),
        "{debug}"
    );
}

#[test]
fn bad_claims_are_refused_field_by_field_without_echoing_contacts() {
    let scenario = Scenario::new();
    let body = json!({"claim_id": "C1", "policy_id": "P1", "claim_amount": -5, "estimated_value": 0,
                      "claim_type": "boat", "incident_date": "2026-03-10", "report_date": "2026-03-01",
                      "policy_start_date": "01/03/2026", "coverage_limit": 1000, "deductible": 2000,
                      "claimant_phone": "12-34", "claimant_email": "jane-at-example", "claimant_bank_account": 42});
    let errors = scenario
        .detector
        .parse(&body, Utc::now())
        .expect_err("invalid");
    assert_eq!(
        serde_json::to_value(&errors).expect("serialises"),
        json!({
            "claim_amount": ["Ensure this value is greater than 0."],
            "estimated_value": ["Ensure this value is greater than 0."],
            "claim_type": ["\"boat\" is not a valid choice."],
            "report_date": ["Ensure this date is not before incident_date."],
            "policy_start_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
            "deductible": ["Ensure this value is not above coverage_limit."],
            "claimant_phone": ["Enter a valid phone number (6 to 15 digits)."],
            "claimant_email": ["Enter a valid email address."],
            "claimant_bank_account": ["Not a valid string."],
        })
    );
    let future = json!({"claim_id": "C1", "policy_id": "P1", "claim_amount": 5,
                        "incident_date": "2026-03-10", "timestamp": "2026-03-01T10:00:00Z"});
    let errors = scenario
        .detector
        .parse(&future, Utc::now())
        .expect_err("after the claim");
    assert_eq!(
        errors.field("incident_date"),
        ["Ensure this date is not after the claim's date."]
    );
}
