//! The workspace's dependency graph, as `cargo metadata` reads it from the manifests:
//! no cycle between its crates (dev- and build-dependencies included), and the emulator
//! and the test harness know no app.
//!
//! A cycle through dev-dependencies builds, but it makes every edit to one crate rebuild
//! the other's tests, and it hides which crate the others stand on. It is checked here,
//! on every `cargo test`, from the manifests alone (`--no-deps --offline`: no resolution,
//! no network; well under a second).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Workspace crate -> the workspace crates it depends on, with the kind of each
/// dependency (`normal`, `dev`, `build`).
type Graph = BTreeMap<String, BTreeSet<(String, String)>>;

/// `cargo metadata` of the workspace's own crates.
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .args(["--manifest-path", manifest])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON")
}

/// Every dependency of a workspace crate, of any kind, workspace crate or not: (name,
/// kind).
fn dependencies(metadata: &Value, crate_name: &str) -> Vec<(String, String)> {
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == crate_name)
        .unwrap_or_else(|| panic!("no crate {crate_name} in the workspace"));
    package["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["name"].as_str().unwrap_or_default().to_string(),
                d["kind"].as_str().unwrap_or("normal").to_string(),
            )
        })
        .collect()
}

fn workspace_graph(metadata: &Value) -> Graph {
    let packages = metadata["packages"].as_array().expect("a package list");
    let members: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut graph = Graph::new();
    for package in packages {
        let name = package["name"].as_str().expect("a package name");
        let deps = graph.entry(name.to_string()).or_default();
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().expect("a dependency name");
            // Only path dependencies on workspace crates can close a cycle here.
            if dep.get("path").is_some() && members.contains(dep_name) {
                let kind = dep["kind"].as_str().unwrap_or("normal");
                deps.insert((dep_name.to_string(), kind.to_string()));
            }
        }
    }
    graph
}

/// A cycle of `graph` as `a -(kind)-> b -(kind)-> ... -> a`, if there is one.
fn find_cycle(graph: &Graph) -> Option<String> {
    fn visit(
        graph: &Graph,
        node: &str,
        path: &mut Vec<(String, String)>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if let Some(start) = path.iter().position(|(n, _)| n == node) {
            let mut text = String::new();
            for (n, kind) in &path[start..] {
                text.push_str(&format!("{n} -({kind})-> "));
            }
            text.push_str(node);
            return Some(text);
        }
        if done.contains(node) {
            return None;
        }
        for (dep, kind) in graph.get(node).into_iter().flatten() {
            path.push((node.to_string(), kind.clone()));
            let found = visit(graph, dep, path, done);
            path.pop();
            if found.is_some() {
                return found;
            }
        }
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

#[test]
fn the_workspace_has_no_dependency_cycle_dev_dependencies_included() {
    let graph = workspace_graph(&metadata());
    assert!(graph.contains_key("mock-server") && graph.contains_key("cloud"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!("the workspace has a dependency cycle: {cycle}");
    }
}

#[test]
fn the_emulator_and_the_harness_know_no_app_and_the_emulator_no_command_line() {
    let metadata = metadata();
    let refused = [
        ("mock-server", "cloud"),
        ("lc-model", "cloud"),
        ("harness", "cloud"),
        ("mock-server", "clap"),
    ];
    for (crate_name, dependency) in refused {
        let found: Vec<(String, String)> = dependencies(&metadata, crate_name)
            .into_iter()
            .filter(|(name, _)| name == dependency)
            .collect();
        assert!(
            found.is_empty(),
            "{crate_name} depends on {dependency} ({found:?}): the app's cloud code comes in \
             as a registry value, and the command line lives in crate lc-mock"
        );
    }
}

#[test]
fn the_cycle_check_finds_a_cycle_through_a_dev_dependency() {
    let mut graph = Graph::new();
    let edge = |to: &str, kind: &str| (to.to_string(), kind.to_string());
    graph.insert("app".into(), [edge("harness", "dev")].into());
    graph.insert("harness".into(), [edge("emulator", "normal")].into());
    graph.insert("emulator".into(), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
    graph.insert("emulator".into(), [edge("app", "normal")].into());
    assert_eq!(
        find_cycle(&graph).as_deref(),
        Some("app -(dev)-> harness -(normal)-> emulator -(normal)-> app")
    );
}
