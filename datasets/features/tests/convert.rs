//! The pickle converter: a tiny pickle in MultiBench's `humor.pkl` / MulT's `iemocap_data.pkl`
//! layout, made by a Python snippet, converted by `convert_pickle` and read by the loaders.
//! Skipped with a note when the interpreter (`$HARNESS_PYTHON`, else `python3`) lacks NumPy;
//! the Rust `.npz` path itself is tested unconditionally in `affect.rs`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{all, ctx, ints, sizes, values};
use datasets_features::convert::{convert_pickle, python};
use datasets_features::{iemocap, urfunny};
use harness_core::data::Split;

fn numpy_available() -> bool {
    let ok = Command::new(python()).args(["-c", "import numpy"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        eprintln!("note: `{}` has no NumPy; skipping the pickle conversion test (set HARNESS_PYTHON)", python());
    }
    ok
}

/// Writes a pickle with three splits of `n` samples (float64 features, L = 3) and the given
/// label expression (Python, over `n`), with protocol `protocol`.
fn make_pickle(path: &Path, labels: &str, protocol: u8) {
    let script = format!(
        r#"
import pickle, numpy as np
def split(n, seed):
    r = np.random.RandomState(seed)
    audio = r.rand(n, 3, 4)
    audio[0, 2, 1] = -np.inf
    text = r.rand(n, 3, 5) + 1.0
    text[:, 0, :] = 0.0
    text[n - 1] = 0.0
    return {{'audio': audio, 'vision': r.rand(n, 3, 2).astype(np.float32), 'text': text,
            'labels': {labels}, 'id': np.array(['clip%d' % i for i in range(n)], dtype=object)}}
data = {{'train': split(4, 0), 'valid': split(2, 1), 'test': split(3, 2)}}
with open({path:?}, 'wb') as f:
    pickle.dump(data, f, protocol={protocol})
"#,
        path = path.display().to_string()
    );
    let out = Command::new(python()).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn ur_funny_pickle_converts_and_loads() {
    if !numpy_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pkl = dir.path().join("humor.pkl");
    make_pickle(&pkl, "np.arange(n, dtype=np.float64).reshape(n, 1) * 0.6", 2);
    convert_pickle("ur-funny", &pkl, &dir.path().join("humor.npz")).unwrap();
    let ds = urfunny::load(&ctx(dir.path(), "")).unwrap();
    // The last sample of each split has all-zero text and is dropped.
    assert_eq!(sizes(&ds), (3, 1, 2));
    let train = all(&ds, Split::Train);
    // Labels 0, 0.6, 1.2 -> 0, 0, 1.
    assert_eq!(ints(&train.targets), vec![0, 0, 1]);
    let audio = values(&train.inputs[0]);
    assert!(audio.iter().all(|v| v.is_finite()));
    // Aligned: the zero first text row moved to the end, so row 2 is padding; row 1 of sample 0
    // held the -inf, now 0.
    assert_eq!(audio[4 + 1], 0.0);
    assert!(audio[8..12].iter().all(|&v| v == 0.0));
}

#[test]
fn iemocap_pickle_converts_and_loads() {
    if !numpy_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pkl = dir.path().join("iemocap_data.pkl");
    make_pickle(&pkl, "np.stack([np.eye(2)[[int(k == i % 4) for k in range(4)]] for i in range(n)])", 4);
    convert_pickle("iemocap", &pkl, &dir.path().join("iemocap.npz")).unwrap();
    let ds = iemocap::load(&ctx(dir.path(), "")).unwrap();
    assert_eq!(sizes(&ds), (4, 2, 3));
    assert_eq!(ints(&all(&ds, Split::Train).targets), vec![0, 1, 2, 3]);
}

#[test]
fn converter_errors_name_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let err = convert_pickle("mosei", Path::new("x.pkl"), Path::new("y.npz")).unwrap_err().to_string();
    assert!(err.contains("mosei") && err.contains("ur-funny"), "{err}");
    let missing = dir.path().join("absent.pkl");
    let err = convert_pickle("iemocap", &missing, &dir.path().join("o.npz")).unwrap_err().to_string();
    assert!(err.contains("absent.pkl"), "{err}");
    if !numpy_available() {
        return;
    }
    let bad = dir.path().join("bad.pkl");
    std::fs::write(&bad, b"not a pickle").unwrap();
    let err = convert_pickle("ur-funny", &bad, &dir.path().join("o.npz")).unwrap_err().to_string();
    assert!(err.contains("bad.pkl") && err.contains("cannot read"), "{err}");
}
