//! Per-epoch traces for the paper's figures: a method records named scalars during an epoch
//! (teacher confidence, SMP coefficients, confidence ratios, feature similarity) and the trainer
//! stores their per-epoch means with the cell's metrics.

use std::collections::BTreeMap;

use tch::{Kind, Tensor};

/// Accumulates `(name, key) -> mean` for the current epoch.
///
/// Values can be recorded as host numbers ([`Trace::record`]) or as scalar tensors
/// ([`Trace::record_tensor`]); tensor values are summed on their device and read back once at
/// the end of the epoch, so tracing adds no device synchronisation to a training step.
#[derive(Debug, Default)]
pub struct Trace {
    sums: BTreeMap<(String, String), (f64, usize)>,
    tensor_sums: BTreeMap<(String, String), (Tensor, usize)>,
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

    /// Records one scalar tensor value without reading it back (detached, summed in place).
    pub fn record_tensor(&mut self, name: &str, key: &str, value: &Tensor) {
        let v = value.detach().to_kind(Kind::Double).sum(Kind::Double);
        match self.tensor_sums.get_mut(&(name.to_string(), key.to_string())) {
            Some((sum, n)) => {
                *sum += v;
                *n += 1;
            }
            None => {
                self.tensor_sums.insert((name.to_string(), key.to_string()), (v, 1));
            }
        }
    }

    /// Returns the epoch means and clears the accumulator.
    pub fn finish_epoch(&mut self, epoch: usize) -> Vec<TracePoint> {
        let mut sums = std::mem::take(&mut self.sums);
        for (k, (t, n)) in std::mem::take(&mut self.tensor_sums) {
            let e = sums.entry(k).or_insert((0.0, 0));
            e.0 += t.double_value(&[]);
            e.1 += n;
        }
        sums.into_iter()
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

    #[test]
    fn tensor_values_are_averaged_with_host_values() {
        let mut t = Trace::default();
        t.record_tensor("cos", "audio", &Tensor::from(0.5f32));
        t.record_tensor("cos", "audio", &Tensor::from(1.5f32));
        t.record("cos", "audio", 4.0);
        let pts = t.finish_epoch(0);
        assert_eq!(pts.len(), 1);
        assert!((pts[0].value - 2.0).abs() < 1e-12);
    }
}
