//! Many clients at once through a real listener: every acknowledged transfer is in the window.

use std::io::{Read, Write};
use std::net::TcpStream;

use actix_web::HttpServer;
use redflag_gateway::build_app;
use serde_json::{Value, json};

use crate::helpers::{TestApp, login};

/// A minimal HTTP/1.1 client: one POST per connection, the whole answer read back.
fn post(port: u16, token: &str, body: &Value) -> (u16, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts");
    let body = body.to_string();
    let request = format!(
        "POST /api/aml/detect/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    let status = response[9..12].parse().expect("a status code");
    let json = response
        .split_once("\r\n\r\n")
        .map_or("null", |(_, body)| body);
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

#[actix_web::test]
async fn sixty_four_concurrent_transfers_from_one_sender_are_all_counted() {
    let test_app = TestApp::spawn();
    let (token, _) = login(&test_app.service().await, &test_app, "analyst").await;
    let state = test_app.state.clone();
    let server = HttpServer::new(move || build_app(state.clone()))
        .workers(2)
        .bind(("127.0.0.1", 0))
        .expect("a free port");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let transfer = |i: u32| {
        json!({"transaction_id": format!("C{i}"), "user_id": "U", "amount": 10.5, "sender_id": "S-CONCURRENT",
               "receiver_id": "R", "timestamp": "2026-02-09T10:00:00Z"})
    };
    let client_token = token.clone();
    let statuses = actix_web::rt::task::spawn_blocking(move || {
        let clients: Vec<_> = (0..64)
            .map(|i| {
                let token = client_token.clone();
                let body = transfer(i);
                std::thread::spawn(move || post(port, &token, &body).0)
            })
            .collect();
        clients
            .into_iter()
            .map(|client| client.join().expect("client finished"))
            .collect::<Vec<u16>>()
    })
    .await
    .expect("clients ran");
    assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");

    let last = json!({"transaction_id": "LAST", "user_id": "U", "amount": 10.5, "sender_id": "S-CONCURRENT",
                      "receiver_id": "R", "timestamp": "2026-02-09T10:30:00Z"});
    let (status, body) = actix_web::rt::task::spawn_blocking(move || post(port, &token, &last))
        .await
        .expect("client ran");
    assert_eq!(status, 201);
    let velocity = body["alerts"]
        .as_array()
        .and_then(|alerts| alerts.iter().find(|alert| alert["rule"] == "VelocityRule"))
        .expect("65 transfers in an hour break the velocity limit");
    assert_eq!(
        velocity["metadata"]["transactions_1h"], 65,
        "every concurrent transfer is in the window"
    );
    let stats = test_app
        .state
        .db
        .statistics(chrono::Utc::now(), 10)
        .expect("query");
    assert_eq!(stats.modules[0].total, 65, "and every one was stored");
    handle.stop(true).await;
}
