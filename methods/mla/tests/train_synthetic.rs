//! Trains MLA for a few epochs on small synthetic data through the shared trainer.

use harness_core::Error;
use harness_core::data::{Dataset, EncoderChoice};
use harness_core::options::Options;
use harness_core::trainer::{TrainConfig, TrainOutcome};
use harness_testkit::{assert_healthy, av, fit, mlp, plan_encoders, small_av, small_av3, train_config};
use method_mla::Mla;

fn run(dataset: &dyn Dataset, encoders: Vec<EncoderChoice>, options: &str) -> harness_core::Result<TrainOutcome> {
    let opts: Options = toml::from_str(options).unwrap();
    let mut method = Mla::from_options(&opts)?;
    let config = TrainConfig { batch_size: 32, ..train_config(3) };
    fit(&mut method, dataset, &plan_encoders(encoders, "late"), &config, None)
}

fn check(outcome: &TrainOutcome, classes: usize, heads: &[&str]) {
    assert_healthy(outcome, Some(3), heads, &["mla-loss"], 1.0 / classes as f64 + 0.05);
    for e in &outcome.epochs {
        let names: Vec<_> = e.traces.iter().map(|t| (t.name.as_str(), t.key.as_str())).collect();
        assert!(names.contains(&("mla-loss", heads[0])), "{names:?}");
    }
    // From the second sub-step on the projection runs, so its ratio is traced.
    assert!(outcome.epochs[0].traces.iter().any(|t| t.name == "mla-projection-ratio"));
}

#[test]
fn mla_trains_on_synthetic_av() {
    let outcome = run(&small_av(), vec![mlp(&[16], 16), mlp(&[16], 16)], "").unwrap();
    check(&outcome, 5, &["audio", "visual"]);
}

#[test]
fn mla_trains_with_fixed_fusion_and_without_projection() {
    let outcome =
        run(&small_av(), vec![mlp(&[16], 16), mlp(&[16], 16)], "fusion-rule = \"fixed\"\nprojection = false").unwrap();
    assert!(outcome.epochs.iter().all(|e| e.traces.iter().all(|t| t.name != "mla-projection-ratio")));
    let acc = outcome.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.25, "fused val accuracy {acc}");
}

#[test]
fn mla_trains_on_three_modalities() {
    let outcome = run(&small_av3(), vec![mlp(&[16], 16), mlp(&[16], 16), mlp(&[16], 16)], "").unwrap();
    check(&outcome, 5, &["audio", "visual", "text"]);
}

#[test]
fn mla_refuses_encoders_with_different_feature_dimensions() {
    let err = run(&av(20, 10, 10), vec![mlp(&[16], 16), mlp(&[16], 8)], "").unwrap_err();
    assert!(matches!(err, Error::Incompatible(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("audio: 16") && msg.contains("visual: 8"), "{msg}");
}
