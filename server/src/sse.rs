//! `GET /subscribe`: Server-Sent Events, one poke per message, history then live (§4).

use std::collections::HashMap;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;

use messagedb::Namespace;
use messagedb::consumer::{ConsumerHold, ConsumerId, ConsumerOpts};

use crate::consumers::Consumers;
use messagedb::{SubscribeOpts, Subscription, SubscriptionTarget};

use crate::metrics::SubscriptionGuard;
use crate::state::{AppState, QueryOf};

/// How often an idle subscription sends a comment (and so notices a gone client).
const KEEPALIVE: Duration = Duration::from_secs(15);

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_string(),
    )
        .into_response()
}

/// The subscription the query asks for, or the plain-text 400 message.
fn parse(query: &HashMap<String, String>) -> Result<SubscribeOpts, String> {
    let all = query.get("all").is_some_and(|a| a == "true");
    let target = SubscribeOpts::target(
        query.get("stream").map(String::as_str),
        query.get("category").map(String::as_str),
        all,
    )
    .map_err(|e| e.to_string())?;
    let position = match query.get("position") {
        Some(p) => p.parse::<i64>().map_err(|_| "Invalid position parameter")?,
        None => 0,
    };
    let number = |names: [&str; 2], error: &'static str| -> Result<Option<i64>, String> {
        match names.iter().find_map(|n| query.get(*n)) {
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| error.to_string()),
            None => Ok(None),
        }
    };
    let member = number(
        ["consumer", "consumerGroupMember"],
        "Invalid consumer parameter",
    )?;
    let size = number(["size", "consumerGroupSize"], "Invalid size parameter")?;
    target
        .from_position(position)
        .with_group(member, size)
        .map_err(|e| e.to_string())
}

/// Handles `GET /subscribe`.
pub async fn subscribe(
    State(state): State<AppState>,
    QueryOf(query): QueryOf<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let caller = match state
        .auth
        .authenticate(&headers, query.get("token").map(String::as_str))
        .await
    {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let mut opts = match parse(&query) {
        Ok(o) => o,
        Err(message) => return bad_request(&message),
    };
    let ns = state.store.namespace(&caller.namespace);
    let opening: Opening = match query.get("name") {
        // A consumer's subscription: the one active instance of its name while the client stays
        // connected (a second waits before `: ready`), from after its position (acknowledged
        // with `consumer.ack`).
        Some(name) => {
            let consumer = match consumer_of(&opts, name) {
                Ok(c) => ns.consumer(c),
                Err(e) => return caller.checked(e.into()).into_response(),
            };
            let consumers = state.consumers.clone();
            Box::pin(async move {
                let hold = consumer.hold().await?;
                let id = consumer.id().clone();
                if let Some(p) = consumers.position(&ns, &id).await? {
                    opts.position = p + 1;
                }
                let subscription = ns.subscribe(opts).await?;
                let named = Named {
                    hold: Some(hold),
                    consumers,
                    ns,
                    id,
                };
                Ok((subscription, Some(named)))
            })
        }
        None => match ns.subscribe(opts).await {
            Ok(s) => Box::pin(std::future::ready(Ok((s, None)))),
            Err(e) => return caller.checked(e.into()).into_response(),
        },
    };
    let guard = state.metrics.subscription();
    let body = Body::from_stream(pokes(opening, state.shutdown.clone(), guard));
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Some(token) = caller.issued_token
        && let Ok(v) = HeaderValue::from_str(&token)
    {
        h.insert("x-messagedb-token", v.clone());
        h.insert("x-eventodb-token", v);
    }
    response
}

/// The options of the consumer named `name` of a category subscription (with its group).
fn consumer_of(opts: &SubscribeOpts, name: &str) -> messagedb::Result<ConsumerOpts> {
    match &opts.target {
        SubscriptionTarget::Category(category, group) => {
            let consumer = ConsumerOpts::new(category, name)?;
            match group {
                Some(g) => consumer.group(*g),
                None => Ok(consumer),
            }
        }
        _ => Err(messagedb::Error::invalid(
            "'name' (a consumer) needs 'category'",
        )),
    }
}

/// The subscription to come (for a consumer, once it is the active instance), with the hold.
type Opening =
    Pin<Box<dyn Future<Output = messagedb::Result<(Subscription, Option<Named>)>> + Send>>;

/// A consumer's subscription holding its name. When the client goes, what it acknowledged here is
/// recorded before the name is let go, so that a standby starts after it.
struct Named {
    hold: Option<ConsumerHold>,
    consumers: Arc<Consumers>,
    ns: Namespace,
    id: ConsumerId,
}

impl Drop for Named {
    fn drop(&mut self) {
        if let Some(hold) = self.hold.take() {
            self.consumers.release(&self.ns, self.id.clone(), hold);
        }
    }
}

struct Pokes {
    opening: Option<Opening>,
    subscription: Option<Subscription>,
    _named: Option<Named>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    _guard: SubscriptionGuard,
}

/// `: ready` once the subscription is open (a consumer's standby waits, with keepalives), then
/// one whole event per message (each chunk is written and flushed as one), a keepalive comment
/// when idle, the end when the server stops.
fn pokes(
    opening: Opening,
    shutdown: tokio::sync::watch::Receiver<bool>,
    guard: SubscriptionGuard,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let state = Pokes {
        opening: Some(opening),
        subscription: None,
        _named: None,
        shutdown,
        _guard: guard,
    };
    stream::unfold(state, |mut s| async move {
        if *s.shutdown.borrow() {
            return None;
        }
        if let Some(opening) = s.opening.as_mut() {
            let opened = tokio::select! {
                opened = opening => opened,
                _ = tokio::time::sleep(KEEPALIVE) => {
                    return Some((Ok(Bytes::from_static(b": keepalive\n\n")), s));
                }
                _ = s.shutdown.changed() => return None,
            };
            s.opening = None;
            match opened {
                Ok((subscription, hold)) => {
                    s.subscription = Some(subscription);
                    s._named = hold;
                    return Some((Ok(Bytes::from_static(b": ready\n\n")), s));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a consumer's subscription did not open");
                    return None;
                }
            }
        }
        let subscription = s.subscription.as_mut()?;
        let chunk = tokio::select! {
            next = subscription.next() => match next {
                Some(Ok(m)) => {
                    // Keys in the order of the spec's example; the name JSON-escaped.
                    let stream = serde_json::Value::from(m.stream_name);
                    Bytes::from(format!(
                        "event: poke\ndata: {{\"stream\":{stream},\"position\":{},\"globalPosition\":{}}}\n\n",
                        m.position, m.global_position
                    ))
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "subscription ended by an error");
                    return None;
                }
                None => return None,
            },
            _ = tokio::time::sleep(KEEPALIVE) => Bytes::from_static(b": keepalive\n\n"),
            _ = s.shutdown.changed() => return None,
        };
        Some((Ok(chunk), s))
    })
}

