//! # harness-core
//!
//! The API every plugin of the modality-imbalance harness builds on, and the building blocks
//! they share:
//! - [`data`]: the [`Dataset`](data::Dataset) trait, splits, batches and loaders;
//! - [`encoders`]: the [`Encoder`](encoders::Encoder) trait and the MLP, small CNN and
//!   ResNet-18 encoders, registered by name;
//! - [`fusion`]: late, sum, concat, FiLM, BiGated and cross-attention fusion;
//! - [`model`]: the multimodal model and the per-modality parameter groups that gradient
//!   modulation acts on;
//! - [`optim`]: SGD and Adam with PyTorch semantics, and the step LR schedule;
//! - [`method`]: the [`Method`](method::Method) trait and its registry;
//! - [`trainer`]: the epoch loop, evaluation of every head and model selection on validation;
//! - [`teacher`]: unimodal teachers with cached outputs, for distillation methods;
//! - [`metrics`] and [`trace`]: what gets reported;
//! - [`cache`]: the preprocessing cache dataset loaders write decoded tensors to.
//!
//! Plugins register themselves with `inventory`; the `harness` binary links every in-tree
//! plugin crate.

pub mod cache;
pub mod data;
pub mod distill;
pub mod encoders;
pub mod error;
pub mod fusion;
pub mod init;
pub mod method;
pub mod metrics;
pub mod missing;
pub mod model;
pub mod optim;
pub mod options;
pub mod subset;
pub mod teacher;
pub mod trace;
pub mod trainer;

pub use error::{Error, Result};
pub use inventory;
pub use tch;

/// The libtorch version this harness is built and tested against.
pub const TORCH_VERSION: &str = "2.11.0";
