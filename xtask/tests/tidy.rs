//! Tidy tests: the structure of the workspace, enforced (after
//! rust-analyzer's tidy). Dependencies point inward only; adapters are
//! wired by the server alone; the HTTP layer never sees a database or Redis
//! client; the domain has no I/O or async; test helpers stay in tests; no
//! crate but cache-keys formats a cache key; no files import each other in
//! circles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[path = "tidy/file_graph.rs"]
mod file_graph;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The workspace's packages, as `cargo metadata` describes them.
fn metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Normal (non-dev, non-build) dependencies of each workspace package.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let metadata = metadata();
    let mut graph = BTreeMap::new();
    for package in metadata["packages"].as_array().unwrap() {
        let deps = package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|dep| dep["kind"].is_null())
            .map(|dep| dep["name"].as_str().unwrap().to_owned())
            .collect();
        graph.insert(package["name"].as_str().unwrap().to_owned(), deps);
    }
    graph
}

/// Which workspace crates each crate may depend on, and which external
/// crates it must not. Every workspace crate must be listed.
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    ("macrotrack-domain", &[], &["tokio", "async-trait", "futures", "sea-orm", "fred", "actix-web", "anyhow"]),
    ("macrotrack-ports", &["macrotrack-domain"], &["tokio", "sea-orm", "fred", "actix-web"]),
    ("macrotrack-cache-keys", &["macrotrack-domain"], &["tokio", "sea-orm", "fred", "actix-web"]),
    (
        "macrotrack-cache",
        &["macrotrack-domain", "macrotrack-ports", "macrotrack-cache-keys"],
        &["sea-orm", "fred", "actix-web"],
    ),
    (
        "macrotrack-service",
        &["macrotrack-domain", "macrotrack-ports", "macrotrack-cache-keys", "macrotrack-cache"],
        &["sea-orm", "fred", "actix-web"],
    ),
    ("macrotrack-migrations", &[], &["fred", "actix-web"]),
    ("macrotrack-redact", &[], &["tokio", "sea-orm", "fred", "actix-web"]),
    // Reads files only: no database, cache or async runtime.
    ("macrotrack-food-sources", &["macrotrack-domain"], &["tokio", "sea-orm", "fred", "actix-web"]),
    (
        "macrotrack-db-seaorm",
        &["macrotrack-domain", "macrotrack-ports", "macrotrack-migrations", "macrotrack-redact"],
        &["fred", "actix-web"],
    ),
    (
        "macrotrack-cache-fred",
        &["macrotrack-domain", "macrotrack-ports", "macrotrack-redact"],
        &["sea-orm", "actix-web"],
    ),
    (
        "macrotrack-http",
        &["macrotrack-domain", "macrotrack-ports", "macrotrack-service"],
        &["sea-orm", "sea-orm-migration", "fred", "sqlx"],
    ),
    (
        "macrotrack",
        &[
            "macrotrack-domain",
            "macrotrack-ports",
            "macrotrack-cache-keys",
            "macrotrack-cache",
            "macrotrack-service",
            "macrotrack-db-seaorm",
            "macrotrack-cache-fred",
            "macrotrack-http",
            "macrotrack-migrations",
            "macrotrack-redact",
            // The readers `foods import` hands to the service: an adapter of files.
            "macrotrack-food-sources",
        ],
        &[],
    ),
    ("macrotrack-testkit", &[], &[]),
    (
        "xtask",
        &["macrotrack-domain", "macrotrack-ports", "macrotrack-cache-keys", "macrotrack-cache", "macrotrack-service"],
        &["sea-orm", "fred", "actix-web"],
    ),
];

fn violations(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let rules: BTreeMap<&str, (&[&str], &[&str])> =
        LAYERS.iter().map(|(name, inner, banned)| (*name, (*inner, *banned))).collect();
    let mut found = Vec::new();
    for (package, deps) in graph {
        let Some((allowed, banned)) = rules.get(package.as_str()) else {
            found.push(format!("{package} has no layer rule in tidy.rs: add it"));
            continue;
        };
        for dep in deps {
            let internal = graph.contains_key(dep);
            if internal && !allowed.contains(&dep.as_str()) {
                found.push(format!("{package} must not depend on {dep} (dependencies point inward only)"));
            }
            if banned.contains(&dep.as_str()) {
                found.push(format!("{package} must not depend on {dep}"));
            }
        }
    }
    found
}