#[cfg(test)]
mod tests {
    use messagedb::ConsumerGroup;

    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameter_errors_have_the_wire_messages() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[],
                "Either 'stream', 'category', or 'all=true' parameter required",
            ),
            (
                &[("all", "true"), ("stream", "a-1")],
                "Cannot combine 'all' with 'stream' or 'category'",
            ),
            (
                &[("stream", "a-1"), ("category", "a")],
                "Cannot specify both 'stream' and 'category'",
            ),
            (
                &[("stream", "a-1"), ("position", "x")],
                "Invalid position parameter",
            ),
            (
                &[("category", "a"), ("consumer", "x"), ("size", "2")],
                "Invalid consumer parameter",
            ),
            (
                &[("category", "a"), ("consumer", "0"), ("size", "y")],
                "Invalid size parameter",
            ),
            (
                &[("category", "a"), ("consumer", "2"), ("size", "2")],
                "Invalid consumer group: member must be < size",
            ),
        ];
        for (pairs, message) in cases {
            assert_eq!(parse(&query(pairs)).unwrap_err(), *message, "{pairs:?}");
        }
    }

    #[test]
    fn consumer_groups_have_two_spellings() {
        for (m, s) in [
            ("consumer", "size"),
            ("consumerGroupMember", "consumerGroupSize"),
        ] {
            let opts = parse(&query(&[
                ("category", "account"),
                (m, "1"),
                (s, "2"),
                ("position", "5"),
            ]))
            .unwrap();
            assert_eq!(opts.position, 5);
            assert_eq!(
                opts.target,
                messagedb::SubscriptionTarget::Category(
                    "account".into(),
                    Some(ConsumerGroup::new(1, 2).unwrap())
                )
            );
        }
    }
}
