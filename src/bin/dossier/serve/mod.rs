//! `dossier serve`: the web interface and its JSON API, on this machine only unless told
//! otherwise.
//!
//! - Every request that reads the database runs on tokio's blocking pool with its own
//!   [`CancelToken`] and the server's limits (time, rows): a slow query never holds up
//!   another, and at most [`MAX_RUNNING`] run at once (more wait their turn).
//! - A client that goes away cancels its query: hyper drops the request's future when the
//!   connection closes, and dropping [`CancelOnDrop`] cancels the token.
//! - Read-only unless `--writable`: write statements are refused before they run.
//! - The page and its scripts are compiled into the binary ([`assets`]); no path of the
//!   request ever reaches the file system, and `load` statements are refused.

mod api;
mod assets;

use crate::cli::ServeArgs;
use crate::commands::{Failure, Usage};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dossier::{CancelToken, Db, Error, QueryOptions};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Requests reading the database at once; more wait for a place.
pub const MAX_RUNNING: usize = 32;

/// What every request handler shares.
pub struct Server {
    pub db: Db,
    pub writable: bool,
    pub timeout: Duration,
    pub max_rows: u64,
    running: Semaphore,
    pub stats: Counters,
}

/// Counts of requests, for `GET /api/status` (and the tests that check cancellation).
#[derive(Default)]
pub struct Counters {
    pub started: AtomicU64,
    pub finished: AtomicU64,
    /// Requests whose client went away before the answer.
    pub abandoned: AtomicU64,
    pub failed: AtomicU64,
}

/// `dossier serve`: blocks until the process is stopped.
pub fn run(db: Db, args: &ServeArgs, max_rows: u64) -> Result<(), Failure> {
    if !(args.request_timeout > 0.0 && args.request_timeout.is_finite()) {
        return Err(Failure::Usage(Usage(
            "--request-timeout must be a positive number of seconds".into(),
        )));
    }
    let ip = args.address.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if !ip.is_loopback() {
        errln!(
            "warning: listening on {ip}, not on this machine only: anyone who can reach it can \
             read the database{}",
            if args.writable { " and change it" } else { "" }
        );
    }
    let server = Arc::new(Server {
        db,
        writable: args.writable,
        timeout: Duration::from_secs_f64(args.request_timeout),
        max_rows,
        running: Semaphore::new(MAX_RUNNING),
        stats: Counters::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(MAX_RUNNING + 8)
        .enable_all()
        .build()
        .map_err(|e| Error::io("the server's runtime", e))?;
    runtime.block_on(async move {
        let addr = SocketAddr::new(ip, args.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::io(addr.to_string(), e))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io(addr.to_string(), e))?;
        // The first line names the address: tests (and scripts) started with --port 0 read it.
        outln!(
            "dossier serves {} at http://{local}/ ({}; Ctrl-C stops)",
            server.db.path().display(),
            if server.writable {
                "writable"
            } else {
                "read-only"
            }
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        axum::serve(listener, router(server))
            .await
            .map_err(|e| Error::io("the server", e))
    })?;
    Ok(())
}

/// The routes: the page, its assets, and the API.
pub fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{name}", get(assets::asset))
        .route("/api/language", get(api::language))
        .route("/api/status", get(status))
        .route("/api/query", post(api::query))
        .route("/api/entity/{name}", get(api::entity))
        .route("/api/search", get(api::search))
        .route("/api/graph", get(api::graph))
        .route("/api/timeline", get(api::timeline))
        .fallback(not_found)
        .with_state(server)
}

async fn not_found() -> Response {
    api::error_response(StatusCode::NOT_FOUND, "not_found", "no such page", None)
}

async fn status(State(s): State<Arc<Server>>) -> Response {
    let c = &s.stats;
    Json(serde_json::json!({
        "started": c.started.load(Ordering::SeqCst),
        "finished": c.finished.load(Ordering::SeqCst),
        "abandoned": c.abandoned.load(Ordering::SeqCst),
        "failed": c.failed.load(Ordering::SeqCst),
        "writable": s.writable,
        "timeout_ms": s.timeout.as_millis() as u64,
        "max_rows": s.max_rows,
    }))
    .into_response()
}

/// Cancels its token when dropped before [`CancelOnDrop::disarm`]: the future awaiting
/// the work was dropped, so the client went away.
struct CancelOnDrop {
    token: CancelToken,
    server: Arc<Server>,
    armed: bool,
}

impl CancelOnDrop {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.token.cancel();
            self.server.stats.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Server {
    /// This request's limits, with a fresh cancel token.
    fn options(&self) -> QueryOptions {
        QueryOptions {
            timeout: Some(self.timeout),
            max_rows: Some(self.max_rows),
            // The database's memory budget (`--max-memory`) holds for every request.
            max_memory: None,
            cancel: Some(CancelToken::new()),
        }
    }
}

/// Run `work` on the blocking pool under this request's limits; cancelled if the client
/// goes away first.
pub async fn blocking<T: Send + 'static>(
    server: &Arc<Server>,
    work: impl FnOnce(&Db, &QueryOptions) -> T + Send + 'static,
) -> Result<T, Response> {
    let _place = server.running.acquire().await.map_err(|_| {
        api::error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is stopping",
            None,
        )
    })?;
    server.stats.started.fetch_add(1, Ordering::SeqCst);
    let options = server.options();
    let guard = CancelOnDrop {
        token: options.cancel.clone().unwrap_or_default(),
        server: server.clone(),
        armed: true,
    };
    let s = server.clone();
    // Counted where the work ends, so that an abandoned request counts when its query has
    // really stopped.
    let joined = tokio::task::spawn_blocking(move || {
        let out = work(&s.db, &options);
        s.stats.finished.fetch_add(1, Ordering::SeqCst);
        out
    })
    .await;
    guard.disarm();
    joined.map_err(|e| {
        server.stats.failed.fetch_add(1, Ordering::SeqCst);
        api::error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &format!("the request failed: {e}"),
            None,
        )
    })
}

/// Query-string parameters.
pub type Params = Query<HashMap<String, String>>;

/// A response with a content type.
pub fn typed(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let mut r = Response::new(body.into());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Path segment extractor re-exported for the API module.
pub type Name = Path<String>;
