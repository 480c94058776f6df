//! `/docs`, the API reference for people: served from the binary with its
//! headers, and, opened in headless Chromium, rendering every operation of
//! `/openapi.json` while nothing but the page's own origin is loaded, its
//! navigation in the order a user meets the API.

mod common;
mod process;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use macrotrack_testkit::{skip_or_fail, unique_name};
use process::send;
use serde_json::Value;

/// Runs a test body against a server built by `build()` on a real port.
async fn with_server(test: impl FnOnce(u16) + Send + 'static) {
    let (settings, dir) = common::sqlite_settings();
    let application = macrotrack::build(settings).await.unwrap();
    let port = application.port();
    let handle = application.handle();
    let server = actix_web::rt::spawn(application.run_until_stopped());
    let outcome = actix_web::rt::task::spawn_blocking(move || test(port)).await;
    handle.stop(true).await;
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(dir);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

/// The script the page loads, read from the page.
fn script_path(page: &str) -> &str {
    let start = page.find("<script src=\"").expect("the page loads a script") + "<script src=\"".len();
    &page[start..start + page[start..].find('"').unwrap()]
}

#[actix_web::test]
async fn the_page_and_its_script_are_public_and_say_how_to_keep_them() {
    with_server(|port| {
        let page = send(port, "GET", "/docs", None, None);
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(page.header("cache-control"), Some("no-cache"));
        let policy = page.header("content-security-policy").expect("a content security policy");
        assert!(policy.starts_with("default-src 'none'; script-src 'self'; connect-src 'self';"), "{policy}");
        assert!(page.text.contains("<redoc spec-url=\"/openapi.json\">"), "{}", page.text);

        let path = script_path(&page.text);
        assert!(path.starts_with("/docs/redoc-") && path.ends_with(".standalone.js"), "{path}");
        let script = send(port, "GET", path, None, None);
        assert_eq!(script.status, 200);
        assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
        assert_eq!(script.header("cache-control"), Some("public, max-age=31536000, immutable"));
        assert!(script.text.len() > 500_000 && script.text.contains("ReDoc Version"), "{}", script.text.len());
        let head = send(port, "HEAD", path, None, None);
        assert_eq!((head.status, head.text.as_str()), (200, ""));
        assert_eq!(head.header("content-length").map(str::parse::<usize>), Some(Ok(script.text.len())));
        // Another version is not served: the path is the version.
        assert_eq!(send(port, "GET", "/docs/redoc-0.0.0.standalone.js", None, None).status, 404);
    })
    .await;
}

/// Runs `chromium` with `args`, killed after `limit`; `None` (after
/// `skip_or_fail`) when it is not installed.
fn chromium(args: &[String], limit: Duration) -> Option<Output> {
    let spawned =
        Command::new("chromium").args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            skip_or_fail("chromium (Debian package chromium)", error);
            return None;
        }
    };
    // Read both pipes while it runs: a full pipe would stall it.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || read_all(&mut stdout));
    let err = std::thread::spawn(move || read_all(&mut stderr));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {limit:?}: {}", String::from_utf8_lossy(&err.join().unwrap()));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Some(Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() })
}

fn read_all(pipe: &mut impl Read) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = pipe.read_to_end(&mut bytes);
    bytes
}

/// What the browser refused under the page's policy: the URL of each
/// violation Chromium logged.
fn refused(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.contains("violates the following Content Security Policy"))
        .map(|line| line.split('\'').nth(1).unwrap_or(line))
        .collect()
}

#[actix_web::test]
async fn chromium_shows_every_operation_of_the_document() {
    with_server(|port| {
        let document: Value = send(port, "GET", "/openapi.json", None, None).ok(200);
        let profile = std::env::temp_dir().join(unique_name("macrotrack_chromium"));
        // Virtual time: the page's timers run at once, and the DOM is dumped
        // when it is idle or 10 virtual seconds have passed.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.display()), format!("http://127.0.0.1:{port}/docs")])
        .collect::<Vec<_>>();
        let output = chromium(&args, Duration::from_secs(90));
        remove(&profile);
        let Some(output) = output else { return };
        let dom = String::from_utf8_lossy(&output.stdout);
        let log = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "chromium failed: {log}");

        // Redoc writes each operation's URL as `<span>{server}</span>{path}`:
        // one per method on the path.
        let mut operations = 0;
        for (path, item) in document["paths"].as_object().expect("paths") {
            let methods = item.as_object().unwrap().len();
            let shown = dom.matches(&format!("</span>{path}</div>")).count();
            assert_eq!(shown, methods, "{path}: {methods} operations, {shown} shown\n{log}");
            operations += methods;
        }
        assert!(operations > 30, "{operations}");
        navigation_is_in_the_references_order(&dom, &document, operations);
        // Everything the page needs is allowed; the one thing refused is the
        // logo Redoc's sidebar would load from its CDN.
        let refused = refused(&log);
        assert!(refused.iter().all(|url| url.ends_with("/redoc/logo-mini.svg")), "{refused:?}");
    })
    .await;
}

/// The `data-item-id` of each entry of Redoc's navigation, in order:
/// `section/<heading>`, `tag/<name>` and `tag/<name>/operation/<id>`.
fn navigation(dom: &str) -> Vec<&str> {
    dom.split("role=\"menuitem\"")
        .filter_map(|before| before.rsplit_once("data-item-id=\"").map(|(_, id)| id))
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

/// The introduction's sections, then the tags as a user meets them; each
/// operation under its tag, once; no `HEAD` and none of the page's own routes.
fn navigation_is_in_the_references_order(dom: &str, document: &Value, operations: usize) {
    let items = navigation(dom);
    let headings: Vec<&str> = items.iter().copied().filter(|id| !id.contains("/operation/")).collect();
    assert_eq!(
        headings,
        [
            "section/Authentication",
            "section/Errors",
            "section/Caching",
            "section/Idempotency",
            "section/HEAD",
            "tag/Logs",
            "tag/Days",
            "tag/Foods",
            "tag/Recipes",
            "tag/Meal-plans",
            "tag/Me",
            "tag/Admin",
            "tag/Operations",
        ]
    );
    // Each operation's tag, as Redoc names it in the navigation.
    let mut tag_of = std::collections::BTreeMap::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let tag = operation["tags"][0].as_str().expect("a tag").replace(' ', "-");
            tag_of.insert(operation["operationId"].as_str().unwrap().to_owned(), tag);
        }
    }
    let mut current = "";
    let mut listed = Vec::new();
    for item in items {
        match item.split_once("/operation/") {
            None => current = item,
            Some((tag, id)) => {
                assert_eq!(tag, current, "{item} is not under its tag");
                assert_eq!(Some(&tag["tag/".len()..]), tag_of.get(id).map(String::as_str), "{item}");
                listed.push(id);
            }
        }
    }
    listed.sort_unstable();
    listed.dedup();
    assert_eq!(listed.len(), operations, "each operation once: {listed:?}");
    assert!(!dom.contains("operation-type head"), "a HEAD operation is listed");
    for page in ["/docs", "/docs/redoc-"] {
        assert!(!dom.contains(&format!("</span>{page}")), "{page} is listed");
    }
}

fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
