//! `/docs`: the API reference for people, Redoc rendering `/openapi.json`
//! from a bundle shipped inside the binary (`assets/redoc`). No
//! authentication, and nothing fetched from another origin.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};

/// The bundle's path names its version: a new Redoc is a new URL, so the
/// script can be kept for a year.
macro_rules! script_path {
    () => {
        "/docs/redoc-2.5.4.standalone.js"
    };
}

/// Where the page loads Redoc from.
pub const SCRIPT_PATH: &str = script_path!();

static SCRIPT: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");

/// Redoc's standalone bundle renders the `<redoc spec-url>` element it
/// finds when it loads, so the page needs no script of its own.
const PAGE: &str = concat!(
    r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Macrotrack API reference</title>
</head>
<body>
<noscript>This page renders <a href="/openapi.json">/openapi.json</a>, the OpenAPI document, with JavaScript.</noscript>
<redoc spec-url="/openapi.json"></redoc>
<script src=""#,
    script_path!(),
    r#""></script>
</body>
</html>
"#
);

/// Only this origin, so the page works offline and tells no one it was
/// read: Redoc's sidebar shows a logo from its CDN, which this blocks (the
/// logo then hides itself). Redoc styles with inline `<style>` elements and
/// runs its search in a worker made from a blob.
const POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; \
    style-src 'unsafe-inline'; font-src 'self' data:; worker-src blob:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The page, under a policy that lets it load nothing from elsewhere.
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")))
        .insert_header((header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)))
        // The page names the script's version: ask again each time.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(PAGE)
}

/// Redoc's bundle, kept by clients for a year (its path names its version).
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .body(SCRIPT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_path_names_the_vendored_version() {
        // What Redoc shows as its version, minified: `" ReDoc Version: ","2.5.4"`.
        let text = String::from_utf8_lossy(SCRIPT);
        let shown = text.split(" ReDoc Version: \",\"").nth(1).and_then(|rest| rest.split('"').next());
        let version = shown.expect("the bundle names its version");
        assert_eq!(SCRIPT_PATH, format!("/docs/redoc-{version}.standalone.js"));
    }

    #[test]
    fn the_page_loads_only_same_origin_urls() {
        let urls: Vec<&str> = PAGE
            .split(['"', '\''])
            .skip(1)
            .step_by(2)
            .filter(|value| value.contains('/') || value.contains(':'))
            .collect();
        assert_eq!(urls, ["/openapi.json", "/openapi.json", SCRIPT_PATH], "{PAGE}");
    }
}
