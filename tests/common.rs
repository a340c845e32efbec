//! Helpers for the integration tests: run the real `harness` binary on a suite file in a
//! temporary directory and read what it wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A fresh directory named after the test.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("harness-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `benchmarks.toml` into the directory and returns its path.
    pub fn config(&self, text: &str) -> PathBuf {
        let p = self.0.join("benchmarks.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The output directory.
    pub fn out(&self) -> PathBuf {
        self.0.join("runs")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `harness` with `args`.
pub fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness")).args(args).output().expect("the harness binary runs")
}

/// Runs suite `suite` of `config` into `out`; panics with the output on failure.
pub fn run_suite(config: &Path, suite: &str, out: &Path) -> Output {
    run_suite_with(config, suite, out, &[])
}

/// Like [`run_suite`], with extra flags.
pub fn run_suite_with(config: &Path, suite: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args =
        vec!["--config", config.to_str().unwrap(), "--suite", suite, "--out", out.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    let o = harness(&args);
    assert!(
        o.status.success(),
        "harness failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Test-split value of `metric` for `(method, variant, head)`, averaged over seeds, from
/// `results.csv`.
pub fn test_metric(out: &Path, suite: &str, method: &str, variant: &str, head: &str, metric: &str) -> f64 {
    let text = std::fs::read_to_string(out.join(suite).join("results.csv")).unwrap();
    let vals: Vec<f64> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[2] == method && c[3] == variant && c[5] == "test" && c[6] == head && c[7] == metric)
                .then(|| c[8].parse().unwrap())
        })
        .collect();
    assert!(!vals.is_empty(), "no {method}/{variant}/{head}/{metric} rows in results.csv");
    vals.iter().sum::<f64>() / vals.len() as f64
}

/// The training settings and synthetic-av preset shared by the integration suites.
pub const PRELUDE: &str = r#"
[defaults]
epochs = 20
batch-size = 64
optimizer = { kind = "sgd", lr = 0.05, momentum = 0.9, weight-decay = 1e-4 }
fusion = "late"

[datasets.synthetic-av]
train.encoders.audio = { name = "mlp", options = { hidden = [64], out-dim = 64 } }
train.encoders.visual = { name = "mlp", options = { hidden = [64], out-dim = 64 } }
"#;
