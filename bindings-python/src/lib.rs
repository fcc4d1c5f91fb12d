//! Python bindings of messagedb (PyO3). Not built yet: a placeholder in the workspace layout.
