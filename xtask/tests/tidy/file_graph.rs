//! Which module files of a crate refer to which, and the circles among
//! them: the graph behind the tidy rule that files do not import each other
//! in circles.
//!
//! Sources are parsed with `syn` rather than scanned by hand: use trees
//! span lines and nest braces, and a path can sit in a type, a pattern or a
//! generic argument; a parser sees them all where a line scanner would
//! guess.
//!
//! The rule. A node is a module file (`src/**/*.rs`). There is an edge
//! from file F to file G when F's code names an item of G's module: by a
//! `use` (of any visibility), or by a path in code or inside a macro's
//! tokens, written `crate::`, `super::`, `self::` or from a child module's
//! name. A path is followed through the names a module imports, so a
//! circle cannot hide behind a re-export: `use crate::Problem`, when the
//! root holds `pub use problem::Problem`, is an edge to `problem.rs` (and
//! to the root). Two kinds of reference are not edges:
//! - `mod child;`: it declares the child, it imports none of its items;
//! - a reference from a file to one of its ancestors (`super::*`, a type
//!   of `lib.rs`): a child module lies inside its parent and sees the
//!   parent's items as a block sees its enclosing scope; this is scope, not
//!   an import. Otherwise every crate root that re-exports its children
//!   would make a circle with each child that uses a shared type.
//!
//! A parent calling into its child (`routes/mod.rs` naming
//! `ops::healthz`) is an edge: down the tree or across it, a file depends
//! on the other. Since edges up the tree are dropped, every circle has at
//! least one edge across it: two files neither of which contains the
//! other, tangled.
//!
//! Test modules (`#[cfg(test)]`) count: a test reaching into another file
//! is as much a dependency as code doing so.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// A module path from the crate root (`["routes", "ops"]`).
type ModulePath = Vec<String>;

/// Module files: a file's path relative to the crate's directory, and what
/// it refers to.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// A module known in a crate: the file it lives in (its own, or its
/// parent's for an inline `mod x { .. }`).
struct Module {
    file: String,
    /// The names its `use` declarations bring in, with the absolute path
    /// each stands for (imports of other crates are left out).
    imports: BTreeMap<String, ModulePath>,
}

/// A crate's modules, found by following `mod` declarations from a root.
#[derive(Default)]
struct Crate {
    modules: BTreeMap<ModulePath, Module>,
    /// Each file's own module path and syntax tree.
    files: BTreeMap<String, (ModulePath, syn::File)>,
}

/// The graph of one crate: `sources` maps each file's path (relative to the
/// crate's directory, `src/...`) to its text; `roots` are its crate roots
/// (`src/lib.rs`, `src/main.rs`). Roots are separate crates: a binary that
/// uses its library does so as an outside crate, which is no edge.
pub fn graph(sources: &BTreeMap<String, String>, roots: &[String]) -> Result<Graph, String> {
    let mut graph = Graph::new();
    for root in roots {
        let krate = discover(sources, root)?;
        for (file, (module, syntax)) in &krate.files {
            let mut visitor = References { krate: &krate, module: module.clone(), found: BTreeSet::new() };
            visitor.visit_file(syntax);
            let targets = visitor
                .found
                .into_iter()
                .filter(|target| target != file && !is_ancestor(&krate, target, module))
                .collect();
            graph.insert(file.clone(), targets);
        }
    }
    Ok(graph)
}

/// Whether `file` is the file of a module enclosing `module`.
fn is_ancestor(krate: &Crate, file: &str, module: &ModulePath) -> bool {
    let own = &krate.files[file].0;
    own.len() < module.len() && module.starts_with(own)
}

fn discover(sources: &BTreeMap<String, String>, root: &str) -> Result<Crate, String> {
    let mut krate = Crate::default();
    let directory = root.rsplit_once('/').map_or(String::new(), |(dir, _)| format!("{dir}/"));
    let mut pending = vec![(root.to_owned(), ModulePath::new(), directory)];
    while let Some((file, module, directory)) = pending.pop() {
        let text = sources.get(&file).ok_or_else(|| format!("{file} is declared but not found"))?;
        let syntax = syn::parse_file(text).map_err(|error| format!("{file}: {error}"))?;
        declare(sources, &mut krate, &file, &module, &directory, &syntax.items, &mut pending);
        krate.files.insert(file, (module, syntax));
    }
    // Imports are read once every module is known: a plain name in a use
    // is this crate's only if it is a child module.
    let mut imports = BTreeMap::new();
    for (module, syntax) in krate.files.values() {
        collect_imports(&krate, module, &syntax.items, &mut imports);
    }
    for (module, names) in imports {
        krate.modules.get_mut(&module).unwrap().imports = names;
    }
    Ok(krate)
}

