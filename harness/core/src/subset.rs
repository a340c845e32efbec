//! A view of a dataset restricted to some of its modalities, for the paper's modality-pair
//! experiments (Table 2: UR-Funny audio-visual, audio-text, visual-text and the triple).
//! `benchmarks.toml` selects it with `modalities = [...]` on a dataset preset.

use tch::Tensor;

use crate::data::{Batch, Dataset, DatasetSpec, Split};
use crate::error::{Error, Result};

/// `inner` with only the modalities `keep`, in that order.
pub struct ModalitySubset {
    inner: Box<dyn Dataset>,
    keep: Vec<usize>,
    spec: DatasetSpec,
}

impl ModalitySubset {
    /// Keeps the modalities named in `names` (at least one, each once).
    pub fn new(inner: Box<dyn Dataset>, names: &[String]) -> Result<Self> {
        let base = inner.spec().clone();
        if names.is_empty() {
            return Err(Error::config(format!("modalities of dataset `{}`", base.name), "list at least one modality"));
        }
        let mut keep = Vec::new();
        for n in names {
            let m = base.modality_index(n)?;
            if keep.contains(&m) {
                return Err(Error::config(
                    format!("modalities of dataset `{}`", base.name),
                    format!("`{n}` is listed twice"),
                ));
            }
            keep.push(m);
        }
        let spec = DatasetSpec { modalities: keep.iter().map(|&m| base.modalities[m].clone()).collect(), ..base };
        Ok(ModalitySubset { inner, keep, spec })
    }
}

impl Dataset for ModalitySubset {
    fn spec(&self) -> &DatasetSpec {
        &self.spec
    }

    fn len(&self, split: Split) -> usize {
        self.inner.len(split)
    }

    fn targets(&self, split: Split) -> Result<Tensor> {
        self.inner.targets(split)
    }

    fn batch(&self, split: Split, indices: &[usize], augment_seed: Option<u64>) -> Result<Batch> {
        let mut b = self.inner.batch(split, indices, augment_seed)?;
        let mut inputs: Vec<Option<Tensor>> = b.inputs.drain(..).map(Some).collect();
        let keep: Vec<i64> = self.keep.iter().map(|&m| m as i64).collect();
        Ok(Batch {
            inputs: self.keep.iter().map(|&m| inputs[m].take().expect("each modality is kept once")).collect(),
            present: b.present.map(|p| p.index_select(1, &Tensor::from_slice(&keep).to_device(p.device()))),
            targets: b.targets,
            index: b.index,
        })
    }

    fn augments(&self, modality: usize) -> bool {
        self.inner.augments(self.keep[modality])
    }

    fn target_range(&self) -> Option<(f64, f64)> {
        self.inner.target_range()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{EncoderChoice, InMemoryDataset, InMemorySplit, ModalityKind, ModalitySpec, Task};
    use tch::{Device, Kind};

    fn three() -> Box<dyn Dataset> {
        let m = |name: &str, d: i64| ModalitySpec {
            name: name.into(),
            kind: ModalityKind::Tabular,
            shape: vec![d],
            default_encoder: EncoderChoice::named("mlp"),
        };
        let spec = DatasetSpec {
            name: "three".into(),
            task: Task::Classification { classes: 2 },
            modalities: vec![m("audio", 1), m("visual", 2), m("text", 3)],
        };
        let split = || InMemorySplit {
            inputs: (1..=3).map(|d| Tensor::full([4, d], d as f64, (Kind::Float, Device::Cpu))).collect(),
            targets: Tensor::from_slice(&[0i64, 1, 0, 1]),
            present: None,
        };
        Box::new(InMemoryDataset::new(spec, split(), split(), split()).unwrap())
    }

    #[test]
    fn subset_keeps_the_named_modalities_in_the_given_order() {
        let s = ModalitySubset::new(three(), &["text".into(), "audio".into()]).unwrap();
        assert_eq!(s.spec().modality_names(), vec!["text", "audio"]);
        let b = s.batch(Split::Train, &[0, 1], None).unwrap();
        assert_eq!(b.inputs.len(), 2);
        assert_eq!(b.inputs[0].size(), vec![2, 3]);
        assert_eq!(b.inputs[1].size(), vec![2, 1]);
    }

    #[test]
    fn unknown_or_repeated_modalities_are_errors() {
        let e = ModalitySubset::new(three(), &["txt".into()]).err().unwrap().to_string();
        assert!(e.contains("audio, text, visual"), "{e}");
        let e = ModalitySubset::new(three(), &["text".into(), "text".into()]).err().unwrap().to_string();
        assert!(e.contains("twice"), "{e}");
    }
}
