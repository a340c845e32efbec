//! # Unimodal training
//!
//! Trains one modality alone: its encoder plus a linear head, with the task loss. These are the
//! unimodal rows of the paper's Table 1, and the unimodal teachers of G2D, UMT and UME are
//! trained by this method (the runner's teacher store calls it once per modality).
//!
//! - Paper: G2D (ICCV 2025), Table 1 unimodal rows; section 3 (teachers).
//! - Official code: rAIson-Lab/G2D `teacher.py` (ResNet-18 + Linear(512, C), plain CE).
//! - Deviations: the official teacher keeps the best *test* epoch; the harness selects on
//!   validation.
//!
//! The model is the shared [`MultimodalModel`](harness_core::model::MultimodalModel) restricted
//! to one modality; with `late` fusion (the default) its single head is exactly encoder +
//! Linear(D, C), and that head is both the fused output and the modality's head.

use harness_core::data::DatasetSpec;
use harness_core::method::Method;
use harness_core::options::{Options, parse_options, to_options};
use harness_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Options of `unimodal`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UnimodalConfig {
    /// Name of the modality to train (required).
    pub modality: Option<String>,
}

/// Trains a single modality.
#[derive(Debug)]
pub struct Unimodal {
    config: UnimodalConfig,
}

impl Unimodal {
    /// Builds the method; `modality` must be set.
    pub fn from_options(options: &Options) -> Result<Self> {
        let config: UnimodalConfig = parse_options("options of method `unimodal`", options)?;
        if config.modality.is_none() {
            return Err(Error::config(
                "options of method `unimodal`",
                "missing key `modality` (the name of the modality to train, e.g. modality = \"audio\")",
            ));
        }
        Ok(Unimodal { config })
    }

    /// A unimodal method for `modality`.
    pub fn for_modality(modality: &str) -> Self {
        Unimodal { config: UnimodalConfig { modality: Some(modality.to_string()) } }
    }
}

impl Method for Unimodal {
    fn options(&self) -> Options {
        to_options(&self.config)
    }

    fn modalities(&self, spec: &DatasetSpec) -> Result<Vec<usize>> {
        let name = self.config.modality.as_deref().unwrap_or_default();
        Ok(vec![spec.modality_index(name)?])
    }
}

harness_core::register_method!(
    "unimodal",
    "one modality alone (encoder + linear head); option `modality`; also trains the teachers",
    Unimodal
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modality_is_required_and_checked() {
        let err = Unimodal::from_options(&Options::new()).unwrap_err();
        assert!(err.to_string().contains("modality"), "{err}");
        let opts: Options = toml::from_str("modality = \"visual\"").unwrap();
        let u = Unimodal::from_options(&opts).unwrap();
        let spec = DatasetSpec {
            name: "d".into(),
            task: harness_core::data::Task::Classification { classes: 2 },
            modalities: ["audio", "visual"]
                .iter()
                .map(|n| harness_core::data::ModalitySpec {
                    name: n.to_string(),
                    kind: harness_core::data::ModalityKind::Audio,
                    shape: vec![2],
                    default_encoder: harness_core::data::EncoderChoice::named("mlp"),
                })
                .collect(),
        };
        assert_eq!(u.modalities(&spec).unwrap(), vec![1]);
        let err = Unimodal::for_modality("text").modalities(&spec).unwrap_err();
        assert!(err.to_string().contains("audio, visual"), "{err}");
    }
}