/// Registers `module` (in `file`) and its inline modules, and queues the
/// files of the modules it declares. `directory` is where its child
/// modules' files are.
fn declare(
    sources: &BTreeMap<String, String>,
    krate: &mut Crate,
    file: &str,
    module: &ModulePath,
    directory: &str,
    items: &[syn::Item],
    pending: &mut Vec<(String, ModulePath, String)>,
) {
    krate.modules.insert(module.clone(), Module { file: file.to_owned(), imports: BTreeMap::new() });
    for item in items {
        let syn::Item::Mod(child) = item else { continue };
        let name = child.ident.to_string();
        let path = [module.as_slice(), std::slice::from_ref(&name)].concat();
        let child_directory = format!("{directory}{name}/");
        match &child.content {
            Some((_, items)) => declare(sources, krate, file, &path, &child_directory, items, pending),
            None => {
                let nested = format!("{directory}{name}/mod.rs");
                let child_file = if sources.contains_key(&nested) { nested } else { format!("{directory}{name}.rs") };
                pending.push((child_file, path, child_directory));
            }
        }
    }
}

/// The names each module's `use` declarations bring in, resolved.
fn collect_imports(
    krate: &Crate,
    module: &ModulePath,
    items: &[syn::Item],
    imports: &mut BTreeMap<ModulePath, BTreeMap<String, ModulePath>>,
) {
    for item in items {
        match item {
            syn::Item::Use(declaration) => {
                for (path, name) in use_leaves(&declaration.tree) {
                    if let (Some(name), Some(absolute)) = (name, absolute(krate, module, &path)) {
                        imports.entry(module.clone()).or_default().insert(name, absolute);
                    }
                }
            }
            syn::Item::Mod(child) => {
                if let Some((_, items)) = &child.content {
                    let path = [module.as_slice(), &[child.ident.to_string()]].concat();
                    collect_imports(krate, &path, items, imports);
                }
            }
            _ => {}
        }
    }
}

/// The leaves of a use tree: each path, and the name it brings into scope
/// (none for a glob).
fn use_leaves(tree: &syn::UseTree) -> Vec<(Vec<String>, Option<String>)> {
    let mut leaves = Vec::new();
    walk_use(tree, &mut Vec::new(), &mut leaves);
    leaves
}

fn walk_use(tree: &syn::UseTree, prefix: &mut Vec<String>, leaves: &mut Vec<(Vec<String>, Option<String>)>) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            walk_use(&path.tree, prefix, leaves);
            prefix.pop();
        }
        syn::UseTree::Name(name) => {
            let ident = name.ident.to_string();
            let mut path = prefix.clone();
            // `use a::b::{self}` names `b`.
            let local = if ident == "self" { prefix.last().cloned() } else { Some(ident.clone()) };
            if ident != "self" {
                path.push(ident);
            }
            leaves.push((path, local));
        }
        syn::UseTree::Rename(rename) => {
            let mut path = prefix.clone();
            if rename.ident != "self" {
                path.push(rename.ident.to_string());
            }
            leaves.push((path, Some(rename.rename.to_string())));
        }
        syn::UseTree::Glob(_) => leaves.push((prefix.clone(), None)),
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                walk_use(tree, prefix, leaves);
            }
        }
    }
}

/// The absolute module path a path written in `module` stands for, or
/// `None` when it names another crate, a local or something not a module
/// path of this crate. A path starting with a plain name is this crate's
/// only when the name is a child module of `module` (an import of it is
/// followed at the use).
fn absolute(krate: &Crate, module: &ModulePath, path: &[String]) -> Option<ModulePath> {
    let (first, rest) = path.split_first()?;
    match first.as_str() {
        "crate" | "$crate" => Some(rest.to_vec()),
        "self" => Some([module.as_slice(), rest].concat()),
        "super" => {
            let mut base = module.clone();
            let mut rest = path;
            while let Some(("super", tail)) = rest.split_first().map(|(head, tail)| (head.as_str(), tail)) {
                base.pop()?;
                rest = tail;
            }
            Some([base.as_slice(), rest].concat())
        }
        _ => {
            let mut child = module.clone();
            child.push(first.clone());
            krate.modules.contains_key(&child).then(|| [module.as_slice(), path].concat())
        }
    }
}

/// The files an absolute path passes through: the module that holds the
/// item it names, and, when that module only imported the name, the
/// modules it was imported from.
fn files_of(krate: &Crate, mut path: ModulePath) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    // Imports chain through a few modules at most; a bound stops a cycle of
    // re-exports (which rustc rejects anyway).
    for _ in 0..16 {
        let Some(depth) = (0..=path.len()).rev().find(|&n| krate.modules.contains_key(&path[..n])) else {
            break;
        };
        let module = &krate.modules[&path[..depth]];
        files.insert(module.file.clone());
        let Some(target) = path.get(depth).and_then(|name| module.imports.get(name)) else { break };
        path = [target.as_slice(), &path[depth + 1..]].concat();
    }
    files
}

