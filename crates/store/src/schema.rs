//! The tables, as both backends' migrations create them.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        is_active -> Bool,
        created_at -> Timestamp,
        role -> Text,
    }
}

diesel::table! {
    decisions (id) {
        id -> BigInt,
        module -> Text,
        reference -> Nullable<Text>,
        entity_id -> Text,
        risk_score -> Double,
        flagged -> Bool,
        decision -> Nullable<Text>,
        request_json -> Text,
        response_json -> Text,
        event_time -> Timestamp,
        event_hour -> BigInt,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
        model_features -> Nullable<Text>,
    }
}

diesel::table! {
    alerts (id) {
        id -> BigInt,
        decision_id -> BigInt,
        module -> Text,
        rule -> Text,
        code -> Text,
        severity -> Text,
        confidence -> Double,
        reason -> Text,
        details_json -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_outbox (id) {
        id -> BigInt,
        decision_id -> Nullable<BigInt>,
        kind -> Text,
        payload -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        relayed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        event_id -> Text,
        kind -> Text,
        module -> Nullable<Text>,
        entity_id -> Nullable<Text>,
        actor -> Text,
        payload -> Text,
        occurred_at -> Timestamp,
        applied_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_chain (id) {
        id -> Integer,
        head -> Text,
        length -> BigInt,
    }
}

diesel::table! {
    decision_rollups (module, event_hour) {
        module -> Text,
        event_hour -> BigInt,
        total -> BigInt,
        flagged -> BigInt,
        risk_sum -> Double,
    }
}

diesel::table! {
    alert_rollups (module, rule, severity) {
        module -> Text,
        rule -> Text,
        severity -> Text,
        count -> BigInt,
    }
}

diesel::table! {
    rollup_watermark (id) {
        id -> Integer,
        decision_id -> BigInt,
        rolled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    cases (id) {
        id -> BigInt,
        title -> Text,
        status -> Text,
        resolution -> Nullable<Text>,
        assignee -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    case_alerts (case_id, alert_id) {
        case_id -> BigInt,
        alert_id -> BigInt,
    }
}

diesel::table! {
    case_events (id) {
        id -> BigInt,
        case_id -> BigInt,
        actor -> Text,
        action -> Text,
        details_json -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(alerts -> decisions (decision_id));
diesel::joinable!(case_alerts -> cases (case_id));
diesel::joinable!(case_alerts -> alerts (alert_id));
diesel::joinable!(case_events -> cases (case_id));
diesel::joinable!(audit_outbox -> decisions (decision_id));
diesel::joinable!(decisions -> users (created_by));
diesel::table! {
    calibrations (name) {
        name -> Text,
        body -> Text,
        learned_at -> Timestamp,
    }
}

diesel::table! {
    rule_sets (id) {
        id -> BigInt,
        module -> Text,
        version -> Nullable<BigInt>,
        document -> Text,
        sha256 -> Text,
        description -> Text,
        author -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_by -> Nullable<Text>,
        published_at -> Nullable<Timestamp>,
        based_on -> Nullable<BigInt>,
    }
}

diesel::table! {
    rule_lists (name) {
        name -> Text,
        description -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    rule_list_entries (list_name, value) {
        list_name -> Text,
        value -> Text,
    }
}

diesel::table! {
    rule_backtests (id) {
        id -> BigInt,
        module -> Text,
        draft_id -> BigInt,
        since -> Timestamp,
        until -> Timestamp,
        status -> Text,
        replayed -> BigInt,
        total -> BigInt,
        report -> Nullable<Text>,
        started_by -> Text,
        started_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        cancel_requested -> Bool,
    }
}

diesel::table! {
    rule_shadows (id) {
        id -> BigInt,
        module -> Text,
        draft_id -> BigInt,
        document -> Text,
        sha256 -> Text,
        started_by -> Text,
        started_at -> Timestamp,
        stopped_by -> Nullable<Text>,
        stopped_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    shadow_decisions (shadow_id, decision_id) {
        shadow_id -> BigInt,
        decision_id -> BigInt,
        risk_score -> Double,
        flagged -> Bool,
        alerts_json -> Text,
    }
}

diesel::table! {
    screening_list_versions (id) {
        id -> BigInt,
        list_name -> Text,
        version -> BigInt,
        format -> Text,
        entries_json -> Text,
        entry_count -> BigInt,
        sha256 -> Text,
        delta_json -> Text,
        imported_by -> Text,
        imported_at -> Timestamp,
        rescreened_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    screening_parties (id) {
        id -> BigInt,
        party_id -> Text,
        print_json -> Text,
        first_seen_at -> Timestamp,
    }
}

diesel::table! {
    screening_suppressions (party_id, list_name, entry_id) {
        party_id -> Text,
        list_name -> Text,
        entry_id -> Text,
        entry_sha256 -> Text,
        note -> Text,
        alert_id -> Nullable<BigInt>,
        resolved_by -> Text,
        resolved_at -> Timestamp,
    }
}

diesel::joinable!(rule_list_entries -> rule_lists (list_name));
diesel::joinable!(shadow_decisions -> decisions (decision_id));

diesel::table! {
    webhook_subscriptions (id) {
        id -> BigInt,
        url -> Text,
        event_types -> Text,
        description -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        starts_after -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        subscription_id -> BigInt,
        message_id -> Text,
        event_type -> Text,
        audit_id -> BigInt,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_cursor (id) {
        id -> Integer,
        audit_id -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    decisions,
    alerts,
    audit_outbox,
    audit_log,
    audit_chain,
    decision_rollups,
    alert_rollups,
    rollup_watermark,
    cases,
    case_alerts,
    case_events,
    rule_lists,
    rule_list_entries,
    shadow_decisions,
    webhook_subscriptions,
    webhook_deliveries
);

// Precision by rule groups alerts by their rule and their case's resolution.
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    alerts::module,
    alerts::rule,
    cases::resolution
);
