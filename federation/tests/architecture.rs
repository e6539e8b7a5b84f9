//! The module layers of `federation/src` and the absence of import circles in it and in
//! `server/src`, read from the sources: every `crate::…`, `super::…` and child-module path counts
//! as an import of the module it names (re-exports are followed to where the item lives), code
//! under `#[cfg(test)]` does not.
//!
//! A circle is reported edge by edge, at the level where the two modules are siblings (the files
//! and folders of one folder, with its `mod.rs` or `lib.rs` as one more node). `KNOWN` lists
//! today's violations: it may only shrink, and the test fails when an entry is no longer true.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of `federation/src`, bottom first; a module imports only from its own layer or
/// below. The top layer's modules (`activities`, `actions`) never import each other.
const LAYERS: &[&[&str]] = &[
    &[
        "protocol",
        "settings",
        "clock",
        "error",
        "urls",
        "signatures",
        "ids",
        "limits",
        "metrics",
        "html",
    ],
    &["http"],
    // `objects` and `store` take rows and a connection, never the context, so they sit below it;
    // `fetch` writes the actors it fetches through `store` (their memberships follow the
    // `discoverable` they publish).
    &["objects"],
    &["store"],
    &["context", "fetch", "intake", "nodeinfo"],
    &["queue"],
    &["outbox"],
    &["rules"],
    &["activities", "actions"],
];

/// Violations found today, to be removed one by one as the modules are reshaped.
const KNOWN: &[&str] = &[];

/// A module path inside one crate: `["activities", "follow"]`; the crate root is `[]`.
type ModPath = Vec<String>;

struct Crate {
    name: &'static str,
    /// Every module that has a file, with its source (test code removed) as tokens.
    modules: BTreeMap<ModPath, Vec<String>>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn module_path(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: ModPath = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Splits Rust source into identifier and punctuation tokens, dropping comments, string and
/// character literals, and attributes' test-only items.
fn tokens(src: &str) -> Vec<String> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if ch == 'r' && (next == Some('"') || next == Some('#')) {
            let mut j = i + 1;
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push("r".into());
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            j += 1;
            while j < c.len() && !(c[j] == '"' && (1..=hashes).all(|k| c.get(j + k) == Some(&'#')))
            {
                j += 1;
            }
            i = j + 1 + hashes;
        } else if ch == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if ch == '\'' && (next == Some('\\') || c.get(i + 2) == Some(&'\'')) {
            i += 1;
            while i < c.len() && c[i] != '\'' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(c[start..i].iter().collect());
        } else if ch == ':' && next == Some(':') {
            out.push("::".into());
            i += 2;
        } else {
            if !ch.is_whitespace() {
                out.push(ch.to_string());
            }
            i += 1;
        }
    }
    without_test_code(out)
}

