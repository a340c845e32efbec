//! Evaluation metrics: accuracy and macro-F1 for classification; MAPE, R² and RMSE for
//! regression (reported in the target's original units by the dataset's inverse scaling).

use std::collections::BTreeMap;

/// Metric name -> value for one head on one split.
pub type MetricMap = BTreeMap<String, f64>;

/// Fraction of predictions equal to the target.
pub fn accuracy(pred: &[i64], target: &[i64]) -> f64 {
    if target.is_empty() {
        return 0.0;
    }
    pred.iter().zip(target).filter(|(p, t)| p == t).count() as f64 / target.len() as f64
}

/// Macro-averaged F1 over the `classes` classes. Classes that never occur in either the
/// predictions or the targets are skipped (scikit-learn's `labels=present` behaviour).
pub fn macro_f1(pred: &[i64], target: &[i64], classes: usize) -> f64 {
    let mut tp = vec![0usize; classes];
    let mut fp = vec![0usize; classes];
    let mut fneg = vec![0usize; classes];
    for (&p, &t) in pred.iter().zip(target) {
        let (p, t) = (p as usize, t as usize);
        if p == t {
            tp[t] += 1;
        } else {
            if p < classes {
                fp[p] += 1;
            }
            if t < classes {
                fneg[t] += 1;
            }
        }
    }
    let mut sum = 0.0;
    let mut n = 0;
    for c in 0..classes {
        if tp[c] + fp[c] + fneg[c] == 0 {
            continue;
        }
        let denom = 2 * tp[c] + fp[c] + fneg[c];
        sum += 2.0 * tp[c] as f64 / denom as f64;
        n += 1;
    }
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Mean absolute percentage error, in percent. Targets equal to zero are skipped.
pub fn mape(pred: &[f64], target: &[f64]) -> f64 {
    let terms: Vec<f64> =
        pred.iter().zip(target).filter(|(_, t)| t.abs() > 1e-12).map(|(p, t)| ((p - t) / t).abs()).collect();
    if terms.is_empty() { 0.0 } else { 100.0 * terms.iter().sum::<f64>() / terms.len() as f64 }
}

/// Coefficient of determination, 1 - SS_res / SS_tot.
pub fn r2(pred: &[f64], target: &[f64]) -> f64 {
    let n = target.len() as f64;
    if n == 0.0 {
        return 0.0;
    }
    let mean = target.iter().sum::<f64>() / n;
    let ss_tot: f64 = target.iter().map(|t| (t - mean).powi(2)).sum();
    let ss_res: f64 = pred.iter().zip(target).map(|(p, t)| (p - t).powi(2)).sum();
    if ss_tot == 0.0 { 0.0 } else { 1.0 - ss_res / ss_tot }
}

/// Root mean squared error.
pub fn rmse(pred: &[f64], target: &[f64]) -> f64 {
    if target.is_empty() {
        return 0.0;
    }
    (pred.iter().zip(target).map(|(p, t)| (p - t).powi(2)).sum::<f64>() / target.len() as f64).sqrt()
}

/// Classification metrics of one head: `accuracy` and `macro-f1`.
pub fn classification(pred: &[i64], target: &[i64], classes: usize) -> MetricMap {
    let mut m = MetricMap::new();
    m.insert("accuracy".into(), accuracy(pred, target));
    m.insert("macro-f1".into(), macro_f1(pred, target, classes));
    m
}

/// Regression metrics of one head: `mape`, `r2` and `rmse`.
pub fn regression(pred: &[f64], target: &[f64]) -> MetricMap {
    let mut m = MetricMap::new();
    m.insert("mape".into(), mape(pred, target));
    m.insert("r2".into(), r2(pred, target));
    m.insert("rmse".into(), rmse(pred, target));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_macro_f1_by_hand() {
        let pred = [0, 1, 1, 2];
        let target = [0, 1, 2, 2];
        assert_eq!(accuracy(&pred, &target), 0.75);
        // class 0: tp1 -> f1 1; class 1: tp1 fp1 -> 2/3; class 2: tp1 fn1 -> 2/3
        let f1 = macro_f1(&pred, &target, 3);
        assert!((f1 - (1.0 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn regression_metrics_by_hand() {
        let pred = [1.0, 2.0, 4.0];
        let target = [1.0, 2.0, 3.0];
        assert!((mape(&pred, &target) - 100.0 / 9.0).abs() < 1e-9);
        assert!((rmse(&pred, &target) - (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
        // mean 2, ss_tot 2, ss_res 1
        assert!((r2(&pred, &target) - 0.5).abs() < 1e-12);
    }
}
