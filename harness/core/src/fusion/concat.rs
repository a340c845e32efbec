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

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn t(values: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(values).view(shape)
    }

    #[test]
    fn concat_heads_are_weight_slices_plus_bias_share() {
        let vs = nn::VarStore::new(Device::Cpu);
        let concat = ConcatFusion::new(&vs.root(), &[2, 1], 2);
        tch::no_grad(|| {
            let vars = vs.variables();
            vars["fc.weight"].shallow_clone().copy_(&t(&[1.0, 2.0, 2.0, 3.0, 4.0, -1.0], &[2, 3]));
            vars["fc.bias"].shallow_clone().copy_(&t(&[0.5, -0.5], &[2]));
        });
        let (f0, f1) = (t(&[1.0, 1.0], &[1, 2]), t(&[3.0], &[1, 1]));
        let out = concat.forward_t(&[f0.shallow_clone(), f1.shallow_clone()], false);
        // Fused: W [1, 1, 3] + b = [1 + 2 + 6 + 0.5, 3 + 4 - 3 - 0.5].
        let fused = t(&[9.5, 3.5], &[1, 2]);
        assert!(out.logits.allclose(&fused, 1e-6, 1e-6, false));
        // Head 0: W[:, 0..2] [1, 1] + b / 2; head 1: W[:, 2..3] [3] + b / 2.
        let (h0, h1) = (t(&[3.25, 6.75], &[1, 2]), t(&[6.25, -3.25], &[1, 2]));
        let unimodal = out.unimodal.unwrap();
        assert!(unimodal[0].allclose(&h0, 1e-6, 1e-6, false));
        assert!(unimodal[1].allclose(&h1, 1e-6, 1e-6, false));
        assert!(concat.unimodal_logits(0, &f0).unwrap().allclose(&h0, 1e-6, 1e-6, false));
        assert!(concat.unimodal_logits(1, &f1).unwrap().allclose(&h1, 1e-6, 1e-6, false));
        // The heads sum to the fused logits.
        assert!((&unimodal[0] + &unimodal[1]).allclose(&fused, 1e-6, 1e-6, false));
    }
}
