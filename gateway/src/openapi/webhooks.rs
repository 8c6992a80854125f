//! The webhook paths and bodies in the API document.

use redflag_store::webhook_event_types;
use serde_json::{Map, Value, json};

use crate::routes::{DeliveryBody, DeliveryPage, SubscriptionBody};

use super::{add, operation, reference, response, responses};

/// The webhook bodies.
pub(super) fn add_schemas(schemas: &mut Map<String, Value>) {
    add::<SubscriptionBody>(schemas);
    add::<DeliveryBody>(schemas);
    add::<DeliveryPage>(schemas);
    let event_types = json!({"type": "array", "minItems": 1,
                             "items": {"type": "string", "enum": webhook_event_types().collect::<Vec<_>>()}});
    schemas.insert(
        "NewSubscription".to_owned(),
        json!({
            "type": "object",
            "required": ["url", "event_types"],
            "properties": {
                "url": {"type": "string", "format": "uri", "maxLength": 2000,
                        "description": "http or https; loopback, private and link-local hosts \
                                        are refused unless `webhooks.allow_private_addresses`"},
                "event_types": event_types,
                "description": {"type": "string", "maxLength": 1000}
            }
        }),
    );
    schemas.insert(
        "SubscriptionChange".to_owned(),
        json!({
            "type": "object",
            "properties": {
                "url": {"type": "string", "format": "uri", "maxLength": 2000},
                "event_types": event_types,
                "description": {"type": "string", "maxLength": 1000},
                "active": {"type": "boolean",
                           "description": "false stops deliveries; true resumes them (and \
                                           clears a 410's `disabled_reason`)"}
            }
        }),
    );
}

fn admin_only(entries: &[(&str, Value)]) -> Map<String, Value> {
    let mut answers = responses(entries);
    answers.insert(
        "403".to_owned(),
        response("The user is not an admin", Some("ErrorDetail")),
    );
    answers
}

/// The webhook paths.
pub(super) fn paths() -> Value {
    let id = json!({"name": "id", "in": "path", "required": true,
                    "schema": {"type": "integer"}});
    let not_found = || response("No such subscription", Some("ErrorDetail"));
    let with_id = |mut operation: Value| {
        operation["parameters"] = json!([id]);
        operation
    };
    let format = format!(
        "Messages are Standard Webhooks (standardwebhooks.com): a JSON body `{{\"type\", \
         \"timestamp\", \"data\"}}` with the headers `webhook-id` (the same on every attempt), \
         `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of \
         id.timestamp.body>` (two signatures, space-separated, while a secret is rotated). Event \
         types: {}. `data` is, for `decision.flagged`, `{{\"module\", \"decision\"}}` (the \
         decision's answer with its id); for case events `{{\"case_id\", \"action\", \"actor\", \
         \"change\", \"case\"}}`; otherwise the audited action's `module`, `entity_id`, `actor` and \
         `details`. Delivery is at least once, from the audit log; a failed attempt (not 2xx, \
         or no answer within `webhooks.timeout_seconds`; redirects are not followed) is retried \
         with exponential back-off and jitter over about three days, then the delivery is \
         `failed`; 410 disables the subscription.",
        webhook_event_types().collect::<Vec<_>>().join(", ")
    );
    let mut resend = operation(
        "Webhooks",
        "Send a delivery again",
        "Admins only. The delivery is sent again at once, with its `webhook-id` and \
         body; its attempts start over.",
        true,
        None,
        admin_only(&[
            ("202", response("Queued for sending", Some("DeliveryBody"))),
            (
                "404",
                response("No such delivery of this subscription", Some("ErrorDetail")),
            ),
        ]),
    );
    resend["parameters"] = json!([id, {"name": "delivery_id", "in": "path",
        "required": true, "schema": {"type": "integer"}}]);
    json!({
        "/api/webhooks/": {
            "get": operation(
                "Webhooks",
                "List the webhook subscriptions",
                "Admins only. Secrets are not shown.",
                true,
                None,
                admin_only(&[("200", json!({"description": "Every subscription, oldest first",
                    "content": {"application/json": {"schema": {"type": "array",
                        "items": reference("SubscriptionBody")}}}}))]),
            ),
            "post": operation(
                "Webhooks",
                "Subscribe a URL to events",
                &format!("Admins only. The answer holds the subscription's `whsec_` secret, shown \
                          only here (and on rotation). Only events from now on are sent. {format}"),
                true,
                Some(("NewSubscription", json!({"url": "https://hooks.example.com/redflag",
                    "event_types": ["decision.flagged", "case.closed"]}))),
                admin_only(&[("201", response("Subscribed; `secret` is set", Some("SubscriptionBody")))]),
            ),
        },
        "/api/webhooks/{id}/": {
            "get": with_id(operation(
                "Webhooks", "One subscription", "Admins only.", true, None,
                admin_only(&[("200", response("The subscription", Some("SubscriptionBody"))),
                             ("404", not_found())]),
            )),
            "patch": with_id(operation(
                "Webhooks",
                "Change a subscription",
                "Admins only. Any of `url` (checked as on creation), `event_types`, \
                 `description`, `active`.",
                true,
                Some(("SubscriptionChange", json!({"active": true}))),
                admin_only(&[("200", response("Changed", Some("SubscriptionBody"))),
                             ("404", not_found())]),
            )),
            "delete": with_id(operation(
                "Webhooks",
                "Remove a subscription",
                "Admins only. Its delivery log goes with it.",
                true,
                None,
                admin_only(&[("204", response("Removed", None)), ("404", not_found())]),
            )),
        },
        "/api/webhooks/{id}/rotate-secret/": {
            "post": with_id(operation(
                "Webhooks",
                "Rotate a subscription's secret",
                "Admins only. Answers the new `secret`; the one before keeps signing beside it \
                 for `webhooks.rotation_grace_hours` (each message then carries both signatures).",
                true,
                None,
                admin_only(&[("200", response("The new secret is set", Some("SubscriptionBody"))),
                             ("404", not_found())]),
            )),
        },
        "/api/webhooks/{id}/deliveries/": {
            "get": with_id(operation(
                "Webhooks",
                "A subscription's delivery log",
                "Admins only. Newest first, with each delivery's status, attempts, last status \
                 code and error, and the body sent; `?page=`, `?page_size=`.",
                true,
                None,
                admin_only(&[("200", response("A page of deliveries", Some("DeliveryPage"))),
                             ("404", not_found())]),
            )),
        },
        "/api/webhooks/{id}/deliveries/{delivery_id}/resend/": {
            "post": resend,
        },
    })
}
