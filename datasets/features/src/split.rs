//! Deterministic splits for datasets whose reference release has no validation (or no test)
//! split. The test split is never touched by any of these, so model selection stays on
//! validation.

use harness_core::{Error, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How a validation split is carved out of a training split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Carve {
    /// The last `round(n * fraction)` training samples, in file order (MultiBench's AV-MNIST
    /// split: the last 5,000 of 60,000). `split-seed` is not used.
    #[default]
    Tail,
    /// A seeded random subset of `round(n * fraction)` samples (ChaCha8 from `split-seed`); both
    /// parts keep file order.
    Random,
}

/// Checks that `fraction` is in `[0, 1)`, naming `key` and `dataset` otherwise.
pub fn check_fraction(dataset: &str, key: &str, fraction: f64) -> Result<()> {
    if (0.0..1.0).contains(&fraction) {
        Ok(())
    } else {
        Err(Error::config(
            format!("options of dataset `{dataset}`"),
            format!("`{key}` = {fraction}, expected 0 <= {key} < 1"),
        ))
    }
}

/// Splits `0..n` into (train, val) with `round(n * fraction)` validation samples.
pub fn carve_val(n: usize, fraction: f64, carve: Carve, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let n_val = ((n as f64) * fraction).round() as usize;
    let n_val = n_val.min(n);
    match carve {
        Carve::Tail => ((0..n - n_val).collect(), (n - n_val..n).collect()),
        Carve::Random => {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
            let mut val = order[..n_val].to_vec();
            let mut train = order[n_val..].to_vec();
            val.sort_unstable();
            train.sort_unstable();
            (train, val)
        }
    }
}

/// Splits samples with class `labels` into (train, val, test), stratified: within every class,
/// a seeded permutation gives `round(count * test_fraction)` test samples, then
/// `round(count * val_fraction)` validation samples, and the rest train. Each part keeps file
/// order.
pub fn stratified_split(
    labels: &[i64],
    val_fraction: f64,
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let mut classes: Vec<i64> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut val, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for c in classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        members.shuffle(&mut rng);
        let n = members.len();
        let n_test = ((n as f64 * test_fraction).round() as usize).min(n);
        let n_val = ((n as f64 * val_fraction).round() as usize).min(n - n_test);
        test.extend_from_slice(&members[..n_test]);
        val.extend_from_slice(&members[n_test..n_test + n_val]);
        train.extend_from_slice(&members[n_test + n_val..]);
    }
    for part in [&mut train, &mut val, &mut test] {
        part.sort_unstable();
    }
    (train, val, test)
}

/// Keeps the first `max` indices when `max` is set (the `max-samples-per-split` option).
pub fn truncate(mut indices: Vec<usize>, max: Option<usize>) -> Vec<usize> {
    if let Some(max) = max {
        indices.truncate(max);
    }
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_carve_takes_the_last_fraction_like_multibench() {
        let (train, val) = carve_val(60_000, 5_000.0 / 60_000.0, Carve::Tail, 0);
        assert_eq!(train.len(), 55_000);
        assert_eq!(val.first(), Some(&55_000));
        assert_eq!(val.last(), Some(&59_999));
    }

    #[test]
    fn random_carve_is_seeded_disjoint_and_complete() {
        let (t1, v1) = carve_val(100, 0.2, Carve::Random, 3);
        let (t2, v2) = carve_val(100, 0.2, Carve::Random, 3);
        let (_, v3) = carve_val(100, 0.2, Carve::Random, 4);
        assert_eq!((&t1, &v1), (&t2, &v2));
        assert_ne!(v1, v3);
        assert_eq!(v1.len(), 20);
        let mut all = [t1, v1].concat();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn stratified_split_keeps_class_proportions() {
        let labels: Vec<i64> = (0..100).map(|i| i / 20).collect();
        let (train, val, test) = stratified_split(&labels, 0.1, 0.2, 0);
        assert_eq!((train.len(), val.len(), test.len()), (70, 10, 20));
        for c in 0..5 {
            assert_eq!(test.iter().filter(|&&i| labels[i] == c).count(), 4);
            assert_eq!(val.iter().filter(|&&i| labels[i] == c).count(), 2);
        }
        assert_eq!(stratified_split(&labels, 0.1, 0.2, 0).2, test);
    }

    #[test]
    fn fractions_outside_unit_interval_are_refused() {
        assert!(check_fraction("d", "val-fraction", 1.0).is_err());
        assert!(check_fraction("d", "val-fraction", -0.1).is_err());
        assert!(check_fraction("d", "val-fraction", 0.0).is_ok());
    }
}
