//! Per-step cost of a G2D student step (cached teacher outputs, G2D loss, SMP) against a joint
//! training step on the same model and batch (paper appendix A.6.3, Table 10).
//!
//! Run: `cargo bench -p method-g2d --bench step_cost` (optionally `-- ENCODER STEPS`, e.g.
//! `-- resnet18-audio 20`). Prints the median step times and their ratio; the target is
//! at most 1.05x.

use std::time::Instant;

use datasets_synthetic::SyntheticAvConfig;
use harness_core::data::{Dataset, EncoderChoice, Loader, Split};
use harness_core::method::{Method, TrainContext};
use harness_core::model::{ModelPlan, MultimodalModel, ParamGroups};
use harness_core::optim::{Optimizer, OptimizerConfig};
use harness_core::teacher::{Teacher, TeacherSet};
use harness_core::trace::Trace;
use harness_core::trainer::TrainConfig;
use method_g2d::{G2d, G2dConfig};
use method_joint::Joint;
use tch::{Device, nn};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let encoder = args.get(1).cloned().unwrap_or_else(|| "mlp".into());
    let steps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300);
    let options: toml::Table =
        if encoder == "mlp" { toml::from_str("hidden = [256]\nout-dim = 128").unwrap() } else { toml::Table::new() };
    let choice = EncoderChoice { name: encoder.clone(), options };
    tch::manual_seed(0);
    let data = SyntheticAvConfig { train: 512, val: 16, test: 16, ..Default::default() }.generate().unwrap();
    let spec = data.spec().clone();
    let plan = |m: Vec<usize>| ModelPlan {
        encoders: vec![choice.clone(); m.len()],
        modalities: m,
        fusion: "late".into(),
        fusion_options: Default::default(),
    };
    let teachers = TeacherSet {
        teachers: (0..2)
            .map(|m| {
                let vs = nn::VarStore::new(Device::Cpu);
                let model = MultimodalModel::new(&vs.root(), &spec, &plan(vec![m])).unwrap();
                Teacher::new(m, model, vs, &data, 64).unwrap()
            })
            .collect(),
    };
    let batch = Loader::new(512, Split::Train, 16, Some(1)).load(&data, 0, Device::Cpu).unwrap();
    let cfg = OptimizerConfig::Sgd { lr: 1e-3, momentum: 0.9, weight_decay: 1e-4 };
    let config = TrainConfig {
        epochs: 2,
        batch_size: 16,
        eval_batch_size: None,
        optimizer: cfg.clone(),
        lr_schedule: None,
        seed: 0,
    };
    let time_method = |method: &mut dyn Method| {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = MultimodalModel::new(&vs.root(), &spec, &plan(vec![0, 1])).unwrap();
        let params = ParamGroups::new(&vs);
        let mut optimizer =
            Optimizer::new(cfg.clone(), params.all.iter().map(|(_, t)| t.shallow_clone()).collect()).unwrap();
        let mut trace = Trace::default();
        let mut ctx = TrainContext {
            model: &model,
            vs: &vs,
            params: &params,
            optimizer: &mut optimizer,
            dataset: &data,
            teachers: Some(&teachers),
            config: &config,
            epoch: 0,
            step: 0,
            steps_per_epoch: steps,
            device: Device::Cpu,
            trace: &mut trace,
        };
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
    println!("encoder {encoder}, batch 16, {steps} steps x 3 rounds (median)");
    println!("joint step: {:.3} ms", j * 1e3);
    println!("g2d step:   {:.3} ms (cached teacher outputs, G2D loss, SMP)", g * 1e3);
    println!("ratio g2d/joint: {:.3}x", g / j);
}
