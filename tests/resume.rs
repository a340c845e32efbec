//! A second run of a suite skips completed cells and reuses the stored teachers.

mod common;

use common::{PRELUDE, Scratch, run_suite};

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
