//! MMPareto trains end to end on small synthetic-av (M = 2) and synthetic-av3 (M = 3).

use harness_core::data::Dataset;
use harness_core::options::Options;
use harness_core::trainer::TrainOutcome;
use harness_testkit::{CHANCE, assert_healthy, small_av, small_av3, train_method};
use method_mmpareto::MmPareto;

fn run(data: &dyn Dataset, fusion: &str) -> TrainOutcome {
    let mut method = MmPareto::from_options(&Options::new()).unwrap();
    train_method(&mut method, "mmpareto", data, fusion, 3)
}

fn check(out: &TrainOutcome, modalities: &[&str]) {
    assert_healthy(out, Some(3), modalities, &["mmpareto-cos"], CHANCE + 0.1);
    // Every modality has its separate head reported, and its cosine traced.
    for e in &out.epochs {
        for m in modalities {
            assert!(e.traces.iter().any(|t| t.name == "mmpareto-cos" && t.key == *m && t.value.is_finite()));
        }
    }
}

#[test]
fn mmpareto_trains_three_epochs_on_synthetic_av_with_finite_metrics_above_chance() {
    check(&run(&small_av(), "late"), &["audio", "visual"]);
}

#[test]
fn mmpareto_trains_on_synthetic_av3_with_three_modalities() {
    check(&run(&small_av3(), "late"), &["audio", "visual", "text"]);
}

#[test]
fn mmpareto_works_with_a_non_decomposing_fusion() {
    check(&run(&small_av(), "film"), &["audio", "visual"]);
}

#[test]
fn mmpareto_is_registered() {
    let entry = harness_core::method::lookup("mmpareto").unwrap();
    assert!((entry.build)(&Options::new()).is_ok());
}
