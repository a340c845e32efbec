//! Concatenation fusion (paper A.3.2): z = W [f_1; ...; f_M] + b. Modality m's head is the
//! weight slice of its block plus an equal share of the bias, z_m = W[:, block_m] f_m + b/M
//! (the OGM-GE/G2D convention, specs/methods.md section 0).

use tch::{Tensor, nn};

use super::{Fusion, FusionEntry, FusionOutput};
use crate::error::Result;
use crate::init;
use crate::options::Options;

/// Concat fusion: one linear layer over the concatenated features.
#[derive(Debug)]
pub struct ConcatFusion {
    fc: nn::Linear,
    offsets: Vec<(i64, i64)>,
}

impl ConcatFusion {
    /// Builds the linear layer over `sum(dims)` inputs.
    pub fn new(path: &nn::Path, dims: &[i64], outputs: i64) -> Self {
        let total: i64 = dims.iter().sum();
        let mut offsets = Vec::new();
        let mut start = 0;
        for &d in dims {
            offsets.push((start, d));
            start += d;
        }
        ConcatFusion { fc: init::linear(path / "fc", total, outputs), offsets }
    }
}

impl Fusion for ConcatFusion {
    fn forward_t(&self, features: &[Tensor], _train: bool) -> FusionOutput {
        let logits = Tensor::cat(features, 1).apply(&self.fc);
        let unimodal =
            (0..features.len()).map(|m| self.unimodal_logits(m, &features[m]).expect("concat decomposes")).collect();
        FusionOutput { logits, unimodal: Some(unimodal) }
    }

    fn unimodal_logits(&self, m: usize, feature: &Tensor) -> Option<Tensor> {
        let (start, len) = self.offsets[m];
        let w = self.fc.ws.narrow(1, start, len);
        let share = self.offsets.len() as f64;
        let b = self.fc.bs.as_ref().map(|b| b / share);
        Some(feature.linear(&w, b.as_ref()))
    }
}

fn build(path: nn::Path, dims: &[i64], outputs: i64, _options: &Options) -> Result<Box<dyn Fusion>> {
    Ok(Box::new(ConcatFusion::new(&path, dims, outputs)))
}

inventory::submit! {
    FusionEntry {
        name: "concat",
        description: "concatenation fusion: one linear layer over concatenated features (decomposes by weight slices, b/M)",
        decomposes: true,
        modalities: (1, usize::MAX),
        build,
    }
}
