//! Trains `ogm-ge` for 3 epochs on small synthetic data through the shared trainer.

use harness_core::data::Dataset;
use harness_core::method::{Method, check_requirements};
use harness_core::options::Options;
use harness_core::trainer::TrainOutcome;
use harness_testkit::{CHANCE, av, small_av, small_av3, train_method};
use method_ogm_ge::OgmGe;

fn run(dataset: &dyn Dataset, options: &str, fusion: &str) -> TrainOutcome {
    let mut method = OgmGe::from_options(&toml::from_str::<Options>(options).unwrap()).unwrap();
    train_method(&mut method, "ogm-ge", dataset, fusion, 3)
}

fn assert_healthy(out: &TrainOutcome, heads: &[&str]) {
    harness_testkit::assert_healthy(out, Some(3), heads, &["ogm-coefficient"], CHANCE + 0.05);
}

#[test]
fn ogm_ge_trains_on_synthetic_av_with_late_fusion() {
    assert_healthy(&run(&small_av(), "", "late"), &["fused", "audio", "visual"]);
}

#[test]
fn plain_ogm_trains_on_synthetic_av_with_concat_fusion() {
    assert_healthy(&run(&small_av(), "noise = false", "concat"), &["fused", "audio", "visual"]);
}

#[test]
fn ogm_ge_trains_on_three_modalities() {
    assert_healthy(&run(&small_av3(), "", "late"), &["fused", "audio", "visual", "text"]);
}

#[test]
fn ogm_ge_refuses_a_fusion_without_unimodal_heads() {
    let data = av(20, 5, 5);
    let method = OgmGe::from_options(&Options::new()).unwrap();
    let spec = data.spec();
    let err = check_requirements("ogm-ge", &method.requirements(), spec, 2, "film").unwrap_err();
    assert!(err.to_string().contains("unimodal"), "{err}");
}
