//! After backward and the SMP step, the suppressed encoder's kernel gradients are exactly 0 and
//! every other gradient is untouched.

use harness_core::data::{Dataset, EncoderChoice, Loader, Split};
use harness_core::method::Method;
use harness_core::model::{GradScope, ModelPlan, MultimodalModel};
use harness_core::optim::OptimizerConfig;
use harness_core::teacher::{Teacher, TeacherSet};
use harness_core::trainer::TrainConfig;
use harness_testkit::{StepHarness, av};
use method_g2d::{G2d, G2dConfig};
use tch::{Device, nn};

fn cnn() -> EncoderChoice {
    let options: toml::Table = toml::from_str("channels = [4]\nout-dim = 8").unwrap();
    EncoderChoice { name: "cnn".into(), options }
}

fn plan(modalities: Vec<usize>) -> ModelPlan {
    harness_testkit::plan(modalities, cnn(), "late")
}

#[test]
fn suppressed_encoder_kernels_get_exactly_zero_gradient_and_others_are_untouched() {
    tch::manual_seed(0);
    let data = av(32, 8, 8);
    let spec = data.spec().clone();
    let teachers = TeacherSet {
        teachers: (0..2)
            .map(|m| {
                let vs = nn::VarStore::new(Device::Cpu);
                let model = MultimodalModel::new(&vs.root(), &spec, &plan(vec![m])).unwrap();
                Teacher::new(m, model, vs, &data, 16).unwrap()
            })
            .collect(),
    };
    let cfg = OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, weight_decay: 1e-4 };
    let config =
        TrainConfig { epochs: 10, batch_size: 16, eval_batch_size: None, optimizer: cfg, lr_schedule: None, seed: 0 };
    let mut h = StepHarness::new(&spec, &plan(vec![0, 1]), config);
    let mut g2d = G2d::new(G2dConfig::default()).unwrap();
    let batch = Loader::new(32, Split::Train, 16, Some(1)).load(&data, 0, Device::Cpu).unwrap();
    let mut ctx = h.context(&data, Some(&teachers), 2);
    let out = ctx.model.forward_t(&batch, true);
    let loss = g2d.loss(&mut ctx, &batch, &out).unwrap();
    ctx.optimizer.zero_grad().unwrap();
    loss.backward();
    let before: Vec<(String, tch::Tensor)> = ctx.params.all.iter().map(|(n, t)| (n.clone(), t.grad().copy())).collect();
    g2d.modulate_gradients(&mut ctx, &batch, &out).unwrap();

    // Which modality is suppressed follows the teachers' confidence on this batch.
    let points = h.trace.finish_epoch(0);
    let coeff = |name: &str| points.iter().find(|p| p.name == "smp-coefficient" && p.key == name).unwrap().value;
    let (kept, suppressed) = if coeff("audio") == 0.0 { ("visual", "audio") } else { ("audio", "visual") };
    assert_eq!(coeff(kept), 1.0);
    assert_eq!(coeff(suppressed), 0.0);

    let kernels: Vec<String> = h
        .params
        .all
        .iter()
        .filter(|(n, t)| n.starts_with(&format!("encoders.{suppressed}.")) && t.dim() >= 2)
        .map(|(n, _)| n.clone())
        .collect();
    assert!(kernels.iter().any(|n| n.contains("conv")), "the CNN has conv kernels: {kernels:?}");
    for (name, t) in &h.params.all {
        let g = t.grad();
        let old = &before.iter().find(|(n, _)| n == name).unwrap().1;
        if kernels.contains(name) {
            assert_eq!(g.abs().max().double_value(&[]), 0.0, "{name} should be zero");
            assert!(old.abs().max().double_value(&[]) > 0.0, "{name} had a gradient before SMP");
        } else {
            assert!(g.equal(old), "{name} must be untouched");
        }
    }
    // The scope covers exactly those kernels.
    assert_eq!(h.params.encoder(suppressed, GradScope::Kernels).len(), kernels.len());
}
