//! How each metric is ranked and printed (docs/results-store.md lists the metric names).

use std::collections::BTreeSet;

/// Display and ranking rules of one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricInfo {
    /// Whether a larger value is better (accuracy) or worse (MAPE, loss).
    pub higher_is_better: bool,
    /// Factor applied before printing: fractions in [0, 1] are printed as percent, as in the paper.
    pub scale: f64,
    /// Decimals printed.
    pub decimals: usize,
    /// Human-readable name, including the unit.
    pub label: &'static str,
    /// Short name without the unit (panel titles).
    pub short: &'static str,
}

impl MetricInfo {
    /// The rules for `metric`; unknown metrics print with 3 decimals, higher is better.
    pub fn of(metric: &str) -> Self {
        let (higher_is_better, scale, decimals, label, short) = match metric {
            "accuracy" => (true, 100.0, 2, "accuracy (%)", "accuracy"),
            "macro-f1" => (true, 100.0, 2, "macro-F1 (%)", "macro-F1"),
            "mape" => (false, 1.0, 2, "MAPE (%)", "MAPE"),
            "r2" => (true, 1.0, 3, "R2", "R2"),
            "rmse" => (false, 1.0, 3, "RMSE", "RMSE"),
            "loss" => (false, 1.0, 3, "loss", "loss"),
            _ => (true, 1.0, 3, "value", "value"),
        };
        Self { higher_is_better, scale, decimals, label, short }
    }

    /// `value` scaled and rounded to the printed precision, so ranking agrees with what is printed.
    pub fn rounded(&self, value: f64) -> f64 {
        let factor = 10f64.powi(self.decimals as i32);
        (value * self.scale * factor).round() / factor
    }

    /// `value` scaled and printed with the metric's precision.
    pub fn format(&self, value: f64) -> String {
        format!("{:.*}", self.decimals, value * self.scale)
    }
}

/// The metric a dataset is ranked on: accuracy for classification, MAPE for regression.
pub fn primary_metric(available: &BTreeSet<String>) -> Option<&str> {
    ["accuracy", "mape", "r2", "macro-f1", "rmse", "loss"]
        .into_iter()
        .find(|m| available.contains(*m))
        .or_else(|| available.iter().next().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_prints_as_percent_with_two_decimals() {
        let info = MetricInfo::of("accuracy");
        assert_eq!(info.format(0.81234), "81.23");
        assert_eq!(info.rounded(0.81236), 81.24);
    }

    #[test]
    fn regression_datasets_rank_on_mape() {
        let metrics: BTreeSet<String> = ["r2", "mape", "loss"].iter().map(|s| s.to_string()).collect();
        assert_eq!(primary_metric(&metrics), Some("mape"));
        assert!(!MetricInfo::of("mape").higher_is_better);
    }
}
