//! A second run of a suite skips completed cells and reuses the stored teachers.

mod common;

use common::{PRELUDE, Scratch, run_suite, run_suite_with};

#[test]
fn second_run_skips_completed_cells_and_reuses_teachers() {
    let dir = Scratch::new("resume");
    let config = dir.config(&format!(
        "{PRELUDE}
[suites.small]
datasets = [\"synthetic-av\"]
seeds = [0]
train = {{ epochs = 2 }}
methods = [\"joint\", \"g2d\", \"umt\"]
"
    ));
    let out = dir.out();
    let first = run_suite(&config, "small", &out);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("3 cells trained, 0 skipped"), "{stderr}");
    let teachers: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("small/teachers.json")).unwrap()).unwrap();
    assert_eq!(teachers["trained"], 2, "one teacher per modality is trained once: {teachers}");
    assert_eq!(teachers["reused"], 2, "the second method reuses both: {teachers}");
    let meta_dirs: Vec<_> = std::fs::read_dir(out.join("teachers")).unwrap().collect();
    assert_eq!(meta_dirs.len(), 2);
    let results = std::fs::read_to_string(out.join("small/results.csv")).unwrap();

    // Delete one cell's result: the next run retrains exactly that cell and nothing else,
    // and no teacher is trained (the store has them).
    std::fs::remove_file(out.join("small/cells/synthetic-av--g2d--default--seed0/result.json")).unwrap();
    let second = run_suite(&config, "small", &out);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("1 cells trained, 2 skipped"), "{stderr}");
    let teachers: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("small/teachers.json")).unwrap()).unwrap();
    assert_eq!(teachers["trained"], 0, "no teacher training on the second run: {teachers}");
    assert_eq!(teachers["reused"], 2, "{teachers}");

    // A third run has nothing to do and leaves the same results.
    let third = run_suite(&config, "small", &out);
    assert!(String::from_utf8_lossy(&third.stderr).contains("0 cells trained, 3 skipped"));
    assert_eq!(std::fs::read_to_string(out.join("small/results.csv")).unwrap(), results);
}

fn teacher_stats(out: &std::path::Path, suite: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join(suite).join("teachers.json")).unwrap()).unwrap()
}

#[test]
fn parallel_jobs_train_each_teacher_once_and_retrain_flag_forces_it() {
    let dir = Scratch::new("jobs");
    let config = dir.config(&format!(
        "{PRELUDE}
[suites.par]
datasets = [\"synthetic-av\"]
seeds = [0]
train = {{ epochs = 2 }}
methods = [\"g2d\", \"umt\", \"ume\", \"joint\"]
"
    ));
    let out = dir.out();
    let first = run_suite_with(&config, "par", &out, &["--jobs", "2"]);
    assert!(String::from_utf8_lossy(&first.stderr).contains("4 cells trained, 0 skipped"));
    let stats = teacher_stats(&out, "par");
    assert_eq!(stats["trained"], 2, "the per-key lock trains each teacher once: {stats}");
    assert_eq!(stats["reused"], 4, "{stats}");
    let lines = std::fs::read_to_string(out.join("par/results.csv")).unwrap().lines().count();
    assert!(lines > 4 * 2 * 3, "results for every cell: {lines} lines");

    // --retrain-teachers retrains each key once, even though the store has it.
    std::fs::remove_dir_all(out.join("par/cells/synthetic-av--umt--default--seed0")).unwrap();
    run_suite_with(&config, "par", &out, &["--retrain-teachers"]);
    let stats = teacher_stats(&out, "par");
    assert_eq!(stats["trained"], 2, "{stats}");
    assert_eq!(stats["reused"], 0, "{stats}");
}
