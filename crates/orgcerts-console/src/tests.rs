use super::*;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

fn folder(dir: &str) -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    std::fs::read_dir(path)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn every_file_of_the_assets_folder_is_embedded_and_only_those() {
    let embedded: BTreeSet<String> = ASSETS.iter().map(|a| a.name.to_owned()).collect();
    assert_eq!(embedded, folder("web/assets"));
}

#[test]
fn the_page_names_this_builds_assets_and_has_no_inline_script_or_style() {
    let page = INDEX.as_str();
    assert!(!page.contains("{{assets}}"));
    assert!(page.contains(&format!("{}/app.js", assets_prefix())));
    for forbidden in [
        "<script>",
        "style=",
        " onload=",
        " onclick=",
        "<style",
        "http://",
        "https://",
    ] {
        assert!(!page.contains(forbidden), "index.html contains {forbidden}");
    }
    // Nothing is loaded from another origin (the SVG namespace is a name, not a request), and
    // no value becomes markup.
    for asset in ASSETS {
        let body = asset.body.replace("\"http://www.w3.org/2000/svg\"", "");
        for forbidden in [
            "http://",
            "https://",
            "innerHTML",
            "outerHTML",
            "eval(",
            "style=",
        ] {
            assert!(
                !body.contains(forbidden),
                "{} contains {forbidden}",
                asset.name
            );
        }
    }
}

#[test]
fn the_fingerprint_is_16_hex_digits() {
    assert_eq!(FINGERPRINT.len(), 16);
    assert!(FINGERPRINT.bytes().all(|b| b.is_ascii_hexdigit()));
}

async fn get(path: &str) -> axum::response::Response {
    let app: Router = router();
    app.oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn assets_are_immutable_and_the_page_is_never_stored() {
    let page = get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        page.headers()[header::CONTENT_SECURITY_POLICY],
        CONTENT_SECURITY_POLICY
    );
    let css = get(&format!("{}/app.css", assets_prefix())).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()[header::CACHE_CONTROL], IMMUTABLE);
    assert_eq!(
        css.headers()[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
    assert_eq!(css.headers()[header::X_FRAME_OPTIONS], "DENY");
}
