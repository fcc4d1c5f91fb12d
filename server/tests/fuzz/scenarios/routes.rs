//! The other routes: `/health`, `/version` and `/metrics` with junk around them, methods a route
//! does not serve, and paths no route serves.

use super::Run;
use crate::requests::{Framing, OK, Req, Route, excerpt, expect};

/// A small valid RPC body, sent where a body is not expected.
const BODY: &[u8] = br#"["sys.health"]"#;

impl Run {
    /// `/health`, `/version`, `/metrics`, with junk queries and headers (no auth needed).
    pub async fn plain(&mut self) {
        let (route, path) = self.rng.pick(&[
            (Route::Health, "/health"),
            (Route::Version, "/version"),
            (Route::Metrics, "/metrics"),
        ]);
        let query = self
            .rng
            .pick(&["", "?x=%ZZ", "?token=garbage", "?token=a&token=b", "?&&="]);
        let mut req = Req::new(
            route,
            "GET",
            format!("{path}{query}"),
            format!("GET {path}"),
        );
        if self.rng.percent(30) {
            req.header("Authorization", "Bearer garbage");
        }
        let odd = self.odd_headers(&mut req);
        req.tag = [query.to_string(), odd.unwrap_or_default()]
            .join(" ")
            .trim()
            .to_string();
        req.expect = OK;
        self.send(&req).await;
    }

    /// A method the route does not serve.
    pub async fn wrong_method(&mut self) {
        let (route, path, allowed) = self.rng.pick(&[
            (Route::Rpc, "/rpc", "POST"),
            (Route::Subscribe, "/subscribe?all=true", "GET"),
            (Route::Import, "/import", "POST"),
            (Route::Health, "/health", "GET"),
            (Route::Version, "/version", "GET"),
            (Route::Metrics, "/metrics", "GET"),
        ]);
        let methods: Vec<&'static str> =
            ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
                .into_iter()
                .filter(|m| *m != allowed && !(allowed == "GET" && *m == "HEAD"))
                .collect();
        let method = self.rng.pick(&methods);
        let label_path = path.split('?').next().unwrap_or(path);
        let mut req = Req::new(
            route,
            method,
            path.to_string(),
            format!("{method} {label_path}"),
        );
        req.group = format!("<wrong method> {label_path}");
        req.header("Authorization", format!("Bearer {}", self.admin));
        if method != "GET" && method != "HEAD" && self.rng.percent(50) {
            req.body = BODY.to_vec();
            req.framing = Framing::Exact;
            req.header("Content-Type", "application/json");
            req.tag = "with a body".into();
        }
        if route == Route::Rpc {
            req.expect = expect(405, "INVALID_REQUEST");
        }
        self.send(&req).await;
    }

    /// A path no route serves: 404 NOT_FOUND whatever the method.
    pub async fn unknown_path(&mut self) {
        let long = format!("/{}", "x".repeat(4000));
        let path = self.rng.pick(&[
            "/",
            "/rpc/",
            "/RPC",
            "/rpc/x",
            "//rpc",
            "/subscribe/",
            "/health/x",
            "/versions",
            "/metrics/",
            "/import/x",
            "/nope",
            "/rpc%00",
            "/..",
            "/a/b/c/d/e/f",
            long.as_str(),
            "/index.html",
            "/.env",
            "/rpc;x",
        ]);
        let method = self.rng.pick(&["GET", "POST", "PUT", "DELETE"]);
        let shown = excerpt(path.as_bytes(), 40);
        let mut req = Req::new(
            Route::Unknown,
            method,
            path.to_string(),
            format!("{method} {shown}"),
        );
        req.group = "<unknown path>".into();
        req.tag = shown;
        if self.rng.percent(50) {
            req.header("Authorization", format!("Bearer {}", self.admin));
        }
        if method != "GET" {
            req.body = BODY.to_vec();
            req.framing = Framing::Exact;
        }
        req.expect = expect(404, "NOT_FOUND");
        self.send(&req).await;
    }
}
