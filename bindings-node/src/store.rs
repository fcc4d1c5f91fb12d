//! `NativeStore`: opening a store and administering namespaces.

use messagedb::{JsonObject, NamespaceOpts, Store};
use napi_derive::napi;

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
        to_json(
            &self
                .store
                .create_namespace(&id, opts)
                .await
                .map_err(to_js_error)?,
        )
    }

    /// Deletes a namespace; JSON `{namespace, deletedAt, messagesDeleted}`.
    #[napi]
    pub async fn delete_namespace(&self, id: String) -> napi::Result<String> {
        to_json(
            &self
                .store
                .delete_namespace(&id)
                .await
                .map_err(to_js_error)?,
        )
    }

    /// Every namespace, newest first; JSON.
    #[napi]
    pub async fn list_namespaces(&self) -> napi::Result<String> {
        to_json(&self.store.list_namespaces().await.map_err(to_js_error)?)
    }

    /// A namespace's details; JSON.
    #[napi]
    pub async fn namespace_info(&self, id: String) -> napi::Result<String> {
        let info = self.store.namespace_info(&id).await.map_err(to_js_error)?;
        // The wire form, plus the metadata given at creation (the package returns it).
        let mut out =
            serde_json::to_value(&info).map_err(|e| napi::Error::from_reason(e.to_string()))?;
        out["metadata"] = info
            .metadata
            .map_or(serde_json::Value::Null, |m| m.to_value());
        to_json(&out)
    }

    /// Closes the store: subscriptions end, later calls fail with `CLOSED`.
    #[napi]
    pub async fn close(&self) {
        self.store.close().await;
    }
}
