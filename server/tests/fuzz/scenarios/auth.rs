//! Who a request authenticates as (§2.1): mostly a valid token (the admin's or the tenant's, in
//! the header or the query), else odd credentials around a valid token.

use super::Run;
use crate::common::admin_token;
use crate::names::{pct, token_for};
use crate::requests::{Expect, Req, expect};
use crate::rng::Rng;

/// Who a request authenticates as.
pub struct Auth {
    /// The token in effect when it is a valid one.
    pub token: Option<String>,
    /// What the answer must be when it is not (`None`: anything but a 5xx).
    pub expect: Option<Expect>,
    pub tag: String,
}

impl Auth {
    pub fn valid(token: &str, tag: &str) -> Auth {
        Auth {
            token: Some(token.to_string()),
            expect: None,
            tag: tag.to_string(),
        }
    }
}

/// Puts a token in the `Authorization` header or in the query.
pub fn present(token: &str, in_query: bool, query: &mut Vec<String>, req: &mut Req) {
    if in_query {
        query.push(format!("token={token}"));
    } else {
        req.header("Authorization", format!("Bearer {token}"));
    }
}

/// One odd credential: an `Authorization` header value, or a query parameter.
enum Cred {
    Header(Vec<u8>),
    Query(String),
}

fn h(value: impl Into<Vec<u8>>) -> Cred {
    Cred::Header(value.into())
}

fn q(param: impl Into<String>) -> Cred {
    Cred::Query(param.into())
}

/// What odd credentials must get.
enum Want {
    /// The valid token is in effect after all.
    Valid,
    /// This answer (`None`: anything but a 5xx).
    Answer(Option<Expect>),
}

/// Odd credential `case` (of 26) around the valid token `t`. Variants that a lenient server
/// could take for `t` only ever carry `t`, so that they never reach another namespace.
fn odd_credentials(case: usize, t: &str, rng: &mut Rng) -> (Vec<Cred>, Want, &'static str) {
    let required = Want::Answer(expect(401, "AUTH_REQUIRED"));
    let invalid = Want::Answer(expect(401, "AUTH_INVALID_TOKEN"));
    let unauthorized = Want::Answer(expect(403, "AUTH_UNAUTHORIZED"));
    let any = Want::Answer(None);
    let bearer = format!("Bearer {t}");
    let zeros = "0".repeat(64);
    match case {
        0 => (vec![], required, "no token"),
        1 => (vec![h("Bearer")], required, "Authorization: Bearer"),
        2 => (
            vec![h("Bearer    ")],
            required,
            "Authorization: Bearer + spaces",
        ),
        3 => (
            vec![h("Basic dXNlcjpwYXNz")],
            required,
            "Authorization: Basic",
        ),
        4 => (
            vec![h(format!("bearer {t}"))],
            any,
            "Authorization: bearer (lowercase)",
        ),
        5 => (vec![h("Bearer garbage")], invalid, "Bearer garbage"),
        6 => (
            vec![h(format!("Bearer ns_ZGVmYXVsdA_{}", "0".repeat(63)))],
            invalid,
            "Bearer token with 63 hex",
        ),
        7 => (
            vec![h(format!("Bearer ns_ZGVmYXVsdA_{}", "g".repeat(64)))],
            invalid,
            "Bearer token not hex",
        ),
        8 => (
            vec![h(format!("Bearer ns_!!!_{zeros}"))],
            invalid,
            "Bearer token bad base64",
        ),
        9 => (
            vec![h(format!("Bearer ns__{zeros}"))],
            invalid,
            "Bearer token empty namespace",
        ),
        // Well-formed and known to `messagedb serve` in other tests, but not this server's.
        10 => (
            vec![h(format!("Bearer {}", admin_token()))],
            unauthorized,
            "Bearer well-known test token",
        ),
        11 => (
            vec![h(format!("Bearer {}", token_for("nobody_here", rng)))],
            unauthorized,
            "Bearer token of an unknown namespace",
        ),
        12 => (
            vec![h(format!("Bearer ns_{}", "A".repeat(10_000)))],
            invalid,
            "Bearer 10 KB token",
        ),
        13 => (
            vec![h([bearer.as_bytes(), b"\xff\xfe"].concat())],
            any,
            "Bearer token + non-UTF-8 bytes",
        ),
        14 => (
            vec![h("Bearer garbage"), h(bearer)],
            any,
            "two Authorization headers",
        ),
        15 => (vec![q("token=")], any, "?token= (empty)"),
        // Neither parses: 401 AUTH_INVALID_TOKEN or a JSON 400 both fit §2.1.
        16 => (vec![q("token=a"), q("token=b")], any, "?token=a&token=b"),
        17 => (
            vec![q(format!("token={t}")), q(format!("token={t}"))],
            any,
            "?token=ADMIN&token=ADMIN",
        ),
        18 => (vec![q("token=%FF%FE")], invalid, "?token=%FF%FE"),
        19 => (
            vec![q("token=garbage"), h(bearer)],
            invalid,
            "?token=garbage + valid Bearer (query first)",
        ),
        20 => (
            vec![q(format!("token={t}")), h("Bearer garbage")],
            Want::Valid,
            "?token=ADMIN + Bearer garbage",
        ),
        21 => (vec![q(format!("tok%65n={t}"))], any, "?tok%65n=ADMIN"),
        22 => (vec![q("token")], any, "?token (no value)"),
        23 => (vec![q(format!("token={t}%00"))], invalid, "?token=ADMIN%00"),
        24 => (
            vec![h(format!("{bearer} extra"))],
            invalid,
            "Bearer ADMIN extra",
        ),
        _ => (
            vec![q(format!("token={}", pct(&format!("{t}\u{0}")))), h(bearer)],
            invalid,
            "?token=ADMIN\\0 + valid Bearer",
        ),
    }
}

impl Run {
    /// Mostly a valid token, else odd credentials around the admin's.
    pub(super) fn auth(&mut self, query: &mut Vec<String>, req: &mut Req) -> Auth {
        let (token, in_query, tag) = match self.rng.below(100) {
            0..=54 => (self.admin.clone(), false, "admin"),
            55..=64 => (self.admin.clone(), true, "admin?token"),
            65..=79 => (self.tenant.clone(), false, "tenant"),
            80..=84 => (self.tenant.clone(), true, "tenant?token"),
            _ => {
                let admin = self.admin.clone();
                return self.odd_auth(&admin, query, req);
            }
        };
        present(&token, in_query, query, req);
        Auth::valid(&token, tag)
    }

    /// Odd authentication (§2.1) around the token `valid`: missing, malformed, unknown, in odd
    /// places.
    pub(super) fn odd_auth(&mut self, valid: &str, query: &mut Vec<String>, req: &mut Req) -> Auth {
        let case = self.rng.below(26);
        let (credentials, want, tag) = odd_credentials(case, valid, &mut self.rng);
        for credential in credentials {
            match credential {
                Cred::Header(value) => req.header("Authorization", value),
                Cred::Query(param) => query.push(param),
            }
        }
        match want {
            Want::Valid => Auth::valid(valid, tag),
            Want::Answer(expect) => Auth {
                token: None,
                expect,
                tag: tag.to_string(),
            },
        }
    }
}