/// Collects the files a file's code refers to.
struct References<'a> {
    krate: &'a Crate,
    /// The module being read (an inline module's, inside its file).
    module: ModulePath,
    found: BTreeSet<String>,
}

impl References<'_> {
    fn refer(&mut self, path: &[String]) {
        if let Some(absolute) = absolute(self.krate, &self.module, path) {
            self.found.extend(files_of(self.krate, absolute));
        }
    }

    /// Paths inside a macro's tokens (`format!`, `body!`, a macro_rules
    /// body): runs of `name :: name` not preceded by `::`.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut index = 0;
        while index < trees.len() {
            match &trees[index] {
                TokenTree::Group(group) => {
                    self.scan_tokens(group.stream());
                    index += 1;
                }
                TokenTree::Ident(ident) => {
                    let dollar = index > 0 && matches!(&trees[index - 1], TokenTree::Punct(p) if p.as_char() == '$');
                    let mut path = vec![if dollar { format!("${ident}") } else { ident.to_string() }];
                    let mut next = index + 1;
                    while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(name))) =
                        (trees.get(next), trees.get(next + 1), trees.get(next + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        path.push(name.to_string());
                        next += 3;
                    }
                    let after_colons = index >= 2
                        && matches!((&trees[index - 2], &trees[index - 1]),
                            (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == ':' && b.as_char() == ':');
                    if path.len() > 1 && !after_colons {
                        self.refer(&path);
                    }
                    index = next;
                }
                _ => index += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for References<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if let Some((_, items)) = &item.content {
            let inner = [self.module.as_slice(), &[item.ident.to_string()]].concat();
            let outer = std::mem::replace(&mut self.module, inner);
            for item in items {
                self.visit_item(item);
            }
            self.module = outer;
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        for (path, _) in use_leaves(&item.tree) {
            self.refer(&path);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        // A single name is a local, a type in scope or a module's own
        // name; only a path of two or more segments reaches into a module.
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let segments: Vec<String> = path.segments.iter().map(|segment| segment.ident.to_string()).collect();
            self.refer(&segments);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {
        // `pub(super)`, `pub(in crate::a)`: who may see an item, not a use.
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.scan_tokens(mac.tokens.clone());
    }
}

/// The circles of a graph: each strongly connected set of two files or
/// more, with the shortest circle through each of its files, written as a
/// chain of file paths (`a.rs -> b.rs -> a.rs`).
pub fn circles(graph: &Graph) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for component in strongly_connected(graph) {
        if component.len() < 2 {
            continue;
        }
        let mut chains = BTreeSet::new();
        for start in &component {
            if let Some(chain) = shortest_circle(graph, &component, start) {
                chains.insert(chain);
            }
        }
        found.push(chains.into_iter().map(|chain| chain.join(" -> ")).collect());
    }
    found
}

/// The shortest path from `start` back to itself inside `component`,
/// rotated to begin at its smallest file so one circle is written once.
fn shortest_circle(graph: &Graph, component: &BTreeSet<String>, start: &String) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(file) = queue.pop_front() {
        for next in graph.get(file).into_iter().flatten().filter(|next| component.contains(*next)) {
            if next == start {
                let mut chain = vec![file.clone()];
                while let Some(&before) = previous.get(chain.last().unwrap()) {
                    chain.push(before.clone());
                }
                chain.reverse();
                let smallest = (0..chain.len()).min_by_key(|&i| &chain[i]).unwrap();
                chain.rotate_left(smallest);
                chain.push(chain[0].clone());
                return Some(chain);
            }
            if !previous.contains_key(next) && next != start {
                previous.insert(next, file);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Tarjan's strongly connected components.
fn strongly_connected(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a String, usize>,
        low: BTreeMap<&'a String, usize>,
        stack: Vec<&'a String>,
        on_stack: BTreeSet<&'a String>,
        components: Vec<BTreeSet<String>>,
    }
    fn connect<'a>(state: &mut State<'a>, file: &'a String) {
        let number = state.index.len();
        state.index.insert(file, number);
        state.low.insert(file, number);
        state.stack.push(file);
        state.on_stack.insert(file);
        let graph = state.graph;
        for next in graph.get(file).into_iter().flatten() {
            if !state.index.contains_key(next) {
                connect(state, next);
                let low = state.low[file].min(state.low[next]);
                state.low.insert(file, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[file].min(state.index[next]);
                state.low.insert(file, low);
            }
        }
        if state.low[file] == state.index[file] {
            let mut component = BTreeSet::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.insert(member.clone());
                if member == file {
                    break;
                }
            }
            state.components.push(component);
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for file in graph.keys() {
        if !state.index.contains_key(file) {
            connect(&mut state, file);
        }
    }
    state.components
}
