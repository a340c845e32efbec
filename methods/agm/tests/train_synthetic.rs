//! Trains `agm` for 3 epochs on small synthetic data through the shared trainer.

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::data::{Dataset, DatasetSpec, EncoderChoice};
use harness_core::method::{Method, check_requirements};
use harness_core::model::ModelPlan;
use harness_core::optim::OptimizerConfig;
use harness_core::options::Options;
use harness_core::tch::Device;
use harness_core::trainer::{Quiet, TrainConfig, TrainOutcome, train};
use method_agm::Agm;

fn mlp() -> EncoderChoice {
    EncoderChoice { name: "mlp".into(), options: toml::from_str("hidden = [16]\nout-dim = 16").unwrap() }
}

fn run(dataset: &dyn Dataset, options: &str, fusion: &str) -> TrainOutcome {
    let mut method = Agm::from_options(&toml::from_str::<Options>(options).unwrap()).unwrap();
    let spec = dataset.spec();
    check_requirements("agm", &method.requirements(), spec, spec.modalities.len(), fusion).unwrap();
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
        assert!(e.traces.iter().all(|t| t.value.is_finite()), "{:?}", e.traces);
        assert!(e.traces.iter().any(|t| t.name == "agm-coefficient"));
    }
    let acc = out.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.2 + 0.05, "fused val accuracy {acc} is not above chance (0.2)");
}

#[test]
fn agm_trains_on_synthetic_av_with_late_fusion() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    assert_healthy(&run(&data, "", "late"), &["fused", "audio", "visual"]);
}

#[test]
fn agm_trains_with_a_non_decomposing_fusion() {
    // Only zero padding is needed, so FiLM works; the heads are the Shapley logits.
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    assert_healthy(&run(&data, "alpha = 2.5\ncap = inf", "film"), &["fused", "audio", "visual"]);
}

#[test]
fn agm_trains_on_three_modalities_with_three_way_shapley() {
    let data = SyntheticAv3Config { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    assert_healthy(&run(&data, "", "concat"), &["fused", "audio", "visual", "text"]);
}

#[test]
fn agm_refuses_four_modalities() {
    let data = SyntheticAv3Config { train: 20, val: 5, test: 5, ..Default::default() }.generate().unwrap();
    let mut spec: DatasetSpec = data.spec().clone();
    let mut extra = spec.modalities[0].clone();
    extra.name = "depth".into();
    spec.modalities.push(extra);
    let method = Agm::from_options(&Options::new()).unwrap();
    let err = check_requirements("agm", &method.requirements(), &spec, 4, "late").unwrap_err();
    assert!(err.to_string().contains("2 to 3"), "{err}");
}

#[test]
fn agm_keeps_the_last_coefficient_after_the_window() {
    // Window = official epoch 1 only (harness epoch 0). The hook scales are never reset, so the
    // coefficient applied in epochs 1 and 2 is the last one set in epoch 0, every step.
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let out = run(&data, "modulation-ends = 1", "late");
    let coeff = |e: usize, h: &str| {
        out.epochs[e].traces.iter().find(|t| t.name == "agm-coefficient" && t.key == h).unwrap().value
    };
    for h in ["audio", "visual"] {
        assert_eq!(coeff(1, h), coeff(2, h), "{h}");
        assert_ne!(coeff(1, h), 1.0, "{h}");
    }
    // The ratios keep being computed outside the window.
    let ratio = |e: usize| out.epochs[e].traces.iter().find(|t| t.name == "agm-ratio").unwrap().value;
    assert_ne!(ratio(1), ratio(2));
}
