//! PMR trains end to end on a small synthetic-av and refuses three modalities.

use harness_core::data::Dataset;
use harness_core::method::{Method, check_requirements};
use harness_core::options::Options;
use harness_testkit::{CHANCE, assert_healthy, av3, small_av, train_method};
use method_pmr::Pmr;

#[test]
fn pmr_trains_three_epochs_on_synthetic_av_with_finite_metrics_above_chance() {
    let data = small_av();
    let mut method = Pmr::from_options(&Options::new()).unwrap();
    let out = train_method(&mut method, "pmr", &data, "late", 3);
    assert_healthy(&out, Some(3), &[], &["pmr-coefficient", "pmr-score"], CHANCE + 0.1);
    let protos = method.prototypes().unwrap();
    assert_eq!(protos.len(), 2);
    assert_eq!(protos[0].size(), vec![5, 16]);
    assert!(protos.iter().all(|p| p.isfinite().all().int64_value(&[]) == 1));
}

#[test]
fn pmr_refuses_three_modalities() {
    let data = av3(20, 10, 10);
    let method = Pmr::from_options(&Options::new()).unwrap();
    let err = check_requirements("pmr", &method.requirements(), data.spec(), 3, "late").unwrap_err();
    assert!(err.to_string().contains("2 to 2 modalities"), "{err}");
}

#[test]
fn pmr_is_registered() {
    let entry = harness_core::method::lookup("pmr").unwrap();
    assert!((entry.build)(&Options::new()).is_ok());
}
