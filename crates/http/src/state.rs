//! What every handler is given: the service, the two settings that decide
//! which operator routes exist, and the bounds requests are held to. Its own file so that handlers reach
//! it without importing the crate root, which imports them.

use std::sync::Arc;

use macrotrack_ports::CacheStore;
use macrotrack_service::Service;

use crate::limits::Bounds;

/// The service as the delivery sees it: the cache store is chosen at run
/// time (in-process or Redis), and the repositories are ports too, so tests
/// build it over mocks of both (`macrotrack-ports`' `mocks` feature) and
/// drive the handlers against them.
pub type AppService = Service<Arc<dyn CacheStore>>;

/// Renders the metrics exposition text (`/metrics`), so the delivery does
/// not depend on the recorder the server installs.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// Everything the handlers need. Cheap to clone (one per worker).
#[derive(Clone)]
pub struct HttpState {
    /// Every use case the handlers call.
    pub service: AppService,
    /// `None`: every admin route answers 404.
    pub admin_token: Option<String>,
    /// `None`: `/metrics` answers 404.
    pub metrics: Option<MetricsRender>,
    /// Rate limits and the body deadline.
    pub bounds: Bounds,
}

impl HttpState {
    /// The state of a server with no admin routes and no `/metrics`: what
    /// tests of the public API need.
    pub fn new(service: AppService) -> Self {
        HttpState { service, admin_token: None, metrics: None, bounds: Bounds::default() }
    }
}
