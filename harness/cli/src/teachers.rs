//! The teacher store: unimodal teachers trained once per key and reused by every cell and run.
//!
//! A teacher is the `unimodal` method's model for one modality. Its key hashes the dataset (name
//! and options), the modality, the encoder, the teacher training settings and the seed. The first
//! cell that needs a key trains it (selected on validation), saves its weights, its outputs on
//! every split (features and logits, computed in eval mode; see `harness_core::teacher`) and a
//! `meta.json`. Later cells and later runs load it; `--retrain-teachers` retrains each key once
//! per run. A per-key lock makes concurrent cells (`--jobs`) train a key only once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use harness_core::data::{Dataset, Split};
use harness_core::method::Method;
use harness_core::model::{ModelPlan, MultimodalModel};
use harness_core::teacher::{Teacher, TeacherSet};
use harness_core::trainer::{self, Observer};
use method_unimodal::Unimodal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tch::{Device, Tensor, nn};

use crate::config::TrainSettings;
use crate::matrix::train_config;
use crate::store::write_atomic;

/// Identity of a teacher.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TeacherKey {
    /// Registered dataset name.
    pub dataset: String,
    /// Dataset options (JSON form).
    pub dataset_options: serde_json::Value,
    /// Modality name.
    pub modality: String,
    /// The teacher's model plan (encoder and head).
    pub plan: ModelPlan,
    /// Training settings.
    pub train: TrainSettings,
    /// Seed.
    pub seed: u64,
}

impl TeacherKey {
    /// Short hash naming the store entry.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(serde_json::to_vec(self).unwrap_or_default());
        digest.iter().take(8).fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

/// `meta.json` of a stored teacher.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TeacherMeta {
    /// The key.
    pub key: TeacherKey,
    /// Epoch selected on validation.
    pub selected_epoch: usize,
    /// Validation metrics of the selected epoch (fused head = the teacher's head).
    pub val: BTreeMap<String, f64>,
    /// Test metrics of the selected epoch.
    pub test: BTreeMap<String, f64>,
}

/// Counters of what the store did during a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TeacherStats {
    /// Teachers trained in this run.
    pub trained: usize,
    /// Teachers loaded from the store.
    pub reused: usize,
}

/// The on-disk teacher store.
#[derive(Debug)]
pub struct TeacherStore {
    root: PathBuf,
    retrain: bool,
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    retrained: Mutex<BTreeSet<String>>,
    stats: Mutex<TeacherStats>,
}

impl TeacherStore {
    /// A store under `root`; with `retrain`, every key is retrained once in this run.
    pub fn new(root: PathBuf, retrain: bool) -> Self {
        TeacherStore { root, retrain, locks: Mutex::default(), retrained: Mutex::default(), stats: Mutex::default() }
    }

    /// What the store did so far.
    pub fn stats(&self) -> TeacherStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Directory of a key.
    pub fn dir(&self, key: &TeacherKey) -> PathBuf {
        self.root.join(format!("{}-{}-{}", key.dataset, key.modality, key.hash()))
    }

    /// The teachers of every modality of `dataset` for `plan`'s encoders, trained if needed.
    #[allow(clippy::too_many_arguments)]
    pub fn teachers(
        &self,
        dataset: &dyn Dataset,
        dataset_options: &serde_json::Value,
        plan: &ModelPlan,
        train: &TrainSettings,
        seed: u64,
        device: Device,
        observer: &mut dyn Observer,
    ) -> Result<TeacherSet> {
        let spec = dataset.spec();
        let mut teachers = Vec::new();
        for (pos, &m) in plan.modalities.iter().enumerate() {
            let key = TeacherKey {
                dataset: spec.name.clone(),
                dataset_options: dataset_options.clone(),
                modality: spec.modalities[m].name.clone(),
                plan: ModelPlan {
                    modalities: vec![m],
                    encoders: vec![plan.encoders[pos].clone()],
                    fusion: "late".into(),
                    fusion_options: Default::default(),
                },
                train: train.clone(),
                seed,
            };
            teachers.push(self.teacher(dataset, &key, device, observer)?);
        }
        Ok(TeacherSet { teachers })
    }

