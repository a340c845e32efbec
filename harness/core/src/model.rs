//! The multimodal model: one encoder per modality plus a fusion module, with the parameter
//! groups that gradient-modulation methods act on.
//!
//! Parameter paths mirror the module tree: `encoders.<modality>.<layer>...`, `fusion....` and
//! `method....` for modules a method adds (separate heads, a shared head, prototypes). So a
//! modality's encoder parameters are found by name, and [`GradScope`] picks either its kernels
//! (the official G2D/OGM-GE behaviour) or all of its parameters.

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use crate::data::{Batch, DatasetSpec, EncoderChoice, Task};
use crate::encoders::{self, Encoder};
use crate::error::{Error, Result};
use crate::fusion::{self, Fusion};
use crate::options::Options;

/// Which parameters of an encoder a gradient coefficient scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GradScope {
    /// Weight tensors of two or more dimensions: conv kernels, and for encoders without
    /// convolutions (MLP) their weight matrices. On ResNet-18, whose only such tensors are conv
    /// kernels, this is exactly the official code's "4-D parameters". Biases and norm
    /// parameters are left alone.
    #[default]
    Kernels,
    /// Every parameter of the encoder.
    All,
}

/// The output of a forward pass.
#[derive(Debug)]
pub struct ModelOutput {
    /// Pooled features `[B, D_m]`, one per model modality.
    pub features: Vec<Tensor>,
    /// Fused logits `[B, outputs]`.
    pub logits: Tensor,
    /// Unimodal logits per model modality, where the fusion decomposes.
    pub unimodal: Option<Vec<Tensor>>,
}

/// What to build: which dataset modalities the model uses, their encoders and the fusion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPlan {
    /// Indices of the dataset modalities used, in order.
    pub modalities: Vec<usize>,
    /// The encoder of each used modality.
    pub encoders: Vec<EncoderChoice>,
    /// Registered fusion name.
    pub fusion: String,
    /// Fusion options.
    #[serde(default)]
    pub fusion_options: Options,
}

/// Encoders plus fusion.
#[derive(Debug)]
pub struct MultimodalModel {
    /// Dataset modality index of each model modality.
    pub modalities: Vec<usize>,
    /// Names of the model modalities (the head names in results).
    pub names: Vec<String>,
    /// One encoder per model modality.
    pub encoders: Vec<Box<dyn Encoder>>,
    /// The fusion module.
    pub fusion: Box<dyn Fusion>,
    /// Whether the fusion decomposes into unimodal heads.
    pub decomposes: bool,
    /// The task.
    pub task: Task,
}

impl MultimodalModel {
    /// Builds the model of `plan` for `spec` under `root`.
    pub fn new(root: &nn::Path, spec: &DatasetSpec, plan: &ModelPlan) -> Result<Self> {
        if plan.modalities.is_empty() {
            return Err(Error::Incompatible("a model needs at least one modality".into()));
        }
        let mut encs = Vec::new();
        let mut names = Vec::new();
        for (&m, choice) in plan.modalities.iter().zip(&plan.encoders) {
            let ms = &spec.modalities[m];
            let path = root / "encoders" / ms.name.as_str();
            encs.push(encoders::build(path, ms, choice).map_err(|e| match e {
                Error::Config { context, message } => {
                    Error::Config { context: format!("{context} (modality `{}`)", ms.name), message }
                }
                other => other,
            })?);
            names.push(ms.name.clone());
        }
        let dims: Vec<i64> = encs.iter().map(|e| e.out_dim()).collect();
        let entry = fusion::lookup(&plan.fusion)?;
        let fusion = fusion::build(&plan.fusion, root / "fusion", &dims, spec.task.outputs(), &plan.fusion_options)?;
        Ok(MultimodalModel {
            modalities: plan.modalities.clone(),
            names,
            encoders: encs,
            fusion,
            decomposes: entry.decomposes,
            task: spec.task,
        })
    }

