//! Trains `mslr` for 3 epochs on small synthetic data through the shared trainer, and checks
//! which gradients its per-modality coefficient scales.

use harness_core::data::{Dataset, Loader, Split};
use harness_core::method::{Method, check_requirements};
use harness_core::model::scale_modality_grads;
use harness_core::options::Options;
use harness_core::tch::{Device, Kind, Tensor};
use harness_core::trainer::TrainOutcome;
use harness_testkit::{CHANCE, StepHarness, av, mlp, plan_all, small_av, small_av3, train_config, train_method};
use method_mslr::Mslr;

fn run(dataset: &dyn Dataset, options: &str, fusion: &str) -> TrainOutcome {
    let mut method = Mslr::from_options(&toml::from_str::<Options>(options).unwrap()).unwrap();
    train_method(&mut method, "mslr", dataset, fusion, 3)
}

fn assert_healthy(out: &TrainOutcome, heads: &[&str]) {
    harness_testkit::assert_healthy(out, Some(3), heads, &["mslr-coefficient"], CHANCE + 0.05);
}

#[test]
fn mslr_trains_on_synthetic_av_with_late_fusion() {
    let out = run(&small_av(), "history = 1", "late");
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
    assert_healthy(&run(&small_av3(), "init = { text = 0.7 }", "sum"), &["fused", "audio", "visual", "text"]);
}

#[test]
fn mslr_refuses_a_fusion_without_unimodal_heads() {
    let data = av(20, 5, 5);
    let method = Mslr::from_options(&Options::new()).unwrap();
    let err = check_requirements("mslr", &method.requirements(), data.spec(), 2, "gated").unwrap_err();
    assert!(err.to_string().contains("unimodal"), "{err}");
}

/// Builds a model, back-propagates sum(logits) so every parameter has a gradient, scales
/// modality 0 by 0.5 (what MSLR's coefficient does) and returns (name, gradient before,
/// gradient after).
fn scaled(fusion: &str) -> Vec<(String, Tensor, Tensor)> {
    let data = av(8, 2, 2);
    let h = StepHarness::new(data.spec(), &plan_all(data.spec(), mlp(&[16], 16), fusion), train_config(3));
    let batch = Loader::new(8, Split::Train, 8, None).load(&data, 0, Device::Cpu).unwrap();
    h.model.forward_t(&batch, true).logits.sum(Kind::Float).backward();
    let before: Vec<Tensor> = h.params.all.iter().map(|(_, p)| p.grad().copy()).collect();
    scale_modality_grads(&h.params, &h.model, 0, 0.5);
    h.params.all.iter().zip(before).map(|((n, p), b)| (n.clone(), b, p.grad().copy())).collect()
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
