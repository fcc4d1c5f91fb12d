//! `NativeStore`: opening a store and administering namespaces.

use messagedb::{JsonObject, NamespaceOpts, Store, format_time};
use napi_derive::napi;
use serde_json::json;

use crate::namespace::NativeNamespace;
use crate::{to_js_error, to_json};

/// A message store (wrapped by the facade's `MessageStore`).
#[napi]
pub struct NativeStore {
    store: Store,
}

/// Options of `createNamespace`.
#[napi(object)]
pub struct CreateNamespaceOptions {
    /// Free text.
    pub description: Option<String>,
    /// The namespace's token (generated when absent).
    pub token: Option<String>,
    /// JSON text of an object.
    pub metadata_json: Option<String>,
}

#[napi]
impl NativeStore {
    /// Opens `:memory:`, a directory, `sqlite://…` or `postgres://…`.
    #[napi(factory)]
    pub async fn open(url: String) -> napi::Result<NativeStore> {
        let store = Store::open(&url).await.map_err(to_js_error)?;
        Ok(NativeStore { store })
    }

    /// `"sqlite"` or `"postgres"`.
    #[napi(getter)]
    pub fn backend(&self) -> String {
        self.store.backend_kind().to_string()
    }

    /// A namespace's messages.
    #[napi]
    pub fn namespace(&self, id: String) -> NativeNamespace {
        NativeNamespace::new(self.store.namespace(&id))
    }

    /// Creates a namespace; JSON `{namespace, token, createdAt}`.
    #[napi]
    pub async fn create_namespace(
        &self,
        id: String,
        options: Option<CreateNamespaceOptions>,
    ) -> napi::Result<String> {
        let mut opts = NamespaceOpts::default();
        if let Some(o) = options {
            opts.description = o.description;
            opts.token = o.token;
            opts.metadata = o
                .metadata_json
                .map(|m| JsonObject::from_json(&m, "options.metadata"))
                .transpose()
                .map_err(to_js_error)?;
        }
        let c = self
            .store
            .create_namespace(&id, opts)
            .await
            .map_err(to_js_error)?;
        to_json(
            &json!({"namespace": c.namespace, "token": c.token, "createdAt": format_time(c.created_at)}),
        )
    }

    /// Deletes a namespace; JSON `{namespace, deletedAt, messagesDeleted}`.
    #[napi]
    pub async fn delete_namespace(&self, id: String) -> napi::Result<String> {
        let d = self
            .store
            .delete_namespace(&id)
            .await
            .map_err(to_js_error)?;
        to_json(&json!({
            "namespace": d.namespace,
            "deletedAt": format_time(d.deleted_at),
            "messagesDeleted": d.messages_deleted,
        }))
    }

    /// Every namespace, newest first; JSON.
    #[napi]
    pub async fn list_namespaces(&self) -> napi::Result<String> {
        let list = self.store.list_namespaces().await.map_err(to_js_error)?;
        let out: Vec<_> = list
            .iter()
            .map(|n| {
                json!({
                    "namespace": n.namespace,
                    "description": n.description,
                    "createdAt": format_time(n.created_at),
                    "messageCount": n.message_count,
                })
            })
            .collect();
        to_json(&out)
    }

    /// A namespace's details; JSON.
    #[napi]
    pub async fn namespace_info(&self, id: String) -> napi::Result<String> {
        let i = self.store.namespace_info(&id).await.map_err(to_js_error)?;
        to_json(&json!({
            "namespace": i.namespace,
            "description": i.description,
            "createdAt": format_time(i.created_at),
            "messageCount": i.message_count,
            "streamCount": i.stream_count,
            "lastActivity": i.last_activity.map(format_time),
            "metadata": i.metadata.map(|m| m.to_value()),
        }))
    }

    /// Closes the store: subscriptions end, later calls fail with `CLOSED`.
    #[napi]
    pub async fn close(&self) {
        self.store.close().await;
    }
}
