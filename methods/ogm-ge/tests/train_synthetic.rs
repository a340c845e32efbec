//! Trains `ogm-ge` for 3 epochs on small synthetic data through the shared trainer.

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::data::{Dataset, EncoderChoice};
use harness_core::method::{Method, check_requirements};
use harness_core::model::ModelPlan;
use harness_core::optim::OptimizerConfig;
use harness_core::options::Options;
use harness_core::tch::Device;
use harness_core::trainer::{Quiet, TrainConfig, TrainOutcome, train};
use method_ogm_ge::OgmGe;

fn mlp() -> EncoderChoice {
    EncoderChoice { name: "mlp".into(), options: toml::from_str("hidden = [16]\nout-dim = 16").unwrap() }
}

fn run(dataset: &dyn Dataset, options: &str, fusion: &str) -> TrainOutcome {
    let mut method = OgmGe::from_options(&toml::from_str::<Options>(options).unwrap()).unwrap();
    let spec = dataset.spec();
    check_requirements("ogm-ge", &method.requirements(), spec, spec.modalities.len(), fusion).unwrap();
    let plan = ModelPlan {
        modalities: (0..spec.modalities.len()).collect(),
        encoders: spec.modalities.iter().map(|_| mlp()).collect(),
        fusion: fusion.into(),
        fusion_options: Options::new(),
    };
    let config = TrainConfig {
        epochs: 3,
        batch_size: 16,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    };
    train(&mut method, dataset, &plan, &config, Device::Cpu, None, &mut Quiet).unwrap()
}

fn assert_healthy(out: &TrainOutcome, heads: &[&str]) {
    assert_eq!(out.epochs.len(), 3);
    for e in &out.epochs {
        assert!(e.train_loss.is_finite(), "train loss {}", e.train_loss);
        for head in heads {
            for metric in ["loss", "accuracy"] {
                let v = e.val.get(head, metric).unwrap_or_else(|| panic!("missing {head}/{metric}"));
                assert!(v.is_finite(), "{head}/{metric} = {v}");
            }
        }
        assert!(e.traces.iter().all(|t| t.value.is_finite()));
        assert!(e.traces.iter().any(|t| t.name == "ogm-coefficient"));
    }
    let acc = out.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.2 + 0.05, "fused val accuracy {acc} is not above chance (0.2)");
}

#[test]
fn ogm_ge_trains_on_synthetic_av_with_late_fusion() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    assert_healthy(&run(&data, "", "late"), &["fused", "audio", "visual"]);
}

#[test]
fn plain_ogm_trains_on_synthetic_av_with_concat_fusion() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    assert_healthy(&run(&data, "noise = false", "concat"), &["fused", "audio", "visual"]);
}

#[test]
fn ogm_ge_trains_on_three_modalities() {
    let data = SyntheticAv3Config { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    assert_healthy(&run(&data, "", "late"), &["fused", "audio", "visual", "text"]);
}

#[test]
fn ogm_ge_refuses_a_fusion_without_unimodal_heads() {
    let data = SyntheticAvConfig { train: 20, val: 5, test: 5, ..Default::default() }.generate().unwrap();
    let method = OgmGe::from_options(&Options::new()).unwrap();
    let spec = data.spec();
    let err = check_requirements("ogm-ge", &method.requirements(), spec, 2, "film").unwrap_err();
    assert!(err.to_string().contains("unimodal"), "{err}");
}