#[test]
fn dependencies_point_inward() {
    let found = violations(&dependencies());
    assert!(found.is_empty(), "layering violations:\n{}", found.join("\n"));
}

#[test]
fn the_checker_catches_forbidden_edges() {
    let mut graph = dependencies();
    graph.get_mut("macrotrack-http").unwrap().insert("sea-orm".into());
    graph.get_mut("macrotrack-domain").unwrap().insert("tokio".into());
    graph.get_mut("macrotrack-service").unwrap().insert("macrotrack-db-seaorm".into());
    let found = violations(&graph);
    assert_eq!(found.len(), 3, "{found:#?}");
}

/// Crates that exist for tests only: none may reach the release binary.
const TEST_ONLY: [&str; 4] = ["mockall", "macrotrack-testkit", "proptest", "criterion"];

#[test]
fn test_helpers_stay_out_of_the_binary() {
    // `cargo tree` resolves features as a build of the binary does, so a
    // dev-dependency's feature (ports' `mocks`) does not leak in here.
    let output = Command::new(env!("CARGO"))
        .args(["tree", "-p", "macrotrack", "-e", "normal,build", "--prefix", "none", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: BTreeSet<&str> = tree.lines().filter_map(|line| line.split_whitespace().next()).collect();
    assert!(crates.contains("macrotrack-ports"), "the tree was read: {}", crates.len());
    let found: Vec<&str> = TEST_ONLY.into_iter().filter(|name| crates.contains(name)).collect();
    assert!(found.is_empty(), "test-only crates in the binary: {found:?}");
}

/// Features that exist for tests only: ports' mocks, the service's fault
/// hooks (a broken matrix, a skipped invalidation).
const TEST_ONLY_FEATURES: [(&str, &str); 2] = [("macrotrack-ports", "mocks"), ("macrotrack-service", "faults")];

#[test]
fn test_features_stay_out_of_the_binary() {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "-p", "macrotrack", "-e", "normal,build,features", "--prefix", "none", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(tree.contains("macrotrack-service feature \"default\""), "the features were read");
    for (krate, feature) in TEST_ONLY_FEATURES {
        let line = format!("{krate} feature \"{feature}\"");
        assert!(!tree.contains(&line), "a test-only feature in the binary: {line}");
    }
}

fn tracked_files() -> Vec<PathBuf> {
    let output = Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard"])
        .current_dir(workspace_root())
        .output();
    match output {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| workspace_root().join(line))
            .filter(|p| p.exists())
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn rust_files_stay_small() {
    const LIMIT: usize = 800;
    let long: Vec<String> = tracked_files()
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .filter_map(|path| {
            let lines = std::fs::read_to_string(&path).ok()?.lines().count();
            (lines > LIMIT)
                .then(|| format!("{} has {lines} lines (> {LIMIT}): it probably holds two ideas", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "{}", long.join("\n"));
}

#[test]
fn no_machine_paths_in_the_repo() {
    // Assembled so this file does not match itself.
    let needles = [["/ro", "ot/"].concat(), ["/ho", "me/"].concat(), ["/wo", "rk/"].concat()];
    let hits: Vec<String> = tracked_files()
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            needles.iter().any(|needle| text.contains(needle.as_str())).then(|| path.display().to_string())
        })
        .collect();
    assert!(hits.is_empty(), "machine paths found in: {}", hits.join(", "));
}

/// What only a cache key holds, as it would be written in a string literal
/// or format string: the `{user:ID}` hash tag (`{{user:` in a format
/// string), a key's namespace, and the suffixes of guards, epochs and
/// leases.
const KEY_SHAPES: [&str; 6] = ["{user:", "{{user:", "\"macro:", ":gen:", ":epoch", ":lease:"];

/// The lines of `source` outside comments and the tests at its end that
/// hold a cache key's shape inside a string literal.
fn key_formatting(source: &str) -> Vec<String> {
    source
        .lines()
        .take_while(|line| line.trim() != "#[cfg(test)]")
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| {
            // The text between the first and the last quote: the literals.
            let (Some(first), Some(last)) = (line.find('"'), line.rfind('"')) else { return false };
            first < last && KEY_SHAPES.iter().any(|shape| line[first..=last].contains(shape))
        })
        .map(|line| line.trim().to_owned())
        .collect()
}

/// Modules compiled only under a `cfg` (the cache's conformance suite,
/// tests) are test support, whose made-up keys exercise a store.
fn gated_modules(src: &Path) -> BTreeSet<PathBuf> {
    let mut gated = BTreeSet::new();
    for root in ["lib.rs", "main.rs"] {
        let Ok(text) = std::fs::read_to_string(src.join(root)) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            let module =
                pair[1].trim().trim_start_matches("pub ").strip_prefix("mod ").and_then(|m| m.strip_suffix(';'));
            if let (true, Some(module)) = (pair[0].trim().starts_with("#[cfg("), module) {
                gated.insert(src.join(format!("{module}.rs")));
            }
        }
    }
    gated
}

#[test]
fn only_cache_keys_formats_a_cache_key() {
    let crates = workspace_root().join("crates");
    let mut found = Vec::new();
    let mut read = 0;
    for path in tracked_files() {
        let Ok(relative) = path.strip_prefix(&crates) else { continue };
        let mut parts = relative.components();
        let (Some(krate), Some(dir)) = (parts.next(), parts.next()) else { continue };
        let src = crates.join(krate).join("src");
        if krate.as_os_str() == "cache-keys" || dir.as_os_str() != "src" || path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        if gated_modules(&src).contains(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        read += 1;
        found.extend(key_formatting(&text).into_iter().map(|line| format!("{}: {line}", path.display())));
    }
    assert!(read > 50, "the sources were read: {read}");
    assert!(found.is_empty(), "cache keys formatted outside crates/cache-keys:\n{}", found.join("\n"));
}

#[test]
fn the_key_checker_catches_a_key_written_by_hand() {
    let source = r#"
//! Every key carries `{user:ID}`: a comment may say so.
fn key(user: i64) -> String {
    format!("macro:{{user:{user}}}:logs")
}
fn guard(scope: &str) -> String {
    let name = "logs";
    format!("{scope}:gen:{name}")
}
fn fine() -> &'static str {
    "user: not a key"
}
#[cfg(test)]
mod tests {
    const KEY: &str = "macro:{user:7}:gen:logs:2026-11-24";
}
"#;
    let found = key_formatting(source);
    assert_eq!(found, [r#"format!("macro:{{user:{user}}}:logs")"#, r#"format!("{scope}:gen:{name}")"#]);
}

/// Each workspace package's directory and crate roots (its library's and
/// binaries' sources, relative to the directory): the files `src/**/*.rs`
/// hang from. Tests, benches and examples are crates of one file or a few.
fn crate_roots() -> Vec<(PathBuf, Vec<String>)> {
    let metadata = metadata();
    let mut crates = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap());
        let directory = manifest.parent().unwrap().to_path_buf();
        let roots = package["targets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|target| {
                target["kind"].as_array().unwrap().iter().any(|kind| ["lib", "bin"].contains(&kind.as_str().unwrap()))
            })
            .map(|target| {
                let source = PathBuf::from(target["src_path"].as_str().unwrap());
                source.strip_prefix(&directory).unwrap().to_string_lossy().into_owned()
            })
            .collect();
        crates.push((directory, roots));
    }
    crates
}

/// The text of every `.rs` file under `directory/src`, by its path
/// relative to `directory`.
fn rust_sources(directory: &Path) -> BTreeMap<String, String> {
    let mut sources = BTreeMap::new();
    let mut pending = vec![directory.join("src")];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(directory).unwrap().to_string_lossy().into_owned();
                sources.insert(relative, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    sources
}

/// The circles of in-memory sources, a crate whose root is `src/lib.rs`.
fn circles_of(sources: &[(&str, &str)]) -> Vec<Vec<String>> {
    let sources = sources.iter().map(|(path, text)| ((*path).to_owned(), (*text).to_owned())).collect();
    file_graph::circles(&file_graph::graph(&sources, &["src/lib.rs".to_owned()]).unwrap())
}

#[test]
fn files_do_not_import_each_other_in_circles() {
    let root = workspace_root();
    let mut found = Vec::new();
    let mut files = 0;
    for (directory, roots) in crate_roots() {
        let graph = file_graph::graph(&rust_sources(&directory), &roots).unwrap();
        files += graph.len();
        let name = directory.strip_prefix(&root).unwrap().display().to_string();
        for circle in file_graph::circles(&graph) {
            found.push(format!("{name}:\n    {}", circle.join("\n    ")));
        }
    }
    assert!(files > 100, "the crates' files were read: {files}");
    assert!(
        found.is_empty(),
        "files that import each other in circles (the shortest circle through each file; see \
         xtask/tests/tidy/file_graph.rs for what counts as an import):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_circle_checker_catches_two_files_importing_each_other() {
    let found = circles_of(&[
        ("src/lib.rs", "mod days;\nmod facts;\n"),
        ("src/facts.rs", "use crate::days::READ;\npub struct Fact;\n"),
        ("src/days.rs", "pub const READ: () = ();\nfn f() -> super::facts::Fact { super::facts::Fact }\n"),
    ]);
    assert_eq!(found, [["src/days.rs -> src/facts.rs -> src/days.rs"]]);
}

#[test]
fn the_circle_checker_follows_a_parent_calling_its_child_and_a_re_export() {
    // The http crate's circle: openapi -> routes/mod.rs -> routes/ops.rs ->
    // openapi, where the middle edge is a parent calling into its child.
    let through_a_parent = circles_of(&[
        ("src/lib.rs", "mod openapi;\nmod routes;\n"),
        ("src/openapi.rs", "pub fn document() { crate::routes::table(); }\n"),
        ("src/routes/mod.rs", "pub mod ops;\npub fn table() { ops::serve(); }\n"),
        ("src/routes/ops.rs", "pub fn serve() { let _ = format!(\"{:?}\", crate::openapi::document()); }\n"),
    ]);
    assert_eq!(through_a_parent, [["src/openapi.rs -> src/routes/mod.rs -> src/routes/ops.rs -> src/openapi.rs"]]);
    // `crate::Problem` is problem.rs's, whatever file re-exports it.
    let through_a_re_export = circles_of(&[
        ("src/lib.rs", "mod observe;\nmod problem;\npub use problem::Problem;\n"),
        (
            "src/observe.rs",
            "pub struct Span;\nimpl From<crate::Problem> for Span { fn from(_: crate::Problem) -> Self { Span } }\n",
        ),
        ("src/problem.rs", "use super::observe::Span;\npub struct Problem(Span);\n"),
    ]);
    assert_eq!(through_a_re_export, [["src/observe.rs -> src/problem.rs -> src/observe.rs"]]);
}

#[test]
fn the_circle_checker_passes_parents_and_children() {
    // A root that declares, re-exports and wires its children, children
    // that use the root's types and each other one way, a module in a
    // folder, tests that see their file with `super::*`: no circle.
    let found = circles_of(&[
        (
            "src/lib.rs",
            "mod days;\nmod facts;\nmod routes;\npub use days::Day;\npub struct Shared;\n\
             pub fn wire() -> days::Day { days::Day(Shared) }\n",
        ),
        ("src/facts.rs", "pub struct Fact(pub crate::Shared);\n"),
        (
            "src/days.rs",
            "use crate::facts::Fact;\nuse super::Shared;\npub struct Day(pub Shared);\n\
             #[cfg(test)]\nmod tests {\n    use super::*;\n    fn f(_: Fact) -> Day { Day(crate::Shared) }\n}\n",
        ),
        ("src/routes/mod.rs", "mod ops;\npub(crate) struct Table;\npub fn all() { ops::healthz(); }\n"),
        ("src/routes/ops.rs", "use super::Table;\npub(super) fn healthz() -> crate::Day { crate::wire() }\n"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}
