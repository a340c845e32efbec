//! Encoders: turn one modality's input `[B, ...shape]` into a feature vector `[B, D]`.
//!
//! Encoders are built by name from a registered [`EncoderEntry`] factory with TOML options, so
//! `benchmarks.toml` can pick `mlp`, `cnn` or one of the ResNet-18 variants per modality.

mod cnn;
mod mlp;
mod mobilenet;
mod resnet;
mod tabular;
mod transformer;

pub use cnn::{Cnn, CnnConfig};
pub use mlp::{Mlp, MlpConfig};
pub use mobilenet::{MobileNetV2, MobileNetV2Config};
pub use resnet::{ResNet18, ResNetConfig, ResNetVariant};
pub use tabular::{TabularMlp, TabularMlpConfig};
pub use transformer::{MultiHeadAttention, Pooling, TransformerConfig, TransformerEncoder};

use tch::{Tensor, nn};

use crate::data::{EncoderChoice, ModalitySpec};
use crate::error::{Error, Result};
use crate::options::Options;

/// A modality encoder.
pub trait Encoder: std::fmt::Debug + Send {
    /// Features `[B, D]` for inputs `[B, ...shape]`; `train` switches batch norm and dropout.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor;

    /// The feature dimension D.
    fn out_dim(&self) -> i64;
}

/// Builds an encoder under `path` for a modality with the given options.
pub type EncoderBuilder = fn(path: nn::Path, modality: &ModalitySpec, options: &Options) -> Result<Box<dyn Encoder>>;

/// A registered encoder factory.
#[derive(Debug)]
pub struct EncoderEntry {
    /// Name used in `benchmarks.toml`.
    pub name: &'static str,
    /// One-line description for `harness list`.
    pub description: &'static str,
    /// Builds the encoder under `path` for a modality with the given options.
    pub build: EncoderBuilder,
}

inventory::collect!(EncoderEntry);

/// Every registered encoder, sorted by name.
pub fn registered() -> Vec<&'static EncoderEntry> {
    let mut v: Vec<_> = inventory::iter::<EncoderEntry>.into_iter().collect();
    v.sort_by_key(|e| e.name);
    v
}

/// Looks up an encoder factory by name.
pub fn lookup(name: &str) -> Result<&'static EncoderEntry> {
    inventory::iter::<EncoderEntry>
        .into_iter()
        .find(|e| e.name == name)
        .ok_or_else(|| Error::unknown("encoder", name, registered().iter().map(|e| e.name)))
}

/// Builds the encoder `choice` for `modality` under `path`.
pub fn build(path: nn::Path, modality: &ModalitySpec, choice: &EncoderChoice) -> Result<Box<dyn Encoder>> {
    (lookup(&choice.name)?.build)(path, modality, &choice.options)
}
