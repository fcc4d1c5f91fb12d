//! Topic 12 of the tutorial (`examples/README.md`): start the bundled HTTP server from code and
//! call it over HTTP with its token.
//!
//! `cargo run -p messagedb-examples --example server`

use std::time::Duration;

use messagedb_server::{ServeConfig, start};
use serde_json::{Value, json};

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// One RPC call: a JSON array `[method, args…]` posted to `/rpc`, with the token as a bearer
/// token. Returns the HTTP status and the body.
async fn rpc(url: &str, token: &str, call: Value) -> Result<(u16, String), Failure> {
    let (url, auth) = (format!("{url}/rpc"), format!("Bearer {token}"));
    // ureq blocks: it runs off the async runtime, which serves the requests.
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut response = agent
            .post(&url)
            .header("Authorization", &auth)
            .content_type("application/json")
            .send(call.to_string())?;
        let body = response.body_mut().read_to_string()?;
        Ok::<_, Failure>((response.status().as_u16(), body))
    })
    .await?
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    // [example]
    // As `serve()` in JS and Python: test mode (an in-memory store), any free port, loopback only.
    let server = start(ServeConfig::in_process()).await?;
    let (url, token) = (server.url.clone(), server.token.clone());

    let opened = json!({"type": "Opened", "data": {"owner": "ada"}});
    let call = json!(["stream.write", "account-1", opened, {"expectedVersion": -1}]);
    let (status, body) = rpc(&url, &token, call).await?;
    assert_eq!(status, 200);
    println!("stream.write: {body}");
    let deposited = json!({"type": "Deposited", "data": {"amount": 10}});
    let call = json!(["stream.write", "account-1", deposited, {"expectedVersion": 0}]);
    let (status, body) = rpc(&url, &token, call.clone()).await?;
    assert_eq!(status, 200);
    println!("stream.write: {body}");

    // The same write again: the stream moved on, so it is refused with a status and a code.
    let (status, body) = rpc(&url, &token, call).await?;
    let error: Value = serde_json::from_str(&body)?;
    let code = error["error"]["code"].as_str().unwrap_or_default();
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert_eq!((status, code), (409, "STREAM_VERSION_CONFLICT"));
    println!("stream.write: {status} {code} {message}");

    // A stream message is [id, type, position, globalPosition, data, metadata, time].
    let (status, body) = rpc(&url, &token, json!(["stream.get", "account-1"])).await?;
    assert_eq!(status, 200);
    let messages: Vec<Value> = serde_json::from_str(&body)?;
    assert_eq!(messages.len(), 2);
    for m in &messages {
        let kind = m[1].as_str().unwrap_or_default();
        println!(
            "stream.get: position {} global {} {kind} {}",
            m[2], m[3], m[4]
        );
    }

    let (status, body) = rpc(&url, &token, json!(["sys.health"])).await?;
    assert_eq!(status, 200);
    println!("sys.health: {body}");
    server.stop(Duration::from_secs(1)).await;
    println!("server stopped");
    // [/example]
    Ok(())
}
