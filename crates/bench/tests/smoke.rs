//! The bench binary runs a tiny configuration end to end (no timings are checked: benchmarks
//! are not tests). Only the part that needs no `hromada` binary and no PostgreSQL.

use std::process::Command;

#[test]
fn tiny_search_benchmark_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_hromada-bench"))
        .args([
            "search",
            "--quick",
            "--listings",
            "60",
            "--postgres",
            "none",
        ])
        .output()
        .expect("run hromada-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "hromada-bench failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .contains("| search | SQLite: all classes together (no result cache) | 60 listings |"),
        "{stdout}"
    );
}
