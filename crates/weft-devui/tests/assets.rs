//! The page's routes: every asset with its type and the strict headers, and no inline script.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

async fn get(path: &str) -> axum::response::Response {
    let router: axum::Router = weft_devui::router();
    router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap()
}

async fn body(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn every_asset_is_served_with_its_type_and_strict_headers() {
    for (path, kind) in [
        ("/", "text/html"),
        ("/devui/app.js", "text/javascript"),
        ("/devui/markdown.js", "text/javascript"),
        ("/devui/style.css", "text/css"),
        ("/devui/traces.js", "text/javascript"),
        ("/devui/traces.css", "text/css"),
        ("/devui/workflow.css", "text/css"),
        ("/devui/graph.js", "text/javascript"),
        ("/devui/forms.js", "text/javascript"),
        ("/devui/workflow.js", "text/javascript"),
        ("/devui/icon.svg", "image/svg+xml"),
    ] {
        let response = get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        assert!(headers["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-frame-options"], "DENY");
    }
}

#[tokio::test]
async fn the_page_has_no_inline_script_style_or_handler() {
    let html = body(get("/").await).await;
    for script in html.split("<script").skip(1) {
        let tag = &script[..script.find('>').unwrap()];
        assert!(tag.contains("src=\"/devui/"), "an inline or foreign script: <script{tag}>");
        assert!(script[script.find('>').unwrap() + 1..].starts_with("</script>"), "inline script body");
    }
    assert!(!html.contains("<style"), "inline style");
    let lower = html.to_lowercase();
    for (at, _) in lower.match_indices(" on") {
        let name: String = lower[at + 3..].chars().take_while(char::is_ascii_alphabetic).collect();
        assert!(!lower[at + 3 + name.len()..].starts_with('='), "an inline handler: on{name}=");
    }
    for js in [
        "/devui/app.js",
        "/devui/markdown.js",
        "/devui/traces.js",
        "/devui/graph.js",
        "/devui/forms.js",
        "/devui/workflow.js",
    ] {
        let source = body(get(js).await).await;
        for banned in
            ["innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", "document.write"]
        {
            assert!(!source.contains(banned), "{js} uses {banned}");
        }
    }
}

#[tokio::test]
async fn other_paths_are_not_served() {
    assert_eq!(get("/devui/nothing.js").await.status(), StatusCode::NOT_FOUND);
}
