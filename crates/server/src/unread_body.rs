//! `Connection: close` on every answer that leaves part of the request body unread.
//!
//! Refusals are often answered before the body is read: 413 by the declared length, 415 by
//! the type, 401, 404 and 405 before any handler reads. hyper then closes the connection
//! instead of reading on, but does not say so, and a client that keeps the connection for its
//! next request fails with a broken pipe. Saying `Connection: close` lets it open a new one.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// Middleware for any router a node serves: answers that leave the body unread say
/// `Connection: close`.
pub async fn close_when_body_unread(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let (body, watch) = watch(body);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    watch.close_if_unread(&mut response);
    response
}

/// Whether the request's body was read to its end, seen after the answer.
struct BodyWatch(Option<Arc<AtomicBool>>);

/// Wraps a request's body so that [`BodyWatch::close_if_unread`] can tell whether the
/// handler read all of it. A request without a body needs no watching.
fn watch(body: Body) -> (Body, BodyWatch) {
    if http_body::Body::is_end_stream(&body) {
        return (body, BodyWatch(None));
    }
    let finished = Arc::new(AtomicBool::new(false));
    let watched = Watched {
        inner: body,
        finished: finished.clone(),
    };
    (Body::new(watched), BodyWatch(Some(finished)))
}

impl BodyWatch {
    fn close_if_unread(&self, response: &mut Response) {
        if self
            .0
            .as_ref()
            .is_some_and(|finished| !finished.load(Ordering::Acquire))
        {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
}

struct Watched {
    inner: Body,
    finished: Arc<AtomicBool>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let ended = matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream();
        if ended {
            self.finished.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_an_answer_that_left_body_unread_closes() {
        let answer = |watch: &BodyWatch| {
            let mut response = Response::new(Body::empty());
            watch.close_if_unread(&mut response);
            response.headers().get(header::CONNECTION).cloned()
        };
        let (_, none) = watch(Body::empty());
        assert_eq!(answer(&none), None, "no body, nothing to read");

        let (body, read) = watch(Body::from("{\"a\":1}"));
        axum::body::to_bytes(body, 1024).await.unwrap();
        assert_eq!(answer(&read), None);

        let (_unread, unread) = watch(Body::from("{\"a\":1}"));
        assert_eq!(answer(&unread), Some(HeaderValue::from_static("close")));
    }
}
