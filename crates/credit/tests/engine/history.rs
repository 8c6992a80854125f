use redflag_credit::Decision;

use super::*;

fn signal<'a>(verdict: &'a CreditAssessment, code: &str) -> Option<&'a redflag_core::Alert> {
    verdict.alerts.iter().find(|alert| alert.code == code)
}

fn detect(application: &Application, history: &History) -> CreditAssessment {
    CreditDetector::new(CreditConfig::default())
        .expect("the default settings are valid")
        .detect(application, history)
}

#[test]
fn three_applications_in_30_days_raise_velocity_and_refer_an_approval() {
    let application = strong();
    let verdict = detect(
        &application,
        &earlier(&application, &[(20, 9_000.0), (3, 9_000.0)]),
    );
    let alert = signal(&verdict, "application_velocity").expect("velocity");
    assert_eq!(
        alert.reason,
        "3 applications by STRONG-1 in 30 days (referral from 3)"
    );
    assert_eq!(alert.severity.as_str(), "medium");
    assert_eq!(
        alert.metadata["earlier_applications"],
        serde_json::json!(["APP-0", "APP-1"])
    );
    assert_eq!(verdict.decision, Decision::Review);
    assert_eq!(verdict.reasons[0].code, "application_velocity");
    // The two earlier applications are also recent credit seeking: new credit falls.
    assert_eq!(verdict.factors.new_credit, 0.76);

    let two = detect(&application, &earlier(&application, &[(3, 9_000.0)]));
    assert!(signal(&two, "application_velocity").is_none());
    assert_eq!(two.decision, Decision::Approved);
    let old = detect(
        &application,
        &earlier(&application, &[(60, 9_000.0), (45, 9_000.0)]),
    );
    assert!(
        signal(&old, "application_velocity").is_none(),
        "older than 30 days"
    );
    assert_eq!(
        old.factors.new_credit, 0.76,
        "but within the 180-day inquiry window"
    );
}

#[test]
fn a_materially_different_income_within_30_days_is_inconsistent() {
    let application = strong()
        .to_builder()
        .timestamp(at("2026-03-10T12:00:00Z"))
        .build()
        .expect("a valid application");
    let verdict = detect(&application, &earlier(&application, &[(4, 5_000.0)]));
    let alert = signal(&verdict, "income_inconsistency").expect("inconsistency");
    assert_eq!(
        alert.reason,
        "Stated monthly income $9000.00 differs by 80% from $5000.00 stated 4 days earlier (application APP-0); tolerance 25%"
    );
    assert_eq!(alert.severity.as_str(), "high");
    assert_eq!(verdict.decision, Decision::Review);

    let close = detect(&application, &earlier(&application, &[(4, 8_000.0)]));
    assert!(
        signal(&close, "income_inconsistency").is_none(),
        "12.5% is within tolerance"
    );
    let old = detect(&application, &earlier(&application, &[(40, 5_000.0)]));
    assert!(
        signal(&old, "income_inconsistency").is_none(),
        "older than 30 days"
    );
}

#[test]
fn a_declined_applicant_keeps_the_scorecard_reasons_with_the_signal_alerted() {
    let application = weak();
    let verdict = detect(&application, &earlier(&application, &[(2, 6_000.0)]));
    assert_eq!(verdict.decision, Decision::Declined);
    assert!(signal(&verdict, "income_inconsistency").is_some());
    assert!(
        verdict
            .reasons
            .iter()
            .all(|reason| reason.points_lost.is_some()),
        "the decline is the score's: its reasons are the characteristics"
    );
}

#[test]
fn the_window_remembers_each_application_with_its_stated_income() {
    let application = Application::builder("A", 4_321.0, 12)
        .application_id("APP-9".to_owned())
        .requested_amount(5_000.0)
        .build()
        .expect("a valid application");
    let observations = CreditDetector::new(CreditConfig::default())
        .expect("the default settings are valid")
        .observations(&application);
    assert_eq!(observations.len(), 1);
    let observation = &observations[0];
    assert_eq!(observation.key.to_string(), "credit:applicant:A");
    assert_eq!(observation.activity.reference(), "APP-9");
    assert_eq!(observation.activity.amount, 4_321.0);
    assert_eq!(observation.horizon, Duration::days(180));
}
