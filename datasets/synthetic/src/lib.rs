//! Embedded synthetic datasets, generated from a seed: no files, no downloads.
//!
//! They reproduce the phenomenon the harness is about, modality imbalance: one modality is fast
//! to fit but less informative (the dominant one), another is slower to learn but carries more
//! information (the weak one). Under joint training the fused loss is soon driven down by the
//! dominant modality, the gradient reaching the weak encoder shrinks, and the weak modality's
//! head ends up well below the same encoder trained alone.
//!
//! - [`av`]: `synthetic-av`, audio (dominant) + visual (weak), classification.
//! - [`av3`]: `synthetic-av3`, audio + visual + text, classification.
//! - [`misme`]: `synthetic-misme`, image + tabular regression standing in for MIS-ME.
//!
//! Generation is parallel (rayon, one RNG stream per sample derived from the seed) and
//! deterministic: the same options give bit-identical data on any number of threads.

pub mod augment;
pub mod av;
pub mod av3;
pub mod misme;
mod sampling;

pub use augment::SyntheticDataset;
pub use av::SyntheticAvConfig;
pub use av3::SyntheticAv3Config;
pub use misme::SyntheticMisMeConfig;
