//! A route table: every JSON route is registered through it, so the list of routes the router
//! serves can be compared with the OpenAPI document (see `tests/api/openapi.rs`).

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::state::WebState;

/// One method on one path.
pub(crate) struct Route {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    /// Takes an uploaded file rather than a JSON body (so a larger body limit applies).
    pub(crate) upload: bool,
    handler: MethodRouter<WebState>,
}

impl Route {
    fn new<H, T>(method: Method, filter: MethodFilter, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, WebState>,
        T: 'static,
    {
        Self {
            method,
            path,
            upload: false,
            handler: on(filter, handler),
        }
    }

    /// Marks a route that takes an uploaded file.
    pub(crate) fn upload(mut self) -> Self {
        self.upload = true;
        self
    }

    pub(crate) fn get<H: Handler<T, WebState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::GET, MethodFilter::GET, path, h)
    }

    pub(crate) fn post<H: Handler<T, WebState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::POST, MethodFilter::POST, path, h)
    }

    pub(crate) fn put<H: Handler<T, WebState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::PUT, MethodFilter::PUT, path, h)
    }

    pub(crate) fn patch<H: Handler<T, WebState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::PATCH, MethodFilter::PATCH, path, h)
    }

    pub(crate) fn delete<H: Handler<T, WebState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::DELETE, MethodFilter::DELETE, path, h)
    }
}

/// Registers every route; methods on the same path are merged by axum.
pub(crate) fn build(routes: Vec<Route>) -> Router<WebState> {
    routes
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
}
