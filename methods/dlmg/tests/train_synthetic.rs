//! DLMG trains end to end on small synthetic-av (fitted and learnable schedules) and on
//! synthetic-av3 (M = 3).

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::data::{Dataset, EncoderChoice};
use harness_core::method::{Method, check_requirements};
use harness_core::model::ModelPlan;
use harness_core::optim::OptimizerConfig;
use harness_core::options::Options;
use harness_core::trainer::{Quiet, TrainConfig, TrainOutcome, train};
use method_dlmg::Dlmg;
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

fn run(data: &dyn Dataset, options: &str) -> (TrainOutcome, Dlmg) {
    let m = data.spec().modalities.len();
    let mut method = Dlmg::from_options(&toml::from_str(options).unwrap()).unwrap();
    check_requirements("dlmg", &method.requirements(), data.spec(), m, "late").unwrap();
    let plan = ModelPlan {
        modalities: (0..m).collect(),
        encoders: vec![mlp(); m],
        fusion: "late".into(),
        fusion_options: Options::new(),
    };
    let out = train(&mut method, data, &plan, &config(), Device::Cpu, None, &mut Quiet).unwrap();
    (out, method)
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
        for m in modalities {
            assert!(e.val.get(m, "accuracy").is_some(), "no head {m}");
        }
        assert!(e.traces.iter().any(|t| t.name == "dlmg-js" && t.value.is_finite()));
    }
    let acc = out.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.2 + 0.1, "fused val accuracy {acc} is not above chance (0.2)");
}

fn av() -> impl Dataset {
    SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap()
}

#[test]
fn dlmg_fitted_trains_three_epochs_on_synthetic_av_with_finite_metrics_above_chance() {
    let (out, _) = run(&av(), "");
    check(&out, &["audio", "visual"]);
    // The traced a1 of epoch 2 is the polynomial's a1(2).
    let a1 = out.epochs[2].traces.iter().find(|t| t.name == "dlmg-weight" && t.key == "cls").unwrap().value;
    assert!((a1 - method_dlmg::fitted_a1(2)).abs() < 1e-12);
}

#[test]
fn dlmg_learnable_updates_the_weights_from_a_validation_batch() {
    let (out, method) = run(&av(), "schedule = \"learnable\"\nlr-alpha = 0.5");
    check(&out, &["audio", "visual"]);
    let (a1, a2) = method.weights();
    assert!((a1 + a2 - 1.0).abs() < 1e-12 && (0.05..=0.95).contains(&a2), "{a1} {a2}");
    let h: Vec<f64> =
        out.epochs.iter().map(|e| e.traces.iter().find(|t| t.name == "dlmg-hvp").unwrap().value).collect();
    assert!(h.iter().all(|h| h.is_finite()) && h.iter().any(|&h| h != 0.0), "{h:?}");
}

#[test]
fn dlmg_trains_on_synthetic_av3_with_three_modalities() {
    let data = SyntheticAv3Config { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let (out, _) = run(&data, "");
    check(&out, &["audio", "visual", "text"]);
}

#[test]
fn dlmg_is_registered() {
    let entry = harness_core::method::lookup("dlmg").unwrap();
    assert!((entry.build)(&Options::new()).is_ok());
}