/// Drops every item marked `#[cfg(test)]`: tests may reach any layer.
fn without_test_code(t: Vec<String>) -> Vec<String> {
    let is = |i: usize, s: &[&str]| {
        s.iter()
            .enumerate()
            .all(|(k, w)| t.get(i + k).map(String::as_str) == Some(*w))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if is(i, &["#", "[", "cfg", "(", "test", ")", "]"]) {
            i += 7;
            // Skip the item: up to its `;` or through its outermost braces.
            let mut depth = 0usize;
            while i < t.len() {
                match t[i].as_str() {
                    "{" => depth += 1,
                    "}" => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    ";" if depth == 0 => {
                        i += 1;
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
        } else {
            out.push(t[i].clone());
            i += 1;
        }
    }
    out
}

/// Parses a use tree or path starting at `t[i]`, pushing every full path (with its `as` alias,
/// if any) it names. Returns the index after it.
fn use_tree(
    t: &[String],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, Option<String>)>,
) -> usize {
    let mut path = prefix.to_vec();
    loop {
        match t.get(i).map(String::as_str) {
            Some("{") => {
                i += 1;
                while t.get(i).is_some_and(|s| s != "}") {
                    i = use_tree(t, i, &path, out);
                    if t.get(i).is_some_and(|s| s == ",") {
                        i += 1;
                    }
                }
                return i + 1;
            }
            Some("*") => {
                out.push((path, None));
                return i + 1;
            }
            Some(s) if s.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                path.push(s.to_string());
                i += 1;
                if t.get(i).is_some_and(|s| s == "::") {
                    i += 1;
                    continue;
                }
                let alias = if t.get(i).is_some_and(|s| s == "as") {
                    i += 2;
                    t.get(i - 1).cloned()
                } else {
                    None
                };
                out.push((path, alias));
                return i;
            }
            _ => {
                out.push((path, None));
                return i;
            }
        }
    }
}

impl Crate {
    fn load(name: &'static str, src: &Path) -> Crate {
        let mut files = Vec::new();
        rust_files(src, &mut files);
        let modules = files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).unwrap_or_default();
                (module_path(src, f), tokens(&text))
            })
            .collect();
        Crate { name, modules }
    }

    /// Turns a path as written in module `at` into an absolute one, or `None` when it leaves
    /// the crate.
    fn absolute(&self, at: &ModPath, path: &[String]) -> Option<Vec<String>> {
        let mut base: Vec<String> = at.clone();
        let mut rest = path;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("self") => rest = &rest[1..],
            Some("super") => {
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            Some(first) => {
                let mut child = at.clone();
                child.push(first.to_string());
                if !self.modules.contains_key(&child) {
                    return None;
                }
            }
            None => return None,
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The `pub use` and `pub type` names of a module, each with the absolute path it stands for.
    fn reexports(&self, m: &ModPath) -> BTreeMap<String, Vec<String>> {
        let mut names = BTreeMap::new();
        let Some(t) = self.modules.get(m) else {
            return names;
        };
        for i in 0..t.len() {
            if t[i] != "pub" {
                continue;
            }
            let mut j = i + 1;
            if t.get(j).is_some_and(|s| s == "(") {
                j += 3;
            }
            if t.get(j).is_some_and(|s| s == "use") {
                let mut found = Vec::new();
                use_tree(t, j + 1, &[], &mut found);
                for (p, alias) in found {
                    if let (Some(abs), Some(last)) = (self.absolute(m, &p), p.last()) {
                        names.insert(alias.unwrap_or_else(|| last.clone()), abs);
                    }
                }
            } else if t.get(j).is_some_and(|s| s == "type") {
                // `pub type Data = …<FederationContext>` lives where the type it wraps lives.
                let Some(alias) = t.get(j + 1) else { continue };
                let end = t[j..]
                    .iter()
                    .position(|s| s == ";")
                    .map_or(t.len(), |k| j + k);
                if let Some(target) = t[j + 2..end].iter().find_map(|s| names.get(s).cloned()) {
                    names.insert(alias.clone(), target);
                }
            }
        }
        names
    }

    /// The module where the item a path names is defined.
    fn resolve(&self, mut path: Vec<String>) -> ModPath {
        for _ in 0..8 {
            let mut m: ModPath = Vec::new();
            while path.len() > m.len() && self.modules.contains_key(&path[..=m.len()]) {
                m.push(path[m.len()].clone());
            }
            match path
                .get(m.len())
                .and_then(|name| self.reexports(&m).get(name).cloned())
            {
                Some(target) if target != path => {
                    path = target
                        .into_iter()
                        .chain(path[m.len() + 1..].iter().cloned())
                        .collect();
                }
                _ => return m,
            }
        }
        Vec::new()
    }

    /// Every import of every module: (importing module, module imported).
    fn imports(&self) -> BTreeSet<(ModPath, ModPath)> {
        let mut edges = BTreeSet::new();
        for (m, t) in &self.modules {
            let mut i = 0;
            while i < t.len() {
                let starts_path = t.get(i + 1).is_some_and(|s| s == "::")
                    && (i == 0 || t[i - 1] != "::")
                    && t[i].chars().all(|c| c.is_alphanumeric() || c == '_');
                // A re-export is the module's face, not something it depends on.
                let reexport =
                    i >= 2 && t[i - 1] == "use" && (t[i - 2] == "pub" || t[i - 2] == ")");
                if reexport {
                    i = t[i..]
                        .iter()
                        .position(|s| s == ";")
                        .map_or(t.len(), |k| i + k);
                    continue;
                }
                if !starts_path {
                    i += 1;
                    continue;
                }
                let mut found = Vec::new();
                let end = use_tree(t, i, &[], &mut found);
                for (p, _) in found {
                    if let Some(abs) = self.absolute(m, &p) {
                        let target = self.resolve(abs);
                        if &target != m {
                            edges.insert((m.clone(), target));
                        }
                    }
                }
                i = end.max(i + 1);
            }
        }
        edges
    }
}

/// The name of module `m` as a node among the children of `level`.
fn unit(level: &[String], m: &[String]) -> String {
    match m.get(level.len()) {
        Some(child) => child.clone(),
        None if level.is_empty() => "lib.rs".into(),
        None => "mod.rs".into(),
    }
}

fn show(level: &[String], u: &str) -> String {
    if level.is_empty() {
        u.to_string()
    } else {
        format!("{}/{u}", level.join("/"))
    }
}

/// Edges that lie on a circle, at the level where their two ends are siblings, among the edges
/// that `keep` accepts (given the level and the two ends).
fn circles(
    c: &Crate,
    edges: &BTreeSet<(ModPath, ModPath)>,
    keep: impl Fn(&[String], &str, &str) -> bool,
) -> BTreeSet<String> {
    let mut by_level: BTreeMap<Vec<String>, BTreeSet<(String, String)>> = BTreeMap::new();
    for (a, b) in edges {
        let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let level = a[..common].to_vec();
        let (ua, ub) = (unit(&level, a), unit(&level, b));
        if ua != ub && keep(&level, &ua, &ub) {
            by_level.entry(level).or_default().insert((ua, ub));
        }
    }
    let mut out = BTreeSet::new();
    for (level, es) in &by_level {
        let reaches = |from: &str, to: &str| {
            let mut seen = BTreeSet::from([from.to_string()]);
            let mut todo = vec![from.to_string()];
            while let Some(n) = todo.pop() {
                for (x, y) in es {
                    if *x == n && seen.insert(y.clone()) {
                        todo.push(y.clone());
                    }
                }
            }
            seen.contains(to)
        };
        for (a, b) in es {
            if reaches(b, a) {
                out.insert(format!(
                    "{}: {} -> {} (circle)",
                    c.name,
                    show(level, a),
                    show(level, b)
                ));
            }
        }
    }
    out
}

fn layer(m: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&m))
}

