//! Bad configuration gets a clear error, never a panic.

mod common;

use common::{PRELUDE, Scratch, harness};

fn fails_with(args: &[&str], needles: &[&str]) {
    let o = harness(args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "expected failure, got success: {stderr}");
    assert!(!stderr.contains("panicked"), "panic instead of an error: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "missing `{n}` in: {stderr}");
    }
}

#[test]
fn malformed_toml_reports_line_and_column() {
    let dir = Scratch::new("malformed");
    let config = dir.config("[defaults]\nepochs = 3\nbatch-size = = 4\n");
    fails_with(&["--config", config.to_str().unwrap(), "--suite", "x", "--dry-run"], &["line 3", "column"]);
}

#[test]
fn unknown_method_dataset_encoder_and_key_list_valid_names() {
    let dir = Scratch::new("unknown");
    let suite = |body: &str| format!("{PRELUDE}\n[suites.s]\ndatasets = [\"synthetic-av\"]\n{body}\n");
    let c = dir.config(&suite("methods = [\"jiont\"]"));
    fails_with(&["--config", c.to_str().unwrap(), "--suite", "s", "--dry-run"], &["unknown method `jiont`", "joint"]);
    let c = dir.config(&format!("{PRELUDE}\n[suites.s]\ndatasets = [\"synthetic-avv\"]\nmethods = [\"joint\"]\n"));
    fails_with(
        &["--config", c.to_str().unwrap(), "--suite", "s", "--dry-run"],
        &["unknown dataset `synthetic-avv`", "synthetic-av"],
    );
    let c = dir.config(&suite("methods = [\"joint\"]\ntrain = { encoders.audio = { name = \"resnet99\" } }"));
    fails_with(&["--config", c.to_str().unwrap(), "--suite", "s", "--dry-run"], &["unknown encoder `resnet99`", "mlp"]);
    let c = dir.config(&suite("methods = [\"joint\"]\nseedz = [1]"));
    fails_with(&["--config", c.to_str().unwrap(), "--suite", "s", "--dry-run"], &["seedz", "seeds", "line"]);
    let c = dir.config(&suite("methods = [{ method = \"g2d\", options = { alhpa = 1.0 } }]"));
    fails_with(
        &["--config", c.to_str().unwrap(), "--suite", "s", "--out", dir.out().to_str().unwrap()],
        &["alhpa", "alpha"],
    );
    fails_with(&["--config", c.to_str().unwrap(), "--suite", "nope", "--dry-run"], &["unknown suite `nope`", "s"]);
}

#[test]
fn impossible_combination_says_why() {
    let dir = Scratch::new("impossible");
    // FiLM fuses exactly two modalities; synthetic-av3 has three.
    let c = dir.config(
        "[defaults]\nepochs = 1\nbatch-size = 8\noptimizer = { kind = \"sgd\", lr = 0.1 }\nfusion = \"film\"\n\
         [suites.s]\ndatasets = [\"synthetic-av3\"]\nmethods = [\"joint\"]\n",
    );
    fails_with(
        &["--config", c.to_str().unwrap(), "--suite", "s", "--out", dir.out().to_str().unwrap()],
        &["fusion `film` supports 2 to 2 modalities"],
    );
}

#[test]
fn dry_run_prints_the_matrix() {
    let dir = Scratch::new("dryrun");
    let c = dir.config(&format!(
        "{PRELUDE}\n[suites.s]\ndatasets = [\"synthetic-av\"]\nseeds = [0, 1]\nmethods = [\"joint\", {{ method = \"unimodal\", variant = \"audio\", options = {{ modality = \"audio\" }} }}]\n"
    ));
    let o = harness(&["--config", c.to_str().unwrap(), "--suite", "s", "--dry-run"]);
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            "synthetic-av--joint--default--seed0",
            "synthetic-av--joint--default--seed1",
            "synthetic-av--unimodal--audio--seed0",
            "synthetic-av--unimodal--audio--seed1",
        ]
    );
}

#[test]
fn list_prints_every_registered_plugin() {
    let o = harness(&["list"]);
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "method   g2d",
        "method   joint",
        "dataset  synthetic-av",
        "encoder  resnet18-audio",
        "fusion   late",
        "suite    quick",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
}
