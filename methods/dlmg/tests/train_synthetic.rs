//! DLMG trains end to end on small synthetic-av (fitted and learnable schedules) and on
//! synthetic-av3 (M = 3).

use harness_core::data::Dataset;
use harness_core::options::Options;
use harness_core::trainer::TrainOutcome;
use harness_testkit::{CHANCE, assert_healthy, small_av, small_av3, train_method};
use method_dlmg::Dlmg;

fn run(data: &dyn Dataset, options: &str) -> (TrainOutcome, Dlmg) {
    let mut method = Dlmg::from_options(&toml::from_str(options).unwrap()).unwrap();
    let out = train_method(&mut method, "dlmg", data, "late", 3);
    (out, method)
}

fn check(out: &TrainOutcome, modalities: &[&str]) {
    assert_healthy(out, Some(3), modalities, &["dlmg-js"], CHANCE + 0.1);
}

#[test]
fn dlmg_fitted_trains_three_epochs_on_synthetic_av_with_finite_metrics_above_chance() {
    let (out, _) = run(&small_av(), "");
    check(&out, &["audio", "visual"]);
    // The traced a1 of epoch 2 is the polynomial's a1(2).
    let a1 = out.epochs[2].traces.iter().find(|t| t.name == "dlmg-weight" && t.key == "cls").unwrap().value;
    assert!((a1 - method_dlmg::fitted_a1(2)).abs() < 1e-12);
}

#[test]
fn dlmg_learnable_updates_the_weights_from_a_validation_batch() {
    let (out, method) = run(&small_av(), "schedule = \"learnable\"\nlr-alpha = 0.5");
    check(&out, &["audio", "visual"]);
    let (a1, a2) = method.weights();
    assert!((a1 + a2 - 1.0).abs() < 1e-12 && (0.05..=0.95).contains(&a2), "{a1} {a2}");
    let h: Vec<f64> =
        out.epochs.iter().map(|e| e.traces.iter().find(|t| t.name == "dlmg-hvp").unwrap().value).collect();
    assert!(h.iter().all(|h| h.is_finite()) && h.iter().any(|&h| h != 0.0), "{h:?}");
}

#[test]
fn dlmg_trains_on_synthetic_av3_with_three_modalities() {
    let (out, _) = run(&small_av3(), "");
    check(&out, &["audio", "visual", "text"]);
}

#[test]
fn dlmg_is_registered() {
    let entry = harness_core::method::lookup("dlmg").unwrap();
    assert!((entry.build)(&Options::new()).is_ok());
}
