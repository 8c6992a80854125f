//! Rules that judge a claim against earlier claims: frequency, duplicates, rings and peers.

use super::*;

#[test]
fn the_third_claim_on_a_policy_or_by_a_claimant_within_a_year_is_frequent() {
    let scenario = Scenario::new();
    let at = |day: &str| json!({"timestamp": format!("2026-{day}T10:00:00Z")});
    scenario.claim("C1", "P", 1_500.0, at("01-05"));
    let second = scenario.claim("C2", "P", 1_500.0, at("03-05"));
    assert!(alert(&second, "RepeatClaimsRule").is_none());
    let third = scenario.claim("C3", "P", 1_000.0, at("06-05"));
    assert_eq!(
        alert(&third, "RepeatClaimsRule").expect("frequent").reason,
        "Repeat claims: 3 claims totaling $4000.00 on policy P in 365 days"
    );

    let by = |policy: &str, day: &str| json!({"claimant_id": "CL-7", "timestamp": format!("2026-{day}T10:00:00Z"), "policy_id": policy});
    scenario.claim("K1", "PA", 700.0, by("PA", "02-01"));
    scenario.claim("K2", "PB", 800.0, by("PB", "04-01"));
    let third = scenario.claim("K3", "PC", 900.0, by("PC", "05-01"));
    let rule = alert(&third, "RepeatClaimsRule").expect("frequent claimant");
    assert_eq!(
        rule.reason,
        "Repeat claims: 3 claims totaling $2400.00 by claimant CL-7 across 3 policies in 365 days"
    );

    let old = Scenario::new();
    old.claim(
        "O1",
        "Q",
        1_500.0,
        json!({"timestamp": "2025-01-05T10:00:00Z"}),
    );
    old.claim(
        "O2",
        "Q",
        1_500.0,
        json!({"timestamp": "2025-03-05T10:00:00Z"}),
    );
    let late = old.claim(
        "O3",
        "Q",
        1_500.0,
        json!({"timestamp": "2026-03-06T10:00:00Z"}),
    );
    assert!(
        alert(&late, "RepeatClaimsRule").is_none(),
        "the first two are over a year old"
    );
}

#[test]
fn the_same_amount_for_the_same_incident_on_one_policy_is_a_duplicate() {
    let scenario = Scenario::new();
    let incident = json!({"incident_date": "2026-02-28", "report_date": "2026-03-01"});
    assert!(
        scenario
            .claim("D1", "P", 4_567.0, incident.clone())
            .alerts
            .is_empty()
    );
    let duplicate = scenario.claim("D2", "P", 4_567.0, incident.clone());
    let rule = alert(&duplicate, "DuplicateClaimRule").expect("duplicate");
    assert_eq!(
        rule.reason,
        "Duplicate claim: the same $4567.00 for the incident of 2026-02-28 was claimed as D1 on policy P"
    );
    assert_eq!(rule.severity.as_str(), "high");
    assert!(
        alert(
            &scenario.claim("D3", "P", 4_568.0, incident.clone()),
            "DuplicateClaimRule"
        )
        .is_none(),
        "another amount"
    );
    assert!(
        alert(
            &scenario.claim("D4", "Q", 4_567.0, incident),
            "DuplicateClaimRule"
        )
        .is_none(),
        "another policy"
    );
    assert!(
        alert(
            &scenario.claim(
                "D5",
                "P",
                4_567.0,
                json!({"incident_date": "2026-03-01", "report_date": "2026-03-01"})
            ),
            "DuplicateClaimRule"
        )
        .is_none(),
        "another incident"
    );
}

#[test]
fn a_ring_of_three_claimants_sharing_one_bank_account_is_caught_on_the_third_claim() {
    let scenario = Scenario::new();
    let claimant = |id: &str, account: &str| {
        json!({"claimant_id": id, "claimant_bank_account": account,
               "claimant_phone": format!("+44 20 7946 0{}", id.len() * 111)})
    };
    let first = scenario.claim(
        "R1",
        "P1",
        2_345.0,
        claimant("ALICE", "GB29 NWBK 6016 1331 9268 19"),
    );
    assert!(alert(&first, "SharedIdentifierRule").is_none());
    let second = scenario.claim(
        "R2",
        "P2",
        2_345.0,
        claimant("BOB", "gb29nwbk60161331926819"),
    );
    assert!(
        alert(&second, "SharedIdentifierRule").is_none(),
        "two claimants can be a couple"
    );
    let third = scenario.claim(
        "R3",
        "P3",
        2_345.0,
        claimant("CAROLINE", "GB29NWBK60161331926819"),
    );
    let ring = alert(&third, "SharedIdentifierRule").expect("a ring");
    assert_eq!(
        ring.reason,
        "Possible fraud ring: bank account shared by 3 different claimants in 180 days"
    );
    assert_eq!(
        ring.evidence,
        ["Bank account shared by 3 claimants across 3 claims in 180 days"]
    );
    assert_eq!(ring.severity.as_str(), "high");
    assert_eq!(
        ring.metadata["claimants_sharing"],
        json!({"bank_account": 3})
    );
    let text = serde_json::to_string(ring).expect("serialises");
    assert!(
        !text.to_lowercase().contains("nwbk"),
        "the account never appears: {text}"
    );

    let one_person = Scenario::new();
    for id in ["S1", "S2", "S3"] {
        let verdict = one_person.claim(id, id, 2_345.0, claimant("DAVE", "DE89370400440532013000"));
        assert!(
            alert(&verdict, "SharedIdentifierRule").is_none(),
            "one claimant is no ring"
        );
    }
}

#[test]
fn a_provider_far_above_its_peers_median_for_the_claim_type_is_an_outlier() {
    let scenario = Scenario::new();
    let health = |provider: &str| json!({"claim_type": "health", "provider_id": provider});
    for i in 0..24 {
        scenario.claim(
            &format!("H{i}"),
            &format!("P{i}"),
            900.0 + f64::from(i) * 10.0,
            health(&format!("CLINIC-{}", i % 6)),
        );
    }
    let outlier = scenario.claim("X1", "PX", 4_300.0, health("CLINIC-X"));
    let rule = alert(&outlier, "ProviderOutlierRule").expect("outlier");
    assert_eq!(
        rule.reason,
        "Provider outlier: claim amount $4300.00 from provider CLINIC-X is 4.2x the median $1015.00 of 24 health claims by other providers"
    );
    assert!(
        alert(
            &scenario.claim("X2", "PY", 2_900.0, health("CLINIC-Y")),
            "ProviderOutlierRule"
        )
        .is_none(),
        "2.8x"
    );
    let auto = scenario.claim(
        "X3",
        "PZ",
        9_000.0,
        json!({"claim_type": "auto", "provider_id": "GARAGE-1"}),
    );
    assert!(
        alert(&auto, "ProviderOutlierRule").is_none(),
        "auto providers are not compared by default"
    );

    let few = Scenario::new();
    for i in 0..10 {
        few.claim(&format!("F{i}"), "P", 1_000.0, health("CLINIC-1"));
    }
    assert!(
        alert(
            &few.claim("F99", "P", 9_000.0, health("CLINIC-2")),
            "ProviderOutlierRule"
        )
        .is_none(),
        "10 peers are too few"
    );
}