    fn teacher(
        &self,
        dataset: &dyn Dataset,
        key: &TeacherKey,
        device: Device,
        observer: &mut dyn Observer,
    ) -> Result<Teacher> {
        let hash = key.hash();
        let lock = {
            let mut locks = self.locks.lock().expect("teacher lock table poisoned");
            locks.entry(hash.clone()).or_default().clone()
        };
        let _guard = lock.lock().expect("teacher lock poisoned");
        let dir = self.dir(key);
        let must_retrain = self.retrain && self.retrained.lock().expect("poisoned").insert(hash);
        if !must_retrain
            && dir.join("meta.json").exists()
            && let Ok(t) = self.load(dataset, key, &dir, device)
        {
            self.stats.lock().expect("poisoned").reused += 1;
            return Ok(t);
        }
        let t = self.train(dataset, key, &dir, device, observer)?;
        self.stats.lock().expect("poisoned").trained += 1;
        Ok(t)
    }

    fn train(
        &self,
        dataset: &dyn Dataset,
        key: &TeacherKey,
        dir: &Path,
        device: Device,
        observer: &mut dyn Observer,
    ) -> Result<Teacher> {
        let mut method = Unimodal::for_modality(&key.modality);
        let config = train_config(&key.train, key.seed);
        let outcome =
            trainer::train(&mut method as &mut dyn Method, dataset, &key.plan, &config, device, None, observer)
                .with_context(|| format!("training the `{}` teacher", key.modality))?;
        let selected = outcome.selected().clone();
        let teacher =
            Teacher::new(key.plan.modalities[0], outcome.model, outcome.vs, dataset, config.eval_batch_size())?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        save_tensors(&dir.join("weights.ot"), &teacher.vs.variables().into_iter().collect::<Vec<_>>())?;
        let mut cache = Vec::new();
        for (split, (f, l)) in Split::ALL.iter().zip(&teacher.cache) {
            cache.push((format!("{split}.features"), f.shallow_clone()));
            cache.push((format!("{split}.logits"), l.shallow_clone()));
        }
        save_tensors(&dir.join("outputs.ot"), &cache)?;
        let meta = TeacherMeta {
            key: key.clone(),
            selected_epoch: outcome.selected_epoch,
            val: selected.val.heads.get("fused").cloned().unwrap_or_default(),
            test: selected.test.heads.get("fused").cloned().unwrap_or_default(),
        };
        write_atomic(&dir.join("meta.json"), serde_json::to_string_pretty(&meta)?.as_bytes())?;
        Ok(teacher)
    }

    fn load(&self, dataset: &dyn Dataset, key: &TeacherKey, dir: &Path, device: Device) -> Result<Teacher> {
        let meta: TeacherMeta = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json"))?)?;
        if meta.key != *key {
            bail!("teacher store entry {} belongs to another key", dir.display());
        }
        let mut vs = nn::VarStore::new(device);
        let model = MultimodalModel::new(&vs.root(), dataset.spec(), &key.plan)?;
        vs.load(dir.join("weights.ot")).with_context(|| format!("loading {}", dir.join("weights.ot").display()))?;
        let outputs: HashMap<String, Tensor> = Tensor::load_multi_with_device(dir.join("outputs.ot"), device)
            .with_context(|| format!("loading {}", dir.join("outputs.ot").display()))?
            .into_iter()
            .collect();
        let mut cache = Vec::new();
        for split in Split::ALL {
            let f = outputs.get(&format!("{split}.features")).context("missing cached features")?;
            let l = outputs.get(&format!("{split}.logits")).context("missing cached logits")?;
            if f.size()[0] as usize != dataset.len(split) {
                bail!("cached {split} outputs have {} rows, the dataset has {}", f.size()[0], dataset.len(split));
            }
            cache.push((f.shallow_clone(), l.shallow_clone()));
        }
        Ok(Teacher::from_cache(key.plan.modalities[0], model, vs, cache))
    }
}

fn save_tensors(path: &Path, named: &[(String, Tensor)]) -> Result<()> {
    let tmp = path.with_extension("ot.tmp");
    let refs: Vec<(&str, &Tensor)> = named.iter().map(|(n, t)| (n.as_str(), t)).collect();
    Tensor::save_multi(&refs, &tmp).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {}", tmp.display()))?;
    Ok(())
}
