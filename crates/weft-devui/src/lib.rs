//! # weft-devui
//!
//! DevUI: a web page to chat with the agents a Weft host serves, embedded in the binary (plain
//! HTML, CSS and JS under `assets/`, no build step, no CDN). [`router`] serves it at `/`; mount
//! it beside the host's routes (`weft serve --ui`, `weft devui`). The page speaks the host's own
//! protocols from the same origin: `GET /v1/models` for the entities, `POST /v1/responses`
//! (streamed) for chat, `/v1/conversations` for conversations, `POST /ag-ui/{entity}` for
//! runs that need approvals, and `/v1/traces` for the trace view (`traces.js`: each run's spans
//! as a waterfall, reached from a "Trace" button under each answer or the "Traces" list).
//! Workflows (`GET /v1/entities`) get a panel beside the chat: their graph drawn as SVG with each
//! executor's state live, the run's events, outputs and checkpoints (resumed with
//! `POST /v1/entities/{name}/checkpoints/{id}/resume`), and their requests for input as forms
//! generated from the answer's JSON schema.
//!
//! Every asset is answered with strict headers: a Content-Security-Policy allowing only this
//! origin's scripts, styles and fetches (no inline script, no `eval`, no framing),
//! `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and
//! `X-Frame-Options: DENY`. The page renders model output, tool calls and tool results as text
//! (its markdown renderer builds DOM nodes with `textContent`; links are http(s) only).

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The Content-Security-Policy of every asset.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// One embedded file: its path under the page and its media type.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

/// The page's files.
const ASSETS: &[Asset] = &[
    Asset { path: "/", content_type: "text/html; charset=utf-8", body: include_str!("../assets/index.html") },
    Asset {
        path: "/devui/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/app.js"),
    },
    Asset {
        path: "/devui/markdown.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/markdown.js"),
    },
    Asset {
        path: "/devui/traces.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/traces.js"),
    },
    Asset {
        path: "/devui/traces.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/traces.css"),
    },
    Asset {
        path: "/devui/graph.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/graph.js"),
    },
    Asset {
        path: "/devui/forms.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/forms.js"),
    },
    Asset {
        path: "/devui/workflow.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/workflow.js"),
    },
    Asset {
        path: "/devui/workflow.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/workflow.css"),
    },
    Asset {
        path: "/devui/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/style.css"),
    },
    Asset {
        path: "/devui/icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../assets/icon.svg"),
    },
];

/// The routes of the page (`/` and `/devui/…`), for any router state. They are not behind the
/// host's token: the page asks for the token and sends it with its API calls.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    ASSETS.iter().fold(Router::new(), |router, asset| {
        let (content_type, body) = (asset.content_type, asset.body);
        router.route(asset.path, get(move || async move { serve(content_type, body) }))
    })
}

/// An asset with the page's headers.
fn serve(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