    /// Number of model modalities.
    pub fn num_modalities(&self) -> usize {
        self.encoders.len()
    }

    /// Encodes model modality `m` from the batch.
    pub fn encode(&self, m: usize, batch: &Batch, train: bool) -> Tensor {
        self.encoders[m].forward_t(&batch.inputs[self.modalities[m]], train)
    }

    /// Encodes every model modality.
    pub fn features(&self, batch: &Batch, train: bool) -> Vec<Tensor> {
        (0..self.num_modalities()).map(|m| self.encode(m, batch, train)).collect()
    }

    /// Fuses given features (lets methods zero or detach a feature before fusion).
    pub fn fuse(&self, features: Vec<Tensor>, train: bool) -> ModelOutput {
        let out = self.fusion.forward_t(&features, train);
        ModelOutput { features, logits: out.logits, unimodal: out.unimodal }
    }

    /// Full forward pass.
    pub fn forward_t(&self, batch: &Batch, train: bool) -> ModelOutput {
        let features = self.features(batch, train);
        self.fuse(features, train)
    }
}

/// Named parameters of a var store, grouped for gradient surgery.
#[derive(Debug)]
pub struct ParamGroups {
    /// `(name, tensor)` of every trainable variable, sorted by name.
    pub all: Vec<(String, Tensor)>,
}

impl ParamGroups {
    /// Collects the trainable variables of `vs`.
    pub fn new(vs: &nn::VarStore) -> Self {
        let mut all: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        ParamGroups { all }
    }

    /// Parameters whose name starts with `prefix.`.
    pub fn under(&self, prefix: &str) -> Vec<Tensor> {
        let p = format!("{prefix}.");
        self.all.iter().filter(|(n, _)| n.starts_with(&p)).map(|(_, t)| t.shallow_clone()).collect()
    }

    /// The parameters of modality `name`'s encoder selected by `scope`.
    pub fn encoder(&self, name: &str, scope: GradScope) -> Vec<Tensor> {
        self.under(&format!("encoders.{name}"))
            .into_iter()
            .filter(|t| scope == GradScope::All || t.dim() >= 2)
            .collect()
    }
}

/// Multiplies the gradients of `params` by `k` in place (before the optimizer step, as the
/// reference code does). Undefined gradients are skipped. A coefficient of 0 is not a freeze:
/// weight decay and momentum still act in [`crate::optim::Optimizer::step`].
pub fn scale_grads(params: &[Tensor], k: f64) {
    tch::no_grad(|| {
        for p in params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.g_mul_scalar_(k);
            }
        }
    });
}

/// Multiplies by `k` the gradients of model modality `m`'s encoder (every parameter) and of
/// its unimodal head: `fusion.head{m}.*` for late/sum fusion, or the column block of
/// `fusion.fc.weight` that reads modality `m`'s features for concat fusion (the shared bias is
/// left alone). Other fusions have no per-modality head, so only the encoder is scaled. Used by
/// MSLR's learning-rate coefficients and by MSES's stopped modalities (k = 0).
pub fn scale_modality_grads(params: &ParamGroups, model: &MultimodalModel, m: usize, k: f64) {
    scale_grads(&params.encoder(&model.names[m], GradScope::All), k);
    let head = params.under(&format!("fusion.head{m}"));
    if !head.is_empty() {
        scale_grads(&head, k);
        return;
    }
    let dims: Vec<i64> = model.encoders.iter().map(|e| e.out_dim()).collect();
    if let Some((_, w)) = params.all.iter().find(|(n, _)| n == "fusion.fc.weight")
        && w.dim() == 2
        && w.size()[1] == dims.iter().sum::<i64>()
    {
        let start: i64 = dims[..m].iter().sum();
        tch::no_grad(|| {
            let g = w.grad();
            if g.defined() {
                let _ = g.narrow(1, start, dims[m]).g_mul_scalar_(k);
            }
        });
    }
}

