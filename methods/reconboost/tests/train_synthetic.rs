//! Trains ReconBoost for a few epochs on small synthetic data through the shared trainer, with
//! and without unimodal teachers.

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::data::{Dataset, EncoderChoice};
use harness_core::method::{Method, SetupContext, TrainContext};
use harness_core::model::{GradScope, ModelPlan, MultimodalModel, ParamGroups};
use harness_core::optim::{Optimizer, OptimizerConfig};
use harness_core::options::Options;
use harness_core::tch::{self, Device, nn};
use harness_core::teacher::{Teacher, TeacherSet};
use harness_core::trace::Trace;
use harness_core::trainer::{Quiet, TrainConfig, TrainOutcome, train};
use method_reconboost::ReconBoost;

fn mlp() -> EncoderChoice {
    EncoderChoice { name: "mlp".into(), options: toml::from_str("hidden = [16]\nout-dim = 16").unwrap() }
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 32,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    }
}

fn plan(modalities: Vec<usize>) -> ModelPlan {
    ModelPlan {
        encoders: modalities.iter().map(|_| mlp()).collect(),
        modalities,
        fusion: "late".into(),
        fusion_options: Options::new(),
    }
}

/// Plain joint training, to train the unimodal teachers.
struct Plain;
impl Method for Plain {}

fn teachers(data: &dyn Dataset) -> TeacherSet {
    let teachers = (0..data.spec().modalities.len())
        .map(|m| {
            let out = train(&mut Plain, data, &plan(vec![m]), &config(2), Device::Cpu, None, &mut Quiet).unwrap();
            Teacher::new(m, out.model, out.vs, data, 64).unwrap()
        })
        .collect();
    TeacherSet { teachers }
}

fn run(data: &dyn Dataset, options: &str, teachers: Option<&TeacherSet>) -> TrainOutcome {
    let opts: Options = toml::from_str(options).unwrap();
    let mut method = ReconBoost::from_options(&opts).unwrap();
    let m = data.spec().modalities.len();
    train(&mut method, data, &plan((0..m).collect()), &config(3), Device::Cpu, teachers, &mut Quiet).unwrap()
}

fn check(outcome: &TrainOutcome, heads: &[&str]) {
    assert_eq!(outcome.epochs.len(), 3);
    for e in &outcome.epochs {
        assert!(e.train_loss.is_finite(), "train loss {}", e.train_loss);
        for report in [&e.val, &e.test] {
            for (head, metrics) in &report.heads {
                for (k, v) in metrics {
                    assert!(v.is_finite(), "{head}.{k} = {v}");
                }
            }
        }
        for h in heads {
            assert!(e.val.get(h, "loss").is_some(), "missing head {h}");
        }
        assert!(e.traces.iter().any(|t| t.name == "reconboost-boost-rate"));
    }
    let acc = outcome.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.25, "fused val accuracy {acc} is not above chance (0.2)");
}

fn trace(outcome: &TrainOutcome, epoch: usize, name: &str) -> Vec<String> {
    outcome.epochs[epoch].traces.iter().filter(|t| t.name == name).map(|t| t.key.clone()).collect()
}

#[test]
fn reconboost_grows_the_ensemble_without_teachers() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    // One boosting epoch and one rectification epoch per stage: audio, rectify, visual.
    let outcome = run(&data, "epochs-per-stage = 1\ncorrect-epoch = 1\nm-lr = 0.05\ne-lr = 0.05", None);
    check(&outcome, &["audio", "visual"]);
    assert_eq!(trace(&outcome, 0, "reconboost-boost-loss"), vec!["audio"]);
    assert_eq!(trace(&outcome, 1, "reconboost-rectify-loss"), vec!["ensemble"]);
    assert_eq!(trace(&outcome, 2, "reconboost-boost-loss"), vec!["visual"]);
    // The GA term only exists from stage 1 on.
    assert!(trace(&outcome, 0, "reconboost-ga-loss").is_empty());
    assert_eq!(trace(&outcome, 2, "reconboost-ga-loss"), vec!["visual"]);
}

#[test]
fn reconboost_trains_from_teachers_with_default_stages() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let set = teachers(&data);
    let outcome = run(&data, "m-lr = 0.05", Some(&set));
    check(&outcome, &["audio", "visual"]);
    for e in 0..3 {
        assert_eq!(trace(&outcome, e, "reconboost-boost-loss"), vec!["audio"], "epoch {e}");
    }
}

#[test]
fn reconboost_copies_teacher_encoders_and_builds_the_stage_optimizer() {
    let data = SyntheticAvConfig { train: 64, val: 16, test: 16, ..Default::default() }.generate().unwrap();
    let set = teachers(&data);
    let cfg = config(1);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = MultimodalModel::new(&vs.root(), data.spec(), &plan(vec![0, 1])).unwrap();
    let mut method = ReconBoost::from_options(&Options::new()).unwrap();
    method
        .setup(&mut SetupContext {
            spec: data.spec(),
            model: &model,
            path: vs.root() / "method",
            config: &cfg,
            teachers: Some(&set),
            dataset: &data,
        })
        .unwrap();
    let params = ParamGroups::new(&vs);
    let mut opt =
        Optimizer::new(cfg.optimizer.clone(), params.all.iter().map(|(_, t)| t.shallow_clone()).collect()).unwrap();
    let mut trace = Trace::default();
    let mut ctx = TrainContext {
        model: &model,
        vs: &vs,
        params: &params,
        optimizer: &mut opt,
        dataset: &data,
        teachers: Some(&set),
        config: &cfg,
        epoch: 0,
        step: 0,
        steps_per_epoch: 2,
        device: Device::Cpu,
        trace: &mut trace,
    };
    method.on_epoch_start(&mut ctx).unwrap();
    let student = vs.variables();
    for (m, name) in ["audio", "visual"].iter().enumerate() {
        let teacher = set.teachers[m].vs.variables();
        let prefix = format!("encoders.{name}.");
        let mut n = 0;
        for (k, v) in student.iter().filter(|(k, _)| k.starts_with(&prefix)) {
            assert!(v.equal(&teacher[k]), "{k} was not copied");
            n += 1;
        }
        assert!(n > 0);
    }
    // Stage 0 boosts audio: the fresh optimizer holds the audio encoder and the shared head only.
    let expected = params.encoder("audio", GradScope::All).len() + params.under("method.head").len();
    assert_eq!(ctx.optimizer.params().len(), expected);
    assert!((ctx.optimizer.lr() - 0.01).abs() < 1e-12);
    let _ = tch::Kind::Float;
}

#[test]
fn reconboost_trains_on_three_modalities_round_robin() {
    let data = SyntheticAv3Config { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let outcome = run(&data, "epochs-per-stage = 1\ncorrect-epoch = 0\nm-lr = 0.05", None);
    check(&outcome, &["audio", "visual", "text"]);
    for (e, name) in ["audio", "visual", "text"].iter().enumerate() {
        assert_eq!(trace(&outcome, e, "reconboost-boost-loss"), vec![*name], "epoch {e}");
    }
}
