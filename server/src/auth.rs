//! Authentication (wire-protocol.md §2.1): the token names a namespace; only its SHA-256 is
//! stored, and verified tokens are remembered by hash for `token::TRUST`, so that a request costs
//! one hash, not a database lookup, while a token revoked by any server (a namespace deleted, a
//! token changed) is refused everywhere once the revocation has returned.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Instant;

use axum::http::HeaderMap;
use messagedb::{DEFAULT_NAMESPACE, ErrorCode, NamespaceOpts, Store, token};
use serde_json::json;

use crate::error::ApiError;

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The namespace the token names.
    pub namespace: String,
    /// A token issued for this request (test mode, no token given): returned in response headers.
    pub issued_token: Option<String>,
}

impl Caller {
    /// Whether the caller holds the `default` namespace's (admin) token.
    pub fn is_admin(&self) -> bool {
        self.namespace == DEFAULT_NAMESPACE
    }

    /// Refuses namespace administration to tenants.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            return Ok(());
        }
        Err(unauthorized(&self.namespace))
    }

    /// The answer to a call that found the caller's own namespace gone (deleted, maybe by another
    /// server, after the token was verified): the token is no longer valid, 403 as for any
    /// unknown namespace (§2.1).
    pub fn checked(&self, e: ApiError) -> ApiError {
        if e.missing_namespace.as_deref() == Some(self.namespace.as_str()) {
            return unauthorized(&self.namespace);
        }
        e
    }

    /// Allows the admin, or a tenant acting on its own namespace.
    pub fn require_admin_or(&self, namespace: &str) -> Result<(), ApiError> {
        if self.is_admin() || self.namespace == namespace {
            return Ok(());
        }
        Err(unauthorized(namespace))
    }
}

fn unauthorized(namespace: &str) -> ApiError {
    ApiError::new(
        ErrorCode::AuthUnauthorized,
        "Token not authorized for namespace",
    )
    .with_details(json!({ "namespace": namespace }))
}

/// Verifies tokens against the store.
pub struct Authenticator {
    store: Store,
    test_mode: bool,
    /// SHA-256 of verified tokens → their namespace, and when the store was asked.
    verified: RwLock<HashMap<String, (String, Instant)>>,
}

impl Authenticator {
    /// An authenticator over a store; `test_mode` relaxes the rules as §2.1 says.
    pub fn new(store: Store, test_mode: bool) -> Self {
        Authenticator {
            store,
            test_mode,
            verified: RwLock::new(HashMap::new()),
        }
    }

    /// Forgets every verified token of a namespace (it was deleted).
    pub fn forget(&self, namespace: &str) {
        self.verified
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (ns, _)| ns != namespace);
    }

    /// Authenticates a request from its `token` query parameter or `Authorization: Bearer`.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        query_token: Option<&str>,
    ) -> Result<Caller, ApiError> {
        let Some(token) = query_token
            .filter(|t| !t.is_empty())
            .or_else(|| bearer(headers))
        else {
            if self.test_mode {
                return self.issue().await;
            }
            return Err(ApiError::new(
                ErrorCode::AuthRequired,
                "Authentication required: pass a token as 'Authorization: Bearer <token>' or ?token=",
            ));
        };
        let namespace = token::parse_token(token).map_err(|e| {
            ApiError::new(ErrorCode::AuthInvalidToken, "Invalid token")
                .with_details(json!({ "error": e.to_string() }))
        })?;
        let hash = token::hash_token(token);
        if let Some((ns, _)) = self
            .verified
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&hash)
            // Trusted only as long as a revocation waits before it returns (token::TRUST).
            .filter(|(_, asked)| asked.elapsed() < token::TRUST)
        {
            return Ok(Caller {
                namespace: ns.clone(),
                issued_token: None,
            });
        }
        // Taken before the store is asked: the answer is trusted from then.
        let asked = Instant::now();
        let accepted = match self.store.verify_token(&namespace, token).await {
            Ok(ok) => ok || self.test_mode,
            Err(messagedb::Error::NamespaceNotFound(_)) if self.test_mode => {
                let opts = NamespaceOpts::default().token(token);
                match self.store.create_namespace(&namespace, opts).await {
                    Ok(_) | Err(messagedb::Error::NamespaceExists(_)) => true,
                    Err(e) => return Err(e.into()),
                }
            }
            Err(messagedb::Error::NamespaceNotFound(_)) => false,
            Err(e) => return Err(e.into()),
        };
        if !accepted {
            self.verified
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&hash);
            return Err(unauthorized(&namespace));
        }
        self.verified
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(hash, (namespace.clone(), asked));
        Ok(Caller {
            namespace,
            issued_token: None,
        })
    }

    /// Test mode, no token: a new namespace for the caller, with its token.
    async fn issue(&self) -> Result<Caller, ApiError> {
        let id = format!("test_{}", uuid::Uuid::now_v7().simple());
        let created = self
            .store
            .create_namespace(
                &id,
                NamespaceOpts::default().description("created for a test-mode client"),
            )
            .await?;
        self.verified
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                token::hash_token(&created.token),
                (id.clone(), Instant::now()),
            );
        Ok(Caller {
            namespace: id,
            issued_token: Some(created.token),
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header; anything else counts as none.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}
