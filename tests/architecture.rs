//! Enforces the crate boundaries of docs/ARCHITECTURE.md: each crate's "must not depend on"
//! list is checked against the real dependency graph (`cargo metadata`), normal dependencies
//! only, transitively.

// A broken `cargo metadata` should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

/// (crate, crates it must not reach through normal dependencies)
const RULES: &[(&str, &[&str])] = &[
    (
        "hromada-domain",
        &[
            "tokio",
            "sqlx",
            "axum",
            "hyper",
            "reqwest",
            "activitypub_federation",
            "hromada-store",
            "hromada-app",
        ],
    ),
    (
        "hromada-store",
        &[
            "tokio",
            "sqlx",
            "axum",
            "reqwest",
            "activitypub_federation",
            "hromada-app",
        ],
    ),
    (
        "hromada-store-sqlite",
        &[
            "axum",
            "reqwest",
            "activitypub_federation",
            "hromada-app",
            "hromada-web",
            "hromada-federation",
            "hromada-store-postgres",
        ],
    ),
    (
        "hromada-store-postgres",
        &[
            "axum",
            "reqwest",
            "activitypub_federation",
            "hromada-app",
            "hromada-web",
            "hromada-federation",
            "hromada-store-sqlite",
        ],
    ),
    (
        "hromada-media",
        &[
            "axum",
            "sqlx",
            "reqwest",
            "activitypub_federation",
            "hromada-store",
            "hromada-app",
            "hromada-web",
            "hromada-federation",
        ],
    ),
    (
        "hromada-app",
        &[
            "axum",
            "sqlx",
            "reqwest",
            "activitypub_federation",
            "hromada-store-sqlite",
            "hromada-store-postgres",
            "hromada-web",
        ],
    ),
    (
        "hromada-federation",
        &[
            "sqlx",
            "hromada-store-sqlite",
            "hromada-store-postgres",
            "hromada-web",
            "hromada-server",
        ],
    ),
    // The web may use hromada-federation (the admins' network routes), never the reverse.
    (
        "hromada-web",
        &[
            "sqlx",
            "hromada-store-sqlite",
            "hromada-store-postgres",
            "hromada-server",
        ],
    ),
];

/// Only the test crates may use the test kit.
const TESTKIT_USERS: &[&str] = &["hromada-tests"];

/// The `rsa` crate (not constant-time: RUSTSEC-2023-0071) is for nothing a node runs. Only
/// these may name it in normal dependencies: the test kit's fake fediverse server checks our
/// signatures with code independent of ours, and the benchmark measures it as a reference.
const RSA_USERS: &[&str] = &["hromada-testkit", "hromada-bench"];

struct Graph {
    names: HashMap<String, String>,
    normal_deps: HashMap<String, Vec<String>>,
}

fn graph() -> Graph {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let names = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let normal_deps = meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve graph")
        .iter()
        .map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap().to_string())
                .collect();
            (node["id"].as_str().unwrap().to_string(), deps)
        })
        .collect();
    Graph { names, normal_deps }
}

impl Graph {
    /// Names of the direct normal dependencies of `name`.
    fn direct(&self, name: &str) -> BTreeSet<String> {
        self.id_of(name)
            .and_then(|id| self.normal_deps.get(id))
            .into_iter()
            .flatten()
            .filter_map(|d| self.names.get(d).cloned())
            .collect()
    }

    fn id_of(&self, name: &str) -> Option<&String> {
        self.names
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| id)
    }

    /// Names of everything `name` reaches through normal dependencies.
    fn reachable(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = self.id_of(name).into_iter().cloned().collect();
        while let Some(id) = stack.pop() {
            for dep in self.normal_deps.get(&id).into_iter().flatten() {
                if seen.insert(dep.clone()) {
                    stack.push(dep.clone());
                }
            }
        }
        seen.into_iter()
            .filter_map(|id| self.names.get(&id).cloned())
            .collect()
    }
}

#[test]
fn crates_keep_their_boundaries() {
    let graph = graph();
    let mut broken = Vec::new();
    for (krate, forbidden) in RULES {
        if graph.id_of(krate).is_none() {
            continue; // A crate that does not exist yet cannot break a rule.
        }
        let reachable = graph.reachable(krate);
        for f in *forbidden {
            if reachable.contains(*f) {
                broken.push(format!("{krate} must not depend on {f}"));
            }
        }
    }
    for (id, name) in &graph.names {
        let uses_testkit = graph
            .normal_deps
            .get(id)
            .into_iter()
            .flatten()
            .any(|d| graph.names.get(d).is_some_and(|n| n == "hromada-testkit"));
        if uses_testkit && !TESTKIT_USERS.contains(&name.as_str()) {
            broken.push(format!(
                "{name} must not depend on hromada-testkit outside dev-dependencies"
            ));
        }
    }
    for name in graph.names.values() {
        if name.starts_with("hromada")
            && !RSA_USERS.contains(&name.as_str())
            && graph.direct(name).contains("rsa")
        {
            broken.push(format!(
                "{name} must not depend on the `rsa` crate (sign and verify with aws-lc-rs)"
            ));
        }
    }
    assert!(
        broken.is_empty(),
        "architecture rules broken:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_rules_can_fail() {
    // Guards against a check that passes vacuously: the web crate does reach axum.
    let graph = graph();
    assert!(graph.reachable("hromada-web").contains("axum"));
    assert!(graph.reachable("hromada-domain").contains("serde"));
    // The direct-dependency check sees what a crate names: federation signs with aws-lc-rs.
    assert!(graph.direct("hromada-federation").contains("aws-lc-rs"));
}
