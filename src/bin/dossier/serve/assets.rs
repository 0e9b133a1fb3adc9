//! The page and its assets, compiled into the binary: it works offline, and no request
//! path ever reaches the file system.

use super::typed;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

/// `GET /`.
pub async fn index() -> Response {
    typed("text/html; charset=utf-8", INDEX)
}

/// `GET /assets/NAME`: one of the page's own files, by exact name.
pub async fn asset(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "app.js" => typed("text/javascript; charset=utf-8", SCRIPT),
        "app.css" => typed("text/css; charset=utf-8", STYLE),
        _ => super::api::error_response(StatusCode::NOT_FOUND, "not_found", "no such asset", None),
    }
}
