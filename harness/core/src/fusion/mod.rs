//! Fusion modules (paper appendix A.3): combine per-modality features into fused logits.
//!
//! Every fusion gives the fused logits. Late, sum and concat also decompose into one unimodal
//! head per modality (specs/methods.md section 0), which is how the harness reports each
//! modality's accuracy inside a multimodal model. FiLM, BiGated and cross-attention do not
//! decompose; they return `None` for the unimodal logits instead of inventing numbers, and
//! [`FusionEntry::decomposes`] says so up front so methods that need heads can refuse them.

mod concat;
mod cross_attention;
mod film;
mod gated;
mod heads;

pub use concat::ConcatFusion;
pub use cross_attention::{CrossAttentionConfig, CrossAttentionFusion};
pub use film::{FilmConfig, FilmFusion};
pub use gated::{GatedConfig, GatedFusion};
pub use heads::{HeadFusion, HeadReduction};

use tch::{Tensor, nn};

use crate::error::{Error, Result};
use crate::options::Options;

/// The fused output of a fusion module.
#[derive(Debug)]
pub struct FusionOutput {
    /// Fused logits `[B, outputs]`.
    pub logits: Tensor,
    /// Per-modality unimodal logits, where the head decomposes.
    pub unimodal: Option<Vec<Tensor>>,
}

/// A fusion module.
pub trait Fusion: std::fmt::Debug + Send {
    /// Fuses features `[B, D_m]` (one per modality) into logits.
    fn forward_t(&self, features: &[Tensor], train: bool) -> FusionOutput;

    /// Modality `m`'s unimodal logits from its feature alone, where the head decomposes
    /// (late, sum, concat); `None` otherwise.
    fn unimodal_logits(&self, m: usize, feature: &Tensor) -> Option<Tensor>;
}

/// Builds a fusion for features of dimensions `dims` and `outputs` logits.
pub type FusionBuilder = fn(path: nn::Path, dims: &[i64], outputs: i64, options: &Options) -> Result<Box<dyn Fusion>>;

/// A registered fusion module.
#[derive(Debug)]
pub struct FusionEntry {
    /// Name used in `benchmarks.toml` (`fusion = "late"`).
    pub name: &'static str,
    /// One-line description for `harness list`.
    pub description: &'static str,
    /// Whether the fused head decomposes into per-modality unimodal heads.
    pub decomposes: bool,
    /// Smallest and largest number of modalities supported.
    pub modalities: (usize, usize),
    /// Builds the fusion for features of dimensions `dims` and `outputs` logits.
    pub build: FusionBuilder,
}

inventory::collect!(FusionEntry);

/// Every registered fusion, sorted by name.
pub fn registered() -> Vec<&'static FusionEntry> {
    let mut v: Vec<_> = inventory::iter::<FusionEntry>.into_iter().collect();
    v.sort_by_key(|e| e.name);
    v
}

/// Looks up a fusion by name.
pub fn lookup(name: &str) -> Result<&'static FusionEntry> {
    inventory::iter::<FusionEntry>
        .into_iter()
        .find(|e| e.name == name)
        .ok_or_else(|| Error::unknown("fusion", name, registered().iter().map(|e| e.name)))
}

/// Builds fusion `name` after checking the modality count.
pub fn build(name: &str, path: nn::Path, dims: &[i64], outputs: i64, options: &Options) -> Result<Box<dyn Fusion>> {
    let entry = lookup(name)?;
    let (lo, hi) = entry.modalities;
    if dims.len() < lo || dims.len() > hi {
        return Err(Error::Incompatible(format!(
            "fusion `{name}` supports {lo} to {hi} modalities, the model has {}",
            dims.len()
        )));
    }
    (entry.build)(path, dims, outputs, options)
}
