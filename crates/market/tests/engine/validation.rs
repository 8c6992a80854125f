use super::*;

fn errors(body: Value) -> Value {
    let errors = MarketEvent::parse(&body, Utc::now()).expect_err("invalid");
    serde_json::to_value(errors).expect("serialises")
}

#[test]
fn bad_events_are_refused_field_by_field() {
    assert_eq!(
        errors(
            json!({"symbol": "X", "price": 0, "volume": -5, "trader_id": "T",
                      "side": "short", "event_type": "quote"})
        ),
        json!({
            "price": ["Ensure this value is greater than 0."],
            "volume": ["Ensure this value is greater than 0."],
            "side": ["\"short\" is not a valid choice."],
            "event_type": ["\"quote\" is not a valid choice."],
        })
    );
    assert_eq!(
        errors(
            json!({"symbol": "X", "price": 1, "volume": 5, "trader_id": "T", "event_type": "order"})
        ),
        json!({
            "order_id": ["This field is required for an order."],
            "side": ["This field is required for an order."],
        })
    );
    assert_eq!(
        errors(
            json!({"symbol": "X", "price": 1, "volume": 5, "trader_id": "T", "event_type": "cancel"})
        ),
        json!({"order_id": ["This field is required for a cancel."]})
    );
}

#[test]
fn the_seed_trade_is_a_trade_and_orders_are_idempotent_by_their_id() {
    let seed = MarketEvent::parse(
        &json!({"symbol": "msft", "price": 425.5, "volume": 12000, "trader_id": "TR-99"}),
        Utc::now(),
    )
    .expect("the seed's trade");
    assert_eq!(seed.symbol, "MSFT");
    assert!(seed.is_trade());
    assert_eq!(seed.reference, None);
    let order = MarketEvent::parse(
        &json!({"symbol": "X", "price": 1, "volume": 5, "trader_id": "T", "event_type": "ORDER",
                "side": "Buy", "order_id": "O-1"}),
        Utc::now(),
    )
    .expect("an order");
    assert_eq!(order.reference.as_deref(), Some("order:O-1"));
}
