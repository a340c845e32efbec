//! PMR trains end to end on a small synthetic-av and refuses three modalities.

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::data::{Dataset, EncoderChoice};
use harness_core::method::{Method, check_requirements};
use harness_core::model::ModelPlan;
use harness_core::optim::OptimizerConfig;
use harness_core::options::Options;
use harness_core::trainer::{Quiet, TrainConfig, train};
use method_pmr::Pmr;
use tch::Device;

fn mlp() -> EncoderChoice {
    EncoderChoice { name: "mlp".into(), options: toml::from_str("hidden = [16]\nout-dim = 16").unwrap() }
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 16,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    }
}

#[test]
fn pmr_trains_three_epochs_on_synthetic_av_with_finite_metrics_above_chance() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let mut method = Pmr::from_options(&Options::new()).unwrap();
    let spec = data.spec();
    check_requirements("pmr", &method.requirements(), spec, 2, "late").unwrap();
    let plan = ModelPlan {
        modalities: vec![0, 1],
        encoders: vec![mlp(), mlp()],
        fusion: "late".into(),
        fusion_options: Options::new(),
    };
    let out = train(&mut method, &data, &plan, &config(), Device::Cpu, None, &mut Quiet).unwrap();
    assert_eq!(out.epochs.len(), 3);
    for e in &out.epochs {
        assert!(e.train_loss.is_finite(), "epoch {}: loss {}", e.epoch, e.train_loss);
        for (head, metrics) in e.val.heads.iter().chain(&e.test.heads) {
            for (k, v) in metrics {
                assert!(v.is_finite(), "epoch {} head {head} {k} = {v}", e.epoch);
            }
        }
        let names: Vec<_> = e.traces.iter().map(|t| t.name.as_str()).collect();
        assert!(names.contains(&"pmr-coefficient") && names.contains(&"pmr-score"), "{names:?}");
    }
    let acc = out.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.2 + 0.1, "fused val accuracy {acc} is not above chance (0.2)");
    let protos = method.prototypes().unwrap();
    assert_eq!(protos.len(), 2);
    assert_eq!(protos[0].size(), vec![5, 16]);
    assert!(protos.iter().all(|p| p.isfinite().all().int64_value(&[]) == 1));
}

#[test]
fn pmr_refuses_three_modalities() {
    let data = SyntheticAv3Config { train: 20, val: 10, test: 10, ..Default::default() }.generate().unwrap();
    let method = Pmr::from_options(&Options::new()).unwrap();
    let err = check_requirements("pmr", &method.requirements(), data.spec(), 3, "late").unwrap_err();
    assert!(err.to_string().contains("2 to 2 modalities"), "{err}");
}

#[test]
fn pmr_is_registered() {
    let entry = harness_core::method::lookup("pmr").unwrap();
    assert!((entry.build)(&Options::new()).is_ok());
}
