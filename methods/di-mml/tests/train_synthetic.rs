//! Trains DI-MML for a few epochs on small synthetic data through the shared trainer.

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::Error;
use harness_core::data::{Dataset, EncoderChoice};
use harness_core::method::{Method, check_requirements};
use harness_core::model::ModelPlan;
use harness_core::optim::OptimizerConfig;
use harness_core::options::Options;
use harness_core::tch::Device;
use harness_core::trainer::{Quiet, TrainConfig, TrainOutcome, train};
use method_di_mml::DiMml;

fn mlp(out_dim: i64) -> EncoderChoice {
    EncoderChoice {
        name: "mlp".into(),
        options: toml::from_str(&format!("hidden = [16]\nout-dim = {out_dim}")).unwrap(),
    }
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 32,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    }
}

fn run(data: &dyn Dataset, options: &str, dims: [i64; 2], fusion: &str) -> harness_core::Result<TrainOutcome> {
    let mut method = DiMml::from_options(&toml::from_str(options).unwrap())?;
    let plan = ModelPlan {
        modalities: vec![0, 1],
        encoders: vec![mlp(dims[0]), mlp(dims[1])],
        fusion: fusion.into(),
        fusion_options: Options::new(),
    };
    train(&mut method, data, &plan, &config(), Device::Cpu, None, &mut Quiet)
}

fn traces(outcome: &TrainOutcome, epoch: usize, name: &str) -> Vec<(String, f64)> {
    outcome.epochs[epoch].traces.iter().filter(|t| t.name == name).map(|t| (t.key.clone(), t.value)).collect()
}

#[test]
fn di_mml_runs_both_stages_on_synthetic_av() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    // Epoch 0: stage 1; epoch 1: stage 1 with the dimension split and L_dim; epoch 2: stage 2.
    let outcome = run(&data, "dim-epoch = 1\nstage2-epochs = 1", [16, 16], "late").unwrap();
    assert_eq!(outcome.epochs.len(), 3);
    for e in &outcome.epochs {
        assert!(e.train_loss.is_finite(), "train loss {}", e.train_loss);
        for report in [&e.val, &e.test] {
            for (head, metrics) in &report.heads {
                for (k, v) in metrics {
                    assert!(v.is_finite(), "{head}.{k} = {v}");
                }
            }
            assert!(report.get("audio", "accuracy").is_some() && report.get("visual", "accuracy").is_some());
        }
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
    let acc = outcome.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.25, "fused val accuracy {acc} is not above chance (0.2)");
}

#[test]
fn di_mml_default_schedule_and_weighted_inference_work_with_any_fusion() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    // Defaults on 3 epochs: split at epoch 1, stage 2 in epoch 2; the model's own fusion is unused.
    let outcome = run(&data, "stage2-inference = \"weighted\"", [16, 16], "film").unwrap();
    assert_eq!(traces(&outcome, 2, "di-mml-stage"), vec![("stage".to_string(), 2.0)]);
    assert_eq!(traces(&outcome, 1, "di-mml-dimensions").len(), 2);
    let acc = outcome.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.25, "fused val accuracy {acc}");
}

#[test]
fn di_mml_refuses_three_modalities_and_unequal_feature_dimensions() {
    let data = SyntheticAv3Config { train: 20, val: 10, test: 10, ..Default::default() }.generate().unwrap();
    let method = DiMml::from_options(&Options::new()).unwrap();
    let err = check_requirements("di-mml", &method.requirements(), data.spec(), 3, "late").unwrap_err();
    assert!(matches!(err, Error::Incompatible(_)), "{err}");
    assert!(err.to_string().contains("2 to 2"), "{err}");

    let av = SyntheticAvConfig { train: 20, val: 10, test: 10, ..Default::default() }.generate().unwrap();
    let err = run(&av, "", [16, 8], "late").unwrap_err();
    assert!(matches!(err, Error::Incompatible(_)), "{err}");
    assert!(err.to_string().contains("audio: 16"), "{err}");
}