/// Detached copies of every variable, to restore later (best-epoch selection, MSES roll-back).
#[derive(Debug)]
pub struct Snapshot(Vec<(String, Tensor)>);

impl Snapshot {
    /// Copies every variable of `vs` (trainable weights and buffers such as BN statistics).
    pub fn take(vs: &nn::VarStore) -> Self {
        let mut v: Vec<(String, Tensor)> = vs.variables().into_iter().map(|(n, t)| (n, t.detach().copy())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Snapshot(v)
    }

    /// Writes the copied values back into `vs`.
    pub fn restore(&self, vs: &nn::VarStore) {
        let vars = vs.variables();
        tch::no_grad(|| {
            for (n, t) in &self.0 {
                if let Some(mut dst) = vars.get(n).map(|t| t.shallow_clone()) {
                    dst.copy_(t);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ModalityKind, ModalitySpec};
    use tch::{Device, Kind};

    fn spec() -> DatasetSpec {
        let m = |name: &str| ModalitySpec {
            name: name.into(),
            kind: ModalityKind::Tabular,
            shape: vec![6],
            default_encoder: EncoderChoice::named("mlp"),
        };
        DatasetSpec { name: "toy".into(), task: Task::Classification { classes: 3 }, modalities: vec![m("a"), m("b")] }
    }

    /// Builds a two-modality model with `fusion`, back-propagates sum(logits), scales modality 0
    /// by 0.5 and returns (name, gradient before, gradient after) of every parameter.
    fn scaled(fusion: &str) -> Vec<(String, Tensor, Tensor)> {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let mlp = EncoderChoice { name: "mlp".into(), options: toml::from_str("hidden = [5]\nout-dim = 4").unwrap() };
        let plan = ModelPlan {
            modalities: vec![0, 1],
            encoders: vec![mlp.clone(), mlp],
            fusion: fusion.into(),
            fusion_options: Options::new(),
        };
        let model = MultimodalModel::new(&vs.root(), &spec(), &plan).unwrap();
        let params = ParamGroups::new(&vs);
        let batch = Batch {
            inputs: (0..2).map(|_| Tensor::randn([3, 6], (Kind::Float, Device::Cpu))).collect(),
            targets: Tensor::from_slice(&[0i64, 1, 2]),
            index: Tensor::from_slice(&[0i64, 1, 2]),
            present: None,
        };
        model.forward_t(&batch, true).logits.sum(Kind::Float).backward();
        let before: Vec<Tensor> = params.all.iter().map(|(_, p)| p.grad().copy()).collect();
        scale_modality_grads(&params, &model, 0, 0.5);
        params.all.iter().zip(before).map(|((n, p), b)| (n.clone(), b, p.grad().copy())).collect()
    }

    #[test]
    fn scale_modality_grads_scales_the_encoder_and_its_late_head() {
        for (name, before, after) in scaled("late") {
            let k = if name.starts_with("encoders.a.") || name.starts_with("fusion.head0.") { 0.5 } else { 1.0 };
            assert!(after.allclose(&(&before * k), 1e-6, 1e-7, false), "{name}");
        }
    }

    #[test]
    fn scale_modality_grads_scales_the_concat_column_block_only() {
        for (name, before, after) in scaled("concat") {
            if name == "fusion.fc.weight" {
                // Modality a's features are columns 0..4 of the concatenated 8.
                assert!(after.narrow(1, 0, 4).allclose(&(before.narrow(1, 0, 4) * 0.5), 1e-6, 1e-7, false));
                assert!(after.narrow(1, 4, 4).equal(&before.narrow(1, 4, 4)));
            } else {
                let k = if name.starts_with("encoders.a.") { 0.5 } else { 1.0 };
                assert!(after.allclose(&(&before * k), 1e-6, 1e-7, false), "{name}");
            }
        }
    }
}
