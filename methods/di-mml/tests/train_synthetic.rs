//! Trains DI-MML for a few epochs on small synthetic data through the shared trainer.

use harness_core::Error;
use harness_core::data::Dataset;
use harness_core::method::{Method, check_requirements};
use harness_core::options::Options;
use harness_core::trainer::{TrainConfig, TrainOutcome};
use harness_testkit::{CHANCE, assert_healthy, av, av3, fit, mlp, plan_encoders, small_av, traces, train_config};
use method_di_mml::DiMml;

fn run(data: &dyn Dataset, options: &str, dims: [i64; 2], fusion: &str) -> harness_core::Result<TrainOutcome> {
    let mut method = DiMml::from_options(&toml::from_str(options).unwrap())?;
    let plan = plan_encoders(vec![mlp(&[16], dims[0]), mlp(&[16], dims[1])], fusion);
    fit(&mut method, data, &plan, &TrainConfig { batch_size: 32, ..train_config(3) }, None)
}

#[test]
fn di_mml_runs_both_stages_on_synthetic_av() {
    // Epoch 0: stage 1; epoch 1: stage 1 with the dimension split and L_dim; epoch 2: stage 2.
    let outcome = run(&small_av(), "dim-epoch = 1\nstage2-epochs = 1", [16, 16], "late").unwrap();
    assert_healthy(&outcome, Some(3), &["audio", "visual"], &[], CHANCE + 0.05);
    for e in &outcome.epochs {
        assert!(e.test.get("audio", "accuracy").is_some() && e.test.get("visual", "accuracy").is_some());
    }
    assert_eq!(traces(&outcome, 0, "di-mml-stage"), vec![("stage".to_string(), 1.0)]);
    assert!(traces(&outcome, 0, "di-mml-contrastive-loss").is_empty());
    let dims = traces(&outcome, 1, "di-mml-dimensions");
    assert_eq!(dims.len(), 2, "{dims:?}");
    assert!(dims.iter().all(|(_, n)| *n <= 16.0));
    assert!(!traces(&outcome, 1, "di-mml-shared-loss").is_empty());
    // L_dim is traced from the split epoch on (finite, possibly 0 if a set is empty).
    assert_eq!(traces(&outcome, 1, "di-mml-contrastive-loss").len(), 1);
    assert_eq!(traces(&outcome, 2, "di-mml-stage"), vec![("stage".to_string(), 2.0)]);
    assert_eq!(traces(&outcome, 2, "di-mml-fusion-loss").len(), 1);
    assert!(traces(&outcome, 2, "di-mml-unimodal-loss").is_empty());
    // Stage 2 freezes the encoders: the unimodal heads give the same val metrics as in epoch 1.
    for head in ["audio", "visual"] {
        assert_eq!(outcome.epochs[1].val.get(head, "loss"), outcome.epochs[2].val.get(head, "loss"), "{head}");
    }
}

#[test]
fn di_mml_default_schedule_and_weighted_inference_work_with_any_fusion() {
    // Defaults on 3 epochs: split at epoch 1, stage 2 in epoch 2; the model's own fusion is unused.
    let outcome = run(&small_av(), "stage2-inference = \"weighted\"", [16, 16], "film").unwrap();
    assert_eq!(traces(&outcome, 2, "di-mml-stage"), vec![("stage".to_string(), 2.0)]);
    assert_eq!(traces(&outcome, 1, "di-mml-dimensions").len(), 2);
    let acc = outcome.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.25, "fused val accuracy {acc}");
}

#[test]
fn di_mml_refuses_three_modalities_and_unequal_feature_dimensions() {
    let data = av3(20, 10, 10);
    let method = DiMml::from_options(&Options::new()).unwrap();
    let err = check_requirements("di-mml", &method.requirements(), data.spec(), 3, "late").unwrap_err();
    assert!(matches!(err, Error::Incompatible(_)), "{err}");
    assert!(err.to_string().contains("2 to 2"), "{err}");

    let err = run(&av(20, 10, 10), "", [16, 8], "late").unwrap_err();
    assert!(matches!(err, Error::Incompatible(_)), "{err}");
    assert!(err.to_string().contains("audio: 16"), "{err}");
}
