//! Per-step cost of a G2D student step (cached teacher outputs, G2D loss, SMP) against a joint
//! training step on the same model and batch (paper appendix A.6.3, Table 10).
//!
//! Run: `cargo bench -p method-g2d --bench step_cost` (optionally `-- ENCODER STEPS SIZE`, e.g.
//! `-- resnet18-audio 20 64`). With `mlp` the inputs are synthetic-av vectors; with a conv
//! encoder (`cnn`, `resnet18-audio`) both modalities are random 1 x SIZE x SIZE spectrograms.
//! Prints the median step times and their ratio; the target is at most 1.05x.

use std::time::Instant;

use datasets_synthetic::av::ModalitySignal;
use datasets_synthetic::{SyntheticAvConfig, SyntheticDataset};
use harness_core::data::{
    Dataset, DatasetSpec, EncoderChoice, InMemoryDataset, InMemorySplit, Loader, ModalityKind, ModalitySpec, Split,
    Task,
};
use harness_core::method::Method;
use harness_core::model::MultimodalModel;
use harness_core::optim::OptimizerConfig;
use harness_core::teacher::{Teacher, TeacherSet};
use harness_core::trainer::TrainConfig;
use harness_testkit::{StepHarness, mlp, plan};
use method_g2d::{G2d, G2dConfig};
use method_joint::Joint;
use tch::{Device, Kind, Tensor, nn};

/// synthetic-av without training augmentation, so both teachers are served from the cache.
fn clean_av() -> SyntheticDataset {
    let defaults = SyntheticAvConfig::default();
    let visual = ModalitySignal { augment_noise: 0.0, ..defaults.visual };
    SyntheticAvConfig { train: 512, val: 16, test: 16, visual, ..defaults }.generate().unwrap()
}

/// Random two-modality spectrogram data, `n` training samples of 1 x size x size, 6 classes.
fn image_data(n: usize, size: i64) -> InMemoryDataset {
    let modality = |name: &str| ModalitySpec {
        name: name.into(),
        kind: ModalityKind::Audio,
        shape: vec![1, size, size],
        default_encoder: EncoderChoice::named("resnet18-audio"),
    };
    let spec = DatasetSpec {
        name: "bench-images".into(),
        task: Task::Classification { classes: 6 },
        modalities: vec![modality("audio"), modality("visual")],
    };
    let split = |n: i64| InMemorySplit {
        inputs: (0..2).map(|_| Tensor::randn([n, 1, size, size], (Kind::Float, Device::Cpu))).collect(),
        targets: Tensor::randint(6, [n], (Kind::Int64, Device::Cpu)),
        present: None,
    };
    InMemoryDataset::new(spec, split(n as i64), split(16), split(16)).unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let encoder = args.get(1).cloned().unwrap_or_else(|| "mlp".into());
    let steps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300);
    let size: i64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(64);
    let choice = if encoder == "mlp" { mlp(&[256], 128) } else { EncoderChoice::named(&encoder) };
    tch::manual_seed(0);
    let data: Box<dyn Dataset> = if encoder == "mlp" { Box::new(clean_av()) } else { Box::new(image_data(64, size)) };
    let data = data.as_ref();
    let spec = data.spec().clone();
    let late = |m: Vec<usize>| plan(m, choice.clone(), "late");
    let teachers = TeacherSet {
        teachers: (0..2)
            .map(|m| {
                let vs = nn::VarStore::new(Device::Cpu);
                let model = MultimodalModel::new(&vs.root(), &spec, &late(vec![m])).unwrap();
                Teacher::new(m, model, vs, data, 64).unwrap()
            })
            .collect(),
    };
    let batch = Loader::new(data.len(Split::Train), Split::Train, 16, Some(1)).load(data, 0, Device::Cpu).unwrap();
    let config = TrainConfig {
        epochs: 2,
        batch_size: 16,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 1e-3, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    };
    let time_method = |method: &mut dyn Method| {
        let mut h = StepHarness::new(&spec, &late(vec![0, 1]), config.clone());
        let mut ctx = h.context(data, Some(&teachers), steps);
        let mut times = Vec::new();
        for i in 0..steps + 10 {
            let t = Instant::now();
            method.train_step(&mut ctx, &batch).unwrap();
            if i >= 10 {
                times.push(t.elapsed().as_secs_f64());
            }
        }
        median(times)
    };
    // Interleave to even out drift on a shared machine.
    let mut joint_t = Vec::new();
    let mut g2d_t = Vec::new();
    for _ in 0..3 {
        joint_t.push(time_method(&mut Joint));
        g2d_t.push(time_method(&mut G2d::new(G2dConfig::default()).unwrap()));
    }
    let (j, g) = (median(joint_t), median(g2d_t));
    let input = if encoder == "mlp" { "synthetic-av vectors".to_string() } else { format!("1x{size}x{size} inputs") };
    println!("encoder {encoder}, {input}, batch 16, {steps} steps x 3 rounds (median)");
    println!("joint step: {:.3} ms", j * 1e3);
    println!("g2d step:   {:.3} ms (cached teacher outputs, G2D loss, SMP)", g * 1e3);
    println!("ratio g2d/joint: {:.3}x", g / j);
}
