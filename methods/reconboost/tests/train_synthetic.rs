//! Trains ReconBoost for a few epochs on small synthetic data through the shared trainer, with
//! and without unimodal teachers.

use harness_core::data::Dataset;
use harness_core::method::Method;
use harness_core::model::{GradScope, ModelPlan};
use harness_core::options::Options;
use harness_core::teacher::{Teacher, TeacherSet};
use harness_core::trainer::{TrainConfig, TrainOutcome};
use harness_testkit::{CHANCE, StepHarness, av, fit, mlp, plan, small_av, small_av3, traces, train_config};
use method_reconboost::ReconBoost;

fn config(epochs: usize) -> TrainConfig {
    TrainConfig { batch_size: 32, ..train_config(epochs) }
}

fn late(modalities: Vec<usize>) -> ModelPlan {
    plan(modalities, mlp(&[16], 16), "late")
}

/// Plain joint training, to train the unimodal teachers.
struct Plain;
impl Method for Plain {}

fn teachers(data: &dyn Dataset) -> TeacherSet {
    let teachers = (0..data.spec().modalities.len())
        .map(|m| {
            let out = fit(&mut Plain, data, &late(vec![m]), &config(2), None).unwrap();
            Teacher::new(m, out.model, out.vs, data, 64).unwrap()
        })
        .collect();
    TeacherSet { teachers }
}

fn run(data: &dyn Dataset, options: &str, teachers: Option<&TeacherSet>) -> TrainOutcome {
    let opts: Options = toml::from_str(options).unwrap();
    let mut method = ReconBoost::from_options(&opts).unwrap();
    let m = data.spec().modalities.len();
    fit(&mut method, data, &late((0..m).collect()), &config(3), teachers).unwrap()
}

fn check(outcome: &TrainOutcome, heads: &[&str]) {
    harness_testkit::assert_healthy(outcome, Some(3), heads, &["reconboost-boost-rate"], CHANCE + 0.05);
}

fn trace(outcome: &TrainOutcome, epoch: usize, name: &str) -> Vec<String> {
    traces(outcome, epoch, name).into_iter().map(|(key, _)| key).collect()
}

#[test]
fn reconboost_grows_the_ensemble_without_teachers() {
    let data = small_av();
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
    let data = small_av();
    let set = teachers(&data);
    let outcome = run(&data, "m-lr = 0.05", Some(&set));
    check(&outcome, &["audio", "visual"]);
    for e in 0..3 {
        assert_eq!(trace(&outcome, e, "reconboost-boost-loss"), vec!["audio"], "epoch {e}");
    }
}

#[test]
fn reconboost_copies_teacher_encoders_and_builds_the_stage_optimizer() {
    let data = av(64, 16, 16);
    let set = teachers(&data);
    let mut method = ReconBoost::from_options(&Options::new()).unwrap();
    let mut h = StepHarness::with_setup(&mut method, &data, &late(vec![0, 1]), config(1), Some(&set)).unwrap();
    let mut ctx = h.context(&data, Some(&set), 2);
    method.on_epoch_start(&mut ctx).unwrap();
    let student = ctx.vs.variables();
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
    let expected = ctx.params.encoder("audio", GradScope::All).len() + ctx.params.under("method.head").len();
    assert_eq!(ctx.optimizer.params().len(), expected);
    assert!((ctx.optimizer.lr() - 0.01).abs() < 1e-12);
}

#[test]
fn reconboost_trains_on_three_modalities_round_robin() {
    let data = small_av3();
    let outcome = run(&data, "epochs-per-stage = 1\ncorrect-epoch = 0\nm-lr = 0.05", None);
    check(&outcome, &["audio", "visual", "text"]);
    for (e, name) in ["audio", "visual", "text"].iter().enumerate() {
        assert_eq!(trace(&outcome, e, "reconboost-boost-loss"), vec![*name], "epoch {e}");
    }
}
