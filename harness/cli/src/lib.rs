//! # harness
//!
//! The command-line side of the modality-imbalance benchmark harness: suite configuration
//! (`benchmarks.toml`), matrix expansion, the runner, the results store, the teacher store and
//! the console summary. The traits and building blocks live in `harness-core`; this crate links
//! every in-tree plugin (see [`plugins`]).
//!
//! Why two crates: plugins depend on the traits, and this crate depends on the plugins (to link
//! them), so the traits cannot live here without a dependency cycle.

pub mod config;
pub mod device;
pub mod list;
pub mod matrix;
pub mod plugins;
pub mod report;
pub mod runner;
pub mod store;
pub mod summary;
pub mod teachers;