/// Imports of a higher layer, or between the two top modules, in `federation/src`.
fn upward(edges: &BTreeSet<(ModPath, ModPath)>, out: &mut BTreeSet<String>) {
    let top = LAYERS.len() - 1;
    for (a, b) in edges {
        let (Some(ta), Some(tb)) = (a.first(), b.first()) else {
            continue;
        };
        if ta == tb {
            continue;
        }
        match (layer(ta), layer(tb)) {
            (Some(la), Some(lb)) if lb > la || (la == top && lb == top) => {
                out.insert(format!("federation: {ta} -> {tb} (upward)"));
            }
            (None, _) => {
                out.insert(format!("federation: {ta} has no layer"));
            }
            (_, None) => {
                out.insert(format!("federation: {tb} has no layer"));
            }
            _ => {}
        }
    }
}

#[test]
fn modules_import_only_below_themselves_and_never_in_circles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let federation = Crate::load("federation", &root.join("federation/src"));
    let server = Crate::load("server", &root.join("server/src"));
    assert!(federation.modules.len() > 20 && server.modules.len() > 10);

    let fed_edges = federation.imports();
    // A guard on the reader itself: these imports exist and must be seen.
    let seen = |a: &[&str], b: &[&str]| {
        let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<ModPath>();
        fed_edges.contains(&(p(a), p(b)))
    };
    assert!(
        seen(&["objects", "event"], &["objects", "post"]),
        "super:: paths"
    );
    assert!(seen(&["fetch"], &["http"]), "inline crate:: paths");

    // At the top of `federation/src` a circle through two layers has an upward import, which is
    // reported as such; only circles inside one layer are reported as circles there.
    let mut found = circles(&federation, &fed_edges, |level, a, b| {
        !level.is_empty() || layer(a) == layer(b)
    });
    upward(&fed_edges, &mut found);
    found.extend(circles(&server, &server.imports(), |_, _, _| true));

    let known: BTreeSet<String> = KNOWN.iter().map(|s| s.to_string()).collect();
    let new: Vec<&String> = found.difference(&known).collect();
    let stale: Vec<&String> = known.difference(&found).collect();
    assert!(
        new.is_empty() && stale.is_empty(),
        "new violations:\n{}\n\nno longer true, remove from KNOWN:\n{}",
        new.iter()
            .map(|s| format!("    {s:?},"))
            .collect::<Vec<_>>()
            .join("\n"),
        stale
            .iter()
            .map(|s| format!("    {s:?},"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}
