//! Shared helpers for the fixture tests: contexts and tensor read-outs.

#![allow(dead_code)]

use std::path::Path;

use harness_core::data::{Dataset, DatasetContext, Split};
use harness_core::tch::Tensor;

/// A context whose options are the TOML `options` plus `root = <root>`.
pub fn ctx(root: &Path, options: &str) -> DatasetContext {
    let mut table: toml::Table = toml::from_str(options).expect("test options parse");
    table.insert("root".into(), toml::Value::String(root.display().to_string()));
    DatasetContext { options: table, data_root: None, cache_dir: None }
}

/// Every value of a tensor, flattened, as f32.
pub fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_kind(harness_core::tch::Kind::Float).flatten(0, -1)).unwrap()
}

/// Every value of a tensor as i64.
pub fn ints(t: &Tensor) -> Vec<i64> {
    Vec::<i64>::try_from(t.flatten(0, -1)).unwrap()
}

/// The whole split as one batch.
pub fn all(ds: &dyn Dataset, split: Split) -> harness_core::data::Batch {
    let idx: Vec<usize> = (0..ds.len(split)).collect();
    ds.batch(split, &idx, None).unwrap()
}

/// Split sizes (train, val, test).
pub fn sizes(ds: &dyn Dataset) -> (usize, usize, usize) {
    (ds.len(Split::Train), ds.len(Split::Val), ds.len(Split::Test))
}
