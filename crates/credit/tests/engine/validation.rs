use serde_json::{Value, json};

use super::*;

fn errors(body: Value) -> Value {
    let errors = Application::parse(&body, Utc::now()).expect_err("the body is invalid");
    serde_json::to_value(errors).expect("errors serialise")
}

#[test]
fn out_of_range_figures_are_refused_field_by_field() {
    assert_eq!(
        errors(
            json!({"applicant_id": "A", "monthly_income": -10, "employment_length": 721,
                      "credit_utilization": 1.2, "loan_term_months": 0, "credit_history_months": 1201,
                      "late_payments_12m": -1})
        ),
        json!({
            "monthly_income": ["Ensure this value is greater than 0."],
            "employment_length": ["Ensure this value is less than or equal to 720."],
            "credit_utilization": ["Ensure this value is less than or equal to 1."],
            "loan_term_months": ["Ensure this value is greater than or equal to 1."],
            "credit_history_months": ["Ensure this value is less than or equal to 1200."],
            "late_payments_12m": ["Ensure this value is greater than or equal to 0."],
        })
    );
}

#[test]
fn revolving_balance_and_limit_come_together_and_agree_with_a_stated_ratio() {
    let base = json!({"applicant_id": "A", "monthly_income": 4000, "employment_length": 12});
    let with = |extra: Value| {
        let mut body = base.clone();
        body.as_object_mut()
            .expect("an object")
            .extend(extra.as_object().expect("an object").clone());
        body
    };
    assert_eq!(
        errors(with(json!({"revolving_balance": 500}))),
        json!({"revolving_limit": ["This field is required when revolving_balance is given."]})
    );
    assert_eq!(
        errors(with(json!({"revolving_limit": 500}))),
        json!({"revolving_balance": ["This field is required when revolving_limit is given."]})
    );
    assert_eq!(
        errors(with(
            json!({"revolving_balance": 500, "revolving_limit": 0})
        )),
        json!({"revolving_limit": ["Ensure this value is greater than 0 when revolving_balance is above 0."]})
    );
    assert_eq!(
        errors(with(
            json!({"revolving_balance": 500, "revolving_limit": 1000, "credit_utilization": 0.2})
        )),
        json!({"credit_utilization": ["Does not match revolving_balance / revolving_limit (0.500); send one or the other."]})
    );
    let agreeing = Application::parse(
        &with(json!({"revolving_balance": 1500, "revolving_limit": 1000, "credit_utilization": 1})),
        Utc::now(),
    );
    assert!(agreeing.is_err(), "150% does not match a stated 100%");
    let over_limit = Application::parse(
        &with(json!({"revolving_balance": 1500, "revolving_limit": 1000})),
        Utc::now(),
    )
    .expect("over the limit is a fact, not an error");
    assert_eq!(over_limit.utilization(), Some(1.5));
}

#[test]
fn account_types_are_counts_of_the_three_kinds() {
    let body = json!({"applicant_id": "A", "monthly_income": 4000, "employment_length": 12,
                      "account_types": {"revolving": 2, "instalment": 1, "mortgage": -1}});
    assert_eq!(
        errors(body),
        json!({"account_types": [
            "instalment: Not a valid key; expected one of revolving, installment, mortgage.",
            "mortgage: Ensure this value is greater than or equal to 0."
        ]})
    );
    let body = json!({"applicant_id": "A", "monthly_income": 4000, "employment_length": 12,
                      "account_types": [2, 1]});
    assert_eq!(
        errors(body),
        json!({"account_types": ["Expected a dictionary of items but got type \"list\"."]})
    );
    let body = json!({"applicant_id": "A", "monthly_income": 4000, "employment_length": 12,
                      "account_types": {"installment": 1}});
    let application = Application::parse(&body, Utc::now()).expect("valid");
    assert_eq!(
        application.account_types,
        Some(AccountTypes {
            installment: 1,
            ..AccountTypes::default()
        })
    );
}

#[test]
fn a_library_caller_cannot_build_or_score_what_the_service_would_refuse() {
    let refused = json!({"credit_utilization": ["Ensure this value is less than or equal to 1."],
                         "monthly_income": ["Ensure this value is greater than 0."]});
    let built = Application::builder("A", -5.0, 12)
        .credit_utilization(1.4)
        .build()
        .expect_err("invalid figures");
    assert_eq!(serde_json::to_value(built).expect("serialises"), refused);

    let mut changed = Application::builder("A", 4_000.0, 12)
        .build()
        .expect("a valid application");
    changed.monthly_income = -5.0;
    changed.credit_utilization = Some(1.4);
    let detector =
        CreditDetector::new(CreditConfig::default()).expect("the default settings are valid");
    let errors = detector.assess(&changed).expect_err("invalid figures");
    assert_eq!(serde_json::to_value(errors).expect("serialises"), refused);

    let not_a_number = Application::builder("A", 4_000.0, 12)
        .requested_amount(f64::NAN)
        .build()
        .expect_err("NaN is no amount");
    assert_eq!(
        serde_json::to_value(not_a_number).expect("serialises"),
        json!({"requested_amount": ["A valid number is required."]})
    );
}
