//! # Joint training
//!
//! The baseline every modality-imbalance paper compares against: all encoders and the fusion
//! head trained together on the task loss of the fused output (cross-entropy, or MSE on the
//! sigmoid output for regression). Works with every fusion and any number of modalities.
//!
//! - Paper: G2D (ICCV 2025), Table 1 "Joint-Train".
//! - Official code: rAIson-Lab/G2D `student.py` with `modulation='Normal'`.
//! - Spec: specs/methods.md section 2.
//! - Deviations: none; it is the trait's default step.

use harness_core::Result;
use harness_core::method::Method;
use harness_core::options::{Options, parse_options};
use serde::Deserialize;

/// Joint training has no options; the struct exists so unknown keys are rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JointConfig {}

/// Joint training: the default [`Method`] hooks unchanged.
#[derive(Debug, Default)]
pub struct Joint;

impl Joint {
    /// Builds the method, rejecting any option.
    pub fn from_options(options: &Options) -> Result<Self> {
        let _: JointConfig = parse_options("options of method `joint`", options)?;
        Ok(Joint)
    }
}

impl Method for Joint {}

harness_core::register_method!("joint", "joint training: task loss on the fused output (any fusion, any M)", Joint);
