//! Trains `mslr` for 3 epochs on small synthetic data through the shared trainer, and checks
//! which gradients its per-modality coefficient scales.

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::data::{Dataset, EncoderChoice};
use harness_core::method::{Method, check_requirements};
use harness_core::model::{ModelPlan, MultimodalModel, ParamGroups};
use harness_core::optim::OptimizerConfig;
use harness_core::options::Options;
use harness_core::tch::{Device, Kind, Tensor, nn};
use harness_core::trainer::{Quiet, TrainConfig, TrainOutcome, train};
use method_mslr::{Mslr, scale_modality};

fn mlp() -> EncoderChoice {
    EncoderChoice { name: "mlp".into(), options: toml::from_str("hidden = [16]\nout-dim = 16").unwrap() }
}

fn plan(dataset: &dyn Dataset, fusion: &str) -> ModelPlan {
    let spec = dataset.spec();
    ModelPlan {
        modalities: (0..spec.modalities.len()).collect(),
        encoders: spec.modalities.iter().map(|_| mlp()).collect(),
        fusion: fusion.into(),
        fusion_options: Options::new(),
    }
}

fn run(dataset: &dyn Dataset, options: &str, fusion: &str) -> TrainOutcome {
    let mut method = Mslr::from_options(&toml::from_str::<Options>(options).unwrap()).unwrap();
    let spec = dataset.spec();
    check_requirements("mslr", &method.requirements(), spec, spec.modalities.len(), fusion).unwrap();
    let config = TrainConfig {
        epochs: 3,
        batch_size: 16,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    };
    train(&mut method, dataset, &plan(dataset, fusion), &config, Device::Cpu, None, &mut Quiet).unwrap()
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
        assert!(e.traces.iter().any(|t| t.name == "mslr-coefficient"));
    }
    let acc = out.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.2 + 0.05, "fused val accuracy {acc} is not above chance (0.2)");
}

#[test]
fn mslr_trains_on_synthetic_av_with_late_fusion() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let out = run(&data, "history = 1", "late");
    assert_healthy(&out, &["fused", "audio", "visual"]);
    // With a FIFO of 1, epoch 2's ratio is acc(epoch 2) / acc(epoch 1) and applies in epoch 3.
    let acc = |e: usize, h: &str| out.epochs[e].val.get(h, "accuracy").unwrap();
    let coeff = |e: usize, h: &str| {
        out.epochs[e].traces.iter().find(|t| t.name == "mslr-coefficient" && t.key == h).unwrap().value
    };
    assert!((coeff(0, "audio") - 0.9).abs() < 1e-12 && (coeff(0, "visual") - 1.1).abs() < 1e-12);
    if acc(0, "audio") > 0.0 {
        assert!((coeff(2, "audio") - 0.9 * acc(1, "audio") / acc(0, "audio")).abs() < 1e-9);
    }
}

#[test]
fn mslr_trains_on_three_modalities() {
    let data = SyntheticAv3Config { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    assert_healthy(&run(&data, "init = { text = 0.7 }", "sum"), &["fused", "audio", "visual", "text"]);
}

#[test]
fn mslr_refuses_a_fusion_without_unimodal_heads() {
    let data = SyntheticAvConfig { train: 20, val: 5, test: 5, ..Default::default() }.generate().unwrap();
    let method = Mslr::from_options(&Options::new()).unwrap();
    let err = check_requirements("mslr", &method.requirements(), data.spec(), 2, "gated").unwrap_err();
    assert!(err.to_string().contains("unimodal"), "{err}");
}

/// Builds a model, back-propagates sum(logits) so every parameter has a gradient, scales
/// modality 0 by 0.5 and returns (name, gradient before, gradient after).
fn scaled(fusion: &str) -> Vec<(String, Tensor, Tensor)> {
    let data = SyntheticAvConfig { train: 8, val: 2, test: 2, ..Default::default() }.generate().unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let model = MultimodalModel::new(&vs.root(), data.spec(), &plan(&data, fusion)).unwrap();
    let params = ParamGroups::new(&vs);
    let batch = harness_core::data::Loader::new(8, harness_core::data::Split::Train, 8, None)
        .load(&data, 0, Device::Cpu)
        .unwrap();
    model.forward_t(&batch, true).logits.sum(Kind::Float).backward();
    let before: Vec<Tensor> = params.all.iter().map(|(_, p)| p.grad().copy()).collect();
    scale_modality(&params, &model, 0, 0.5);
    params.all.iter().zip(before).map(|((n, p), b)| (n.clone(), b, p.grad().copy())).collect()
}

#[test]
fn coefficient_scales_the_whole_encoder_and_its_late_head_only() {
    for (name, before, after) in scaled("late") {
        let k = if name.starts_with("encoders.audio.") || name.starts_with("fusion.head0.") { 0.5 } else { 1.0 };
        assert!(after.allclose(&(&before * k), 1e-6, 1e-7, false), "{name}");
    }
}

#[test]
fn coefficient_scales_the_concat_weight_block_of_the_modality() {
    for (name, before, after) in scaled("concat") {
        if name == "fusion.fc.weight" {
            // Audio features are columns 0..16 of the concatenated 32.
            assert!(after.narrow(1, 0, 16).allclose(&(before.narrow(1, 0, 16) * 0.5), 1e-6, 1e-7, false));
            assert!(after.narrow(1, 16, 16).equal(&before.narrow(1, 16, 16)));
        } else {
            let k = if name.starts_with("encoders.audio.") { 0.5 } else { 1.0 };
            assert!(after.allclose(&(&before * k), 1e-6, 1e-7, false), "{name}");
        }
    }
}
