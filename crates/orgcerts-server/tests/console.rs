//! The web console as the real server serves it: its page and assets next to the API, without a
//! key, with strict security headers, and the API's own answers unchanged.

mod common;

use common::TestServer;

fn root(server: &TestServer) -> String {
    server.base.trim_end_matches("/v1").to_owned()
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_without_a_key_and_with_strict_headers() {
    let server = TestServer::start().await;
    let page = reqwest::get(format!("{}/", root(&server))).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"));
    assert!(headers.contains_key("x-request-id"));
    // No admin key, so no rate-limit bucket either.
    assert!(!headers.contains_key("x-ratelimit-limit-requests"));

    let html = page.text().await.unwrap();
    let start = html.find("/assets/").expect("the page names its assets");
    let prefix = &html[start..start + "/assets/".len() + 16];
    for (name, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let asset = reqwest::get(format!("{}{prefix}/{name}", root(&server)))
            .await
            .unwrap();
        assert_eq!(asset.status().as_u16(), 200, "{name}");
        assert_eq!(asset.headers()["content-type"], content_type);
        assert_eq!(
            asset.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(asset.headers().contains_key("content-security-policy"));
    }
}

#[tokio::test]
async fn unknown_paths_and_other_builds_assets_are_the_apis_json_404() {
    let server = TestServer::start().await;
    for path in [
        "/assets/0000000000000000/app.js",
        "/console/nothing",
        "/v1/organization/nothing",
    ] {
        let reply = TestServer::reply_outside_spec(
            reqwest::get(format!("{}{path}", root(&server)))
                .await
                .unwrap(),
        )
        .await;
        let message = reply.assert_error(404, None, None);
        assert_eq!(message, format!("Invalid URL (GET {path})"));
    }
    let reply = TestServer::reply_outside_spec(
        reqwest::Client::new()
            .post(format!("{}/", root(&server)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_error(405, None, None);
}
