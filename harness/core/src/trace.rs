//! Per-epoch traces for the paper's figures: a method records named scalars during an epoch
//! (teacher confidence, SMP coefficients, confidence ratios, feature similarity) and the trainer
//! stores their per-epoch means with the cell's metrics.

use std::collections::BTreeMap;

/// Accumulates `(name, key) -> mean` for the current epoch.
#[derive(Debug, Default)]
pub struct Trace {
    sums: BTreeMap<(String, String), (f64, usize)>,
}

/// One traced value: the epoch mean of everything recorded under `(name, key)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TracePoint {
    /// Epoch (0-based).
    pub epoch: usize,
    /// What is traced, for example `teacher-confidence`.
    pub name: String,
    /// Which instance, usually a modality name.
    pub key: String,
    /// Epoch mean.
    pub value: f64,
}

impl Trace {
    /// Records one value (typically once per batch).
    pub fn record(&mut self, name: &str, key: &str, value: f64) {
        let e = self.sums.entry((name.to_string(), key.to_string())).or_insert((0.0, 0));
        e.0 += value;
        e.1 += 1;
    }

    /// Returns the epoch means and clears the accumulator.
    pub fn finish_epoch(&mut self, epoch: usize) -> Vec<TracePoint> {
        std::mem::take(&mut self.sums)
            .into_iter()
            .map(|((name, key), (sum, n))| TracePoint { epoch, name, key, value: sum / n.max(1) as f64 })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_reports_epoch_means_and_resets() {
        let mut t = Trace::default();
        t.record("conf", "audio", 1.0);
        t.record("conf", "audio", 3.0);
        t.record("conf", "visual", 0.5);
        let pts = t.finish_epoch(4);
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0], TracePoint { epoch: 4, name: "conf".into(), key: "audio".into(), value: 2.0 });
        assert!(t.finish_epoch(5).is_empty());
    }
}
