//! MMPareto trains end to end on small synthetic-av (M = 2) and synthetic-av3 (M = 3).

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::data::{Dataset, EncoderChoice};
use harness_core::method::{Method, check_requirements};
use harness_core::model::ModelPlan;
use harness_core::optim::OptimizerConfig;
use harness_core::options::Options;
use harness_core::trainer::{Quiet, TrainConfig, TrainOutcome, train};
use method_mmpareto::MmPareto;
use tch::Device;

fn mlp() -> EncoderChoice {
    EncoderChoice { name: "mlp".into(), options: toml::from_str("hidden = [16]\nout-dim = 16").unwrap() }
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 16,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    }
}

fn run(data: &dyn Dataset, fusion: &str) -> TrainOutcome {
    let m = data.spec().modalities.len();
    let mut method = MmPareto::from_options(&Options::new()).unwrap();
    check_requirements("mmpareto", &method.requirements(), data.spec(), m, fusion).unwrap();
    let plan = ModelPlan {
        modalities: (0..m).collect(),
        encoders: vec![mlp(); m],
        fusion: fusion.into(),
        fusion_options: Options::new(),
    };
    train(&mut method, data, &plan, &config(), Device::Cpu, None, &mut Quiet).unwrap()
}

fn check(out: &TrainOutcome, modalities: &[&str]) {
    assert_eq!(out.epochs.len(), 3);
    for e in &out.epochs {
        assert!(e.train_loss.is_finite(), "epoch {}: loss {}", e.epoch, e.train_loss);
        for (head, metrics) in e.val.heads.iter().chain(&e.test.heads) {
            for (k, v) in metrics {
                assert!(v.is_finite(), "epoch {} head {head} {k} = {v}", e.epoch);
            }
        }
        // Every modality has its separate head reported, and its cosine traced.
        for m in modalities {
            assert!(e.val.get(m, "accuracy").is_some(), "no head {m}");
            assert!(e.traces.iter().any(|t| t.name == "mmpareto-cos" && t.key == *m && t.value.is_finite()));
        }
    }
    let acc = out.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.2 + 0.1, "fused val accuracy {acc} is not above chance (0.2)");
}

#[test]
fn mmpareto_trains_three_epochs_on_synthetic_av_with_finite_metrics_above_chance() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    check(&run(&data, "late"), &["audio", "visual"]);
}

#[test]
fn mmpareto_trains_on_synthetic_av3_with_three_modalities() {
    let data = SyntheticAv3Config { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    check(&run(&data, "late"), &["audio", "visual", "text"]);
}

#[test]
fn mmpareto_works_with_a_non_decomposing_fusion() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    check(&run(&data, "film"), &["audio", "visual"]);
}

#[test]
fn mmpareto_is_registered() {
    let entry = harness_core::method::lookup("mmpareto").unwrap();
    assert!((entry.build)(&Options::new()).is_ok());
}
