//! Every loader is registered, and a missing dataset is an error (never a panic, never
//! synthetic data).

use datasets_features as _;
use harness_core::data::{DatasetContext, lookup};

#[test]
fn all_five_datasets_are_registered_and_fail_cleanly_without_data() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["av-mnist", "ur-funny", "iemocap", "mis-me", "mfeat"] {
        let entry = lookup(name).unwrap();
        let ctx =
            DatasetContext { options: Default::default(), data_root: Some(dir.path().to_path_buf()), cache_dir: None };
        let err =
            (entry.build)(&ctx).err().unwrap_or_else(|| panic!("{name} loaded from an empty data root")).to_string();
        assert!(err.contains(&dir.path().join(name).display().to_string()), "{name}: {err}");
        assert!(err.contains("Expected layout"), "{name}: {err}");
        let none = DatasetContext { options: Default::default(), data_root: None, cache_dir: None };
        let err = (entry.build)(&none).err().unwrap().to_string();
        assert!(err.contains("--data-root"), "{name}: {err}");
    }
}
