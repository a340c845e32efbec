//! Trains `agm` for 3 epochs on small synthetic data through the shared trainer.

use harness_core::data::{Dataset, DatasetSpec};
use harness_core::method::{Method, check_requirements};
use harness_core::options::Options;
use harness_core::trainer::TrainOutcome;
use harness_testkit::{CHANCE, av3, small_av, small_av3, train_method};
use method_agm::Agm;

fn run(dataset: &dyn Dataset, options: &str, fusion: &str) -> TrainOutcome {
    let mut method = Agm::from_options(&toml::from_str::<Options>(options).unwrap()).unwrap();
    train_method(&mut method, "agm", dataset, fusion, 3)
}

fn assert_healthy(out: &TrainOutcome, heads: &[&str]) {
    harness_testkit::assert_healthy(out, Some(3), heads, &["agm-coefficient"], CHANCE + 0.05);
}

#[test]
fn agm_trains_on_synthetic_av_with_late_fusion() {
    assert_healthy(&run(&small_av(), "", "late"), &["fused", "audio", "visual"]);
}

#[test]
fn agm_trains_with_a_non_decomposing_fusion() {
    // Only zero padding is needed, so FiLM works; the heads are the Shapley logits.
    assert_healthy(&run(&small_av(), "alpha = 2.5\ncap = inf", "film"), &["fused", "audio", "visual"]);
}

#[test]
fn agm_trains_on_three_modalities_with_three_way_shapley() {
    assert_healthy(&run(&small_av3(), "", "concat"), &["fused", "audio", "visual", "text"]);
}

#[test]
fn agm_refuses_four_modalities() {
    let data = av3(20, 5, 5);
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
    let out = run(&small_av(), "modulation-ends = 1", "late");
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
