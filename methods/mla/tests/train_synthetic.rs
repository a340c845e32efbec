//! Trains MLA for a few epochs on small synthetic data through the shared trainer.

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::data::{Dataset, EncoderChoice};
use harness_core::method::Method;
use harness_core::model::ModelPlan;
use harness_core::optim::OptimizerConfig;
use harness_core::options::Options;
use harness_core::trainer::{Quiet, TrainConfig, TrainOutcome, train};
use harness_core::{Error, tch};
use method_mla::Mla;

fn mlp(out_dim: i64) -> EncoderChoice {
    EncoderChoice {
        name: "mlp".into(),
        options: toml::from_str(&format!("hidden = [16]\nout-dim = {out_dim}")).unwrap(),
    }
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 32,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    }
}

fn run(dataset: &dyn Dataset, encoders: Vec<EncoderChoice>, options: &str) -> harness_core::Result<TrainOutcome> {
    let opts: Options = toml::from_str(options).unwrap();
    let mut method = Mla::from_options(&opts)?;
    let plan = ModelPlan {
        modalities: (0..encoders.len()).collect(),
        encoders,
        fusion: "late".into(),
        fusion_options: Options::new(),
    };
    train(&mut method as &mut dyn Method, dataset, &plan, &config(), tch::Device::Cpu, None, &mut Quiet)
}

fn check(outcome: &TrainOutcome, classes: usize, heads: &[&str]) {
    assert_eq!(outcome.epochs.len(), 3);
    for e in &outcome.epochs {
        assert!(e.train_loss.is_finite(), "train loss {}", e.train_loss);
        for report in [&e.val, &e.test] {
            for (head, metrics) in &report.heads {
                for (k, v) in metrics {
                    assert!(v.is_finite(), "{head}.{k} = {v}");
                }
            }
        }
        for h in heads {
            assert!(e.val.get(h, "accuracy").is_some(), "missing head {h}");
        }
        let names: Vec<_> = e.traces.iter().map(|t| (t.name.as_str(), t.key.as_str())).collect();
        assert!(names.contains(&("mla-loss", heads[0])), "{names:?}");
    }
    // From the second sub-step on the projection runs, so its ratio is traced.
    assert!(outcome.epochs[0].traces.iter().any(|t| t.name == "mla-projection-ratio"));
    let acc = outcome.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 1.0 / classes as f64 + 0.05, "fused val accuracy {acc} is not above chance");
}

#[test]
fn mla_trains_on_synthetic_av() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let outcome = run(&data, vec![mlp(16), mlp(16)], "").unwrap();
    check(&outcome, 5, &["audio", "visual"]);
}

#[test]
fn mla_trains_with_fixed_fusion_and_without_projection() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let outcome = run(&data, vec![mlp(16), mlp(16)], "fusion-rule = \"fixed\"\nprojection = false").unwrap();
    assert!(outcome.epochs.iter().all(|e| e.traces.iter().all(|t| t.name != "mla-projection-ratio")));
    let acc = outcome.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.25, "fused val accuracy {acc}");
}

#[test]
fn mla_trains_on_three_modalities() {
    let data = SyntheticAv3Config { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let outcome = run(&data, vec![mlp(16), mlp(16), mlp(16)], "").unwrap();
    check(&outcome, 5, &["audio", "visual", "text"]);
}

#[test]
fn mla_refuses_encoders_with_different_feature_dimensions() {
    let data = SyntheticAvConfig { train: 20, val: 10, test: 10, ..Default::default() }.generate().unwrap();
    let err = run(&data, vec![mlp(16), mlp(8)], "").unwrap_err();
    assert!(matches!(err, Error::Incompatible(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("audio: 16") && msg.contains("visual: 8"), "{msg}");
}
