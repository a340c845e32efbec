//! Trains `mses` on small synthetic data through the shared trainer, and drives its roll-back
//! by hand on a real model.

use datasets_synthetic::{SyntheticAv3Config, SyntheticAvConfig};
use harness_core::data::{Dataset, EncoderChoice, Loader, Split};
use harness_core::method::{EpochControl, Method, TrainContext, check_requirements};
use harness_core::model::{ModelPlan, MultimodalModel, ParamGroups};
use harness_core::optim::{Optimizer, OptimizerConfig};
use harness_core::options::Options;
use harness_core::tch::{Device, Kind, Tensor, nn};
use harness_core::trace::Trace;
use harness_core::trainer::{EvalReport, Quiet, TrainConfig, TrainOutcome, train};
use method_mses::Mses;

fn mlp() -> EncoderChoice {
    EncoderChoice { name: "mlp".into(), options: toml::from_str("hidden = [16]\nout-dim = 16").unwrap() }
}

fn plan(dataset: &dyn Dataset, fusion: &str) -> ModelPlan {
    let spec = dataset.spec();
    ModelPlan {
        modalities: (0..spec.modalities.len()).collect(),
        encoders: spec.modalities.iter().map(|_| mlp()).collect(),
        fusion: fusion.into(),
        fusion_options: Options::new(),
    }
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 16,
        eval_batch_size: None,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 1e-4 },
        lr_schedule: None,
        seed: 0,
    }
}

fn run(dataset: &dyn Dataset, options: &str, fusion: &str, epochs: usize) -> TrainOutcome {
    let mut method = Mses::from_options(&toml::from_str::<Options>(options).unwrap()).unwrap();
    let spec = dataset.spec();
    check_requirements("mses", &method.requirements(), spec, spec.modalities.len(), fusion).unwrap();
    train(&mut method, dataset, &plan(dataset, fusion), &config(epochs), Device::Cpu, None, &mut Quiet).unwrap()
}

fn assert_healthy(out: &TrainOutcome, heads: &[&str]) {
    for e in &out.epochs {
        assert!(e.train_loss.is_finite(), "train loss {}", e.train_loss);
        for head in heads {
            for metric in ["loss", "accuracy"] {
                let v = e.val.get(head, metric).unwrap_or_else(|| panic!("missing {head}/{metric}"));
                assert!(v.is_finite(), "{head}/{metric} = {v}");
            }
        }
        assert!(e.traces.iter().all(|t| t.value.is_finite()));
        assert!(e.traces.iter().any(|t| t.name == "mses-coefficient"));
    }
    let acc = out.selected().val.get("fused", "accuracy").unwrap();
    assert!(acc > 0.2 + 0.05, "fused val accuracy {acc} is not above chance (0.2)");
}

#[test]
fn mses_trains_on_synthetic_av_with_late_fusion() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let out = run(&data, "", "late", 3);
    assert_eq!(out.epochs.len(), 3);
    assert_healthy(&out, &["fused", "audio", "visual"]);
}

#[test]
fn mses_trains_on_three_modalities() {
    let data = SyntheticAv3Config { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let out = run(&data, "", "sum", 3);
    assert_eq!(out.epochs.len(), 3);
    assert_healthy(&out, &["fused", "audio", "visual", "text"]);
}

#[test]
fn mses_with_zero_patience_stops_every_modality_and_ends_training() {
    let data = SyntheticAvConfig { train: 200, val: 50, test: 50, ..Default::default() }.generate().unwrap();
    let out = run(&data, "patience = 0", "late", 40);
    assert_healthy(&out, &["fused", "audio", "visual"]);
    assert!(out.epochs.len() < 40, "training should stop once both modalities stopped");
    let last = out.epochs.last().unwrap();
    for name in ["audio", "visual"] {
        let c = last.traces.iter().find(|t| t.name == "mses-coefficient" && t.key == name).unwrap();
        assert_eq!(c.value, 0.0, "{name}");
    }
    for e in &out.epochs {
        for t in e.traces.iter().filter(|t| t.name == "mses-rollback-to") {
            assert!((t.value as usize) < e.epoch, "roll-back to a past epoch");
        }
    }
}

fn report(audio_loss: f64, visual_loss: f64) -> EvalReport {
    let mut r = EvalReport::default();
    for (name, loss) in [("fused", 1.0), ("audio", audio_loss), ("visual", visual_loss)] {
        r.heads.insert(name.into(), [("loss".to_string(), loss), ("accuracy".to_string(), 0.5)].into());
    }
    r
}

fn values(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<_> = vs.variables().into_iter().map(|(n, t)| (n, t.detach().copy())).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn stopping_rolls_back_model_and_optimizer_and_zeroes_that_modalitys_gradients() {
    let data = SyntheticAvConfig { train: 16, val: 4, test: 4, ..Default::default() }.generate().unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let model = MultimodalModel::new(&vs.root(), data.spec(), &plan(&data, "late")).unwrap();
    let params = ParamGroups::new(&vs);
    let cfg = config(10);
    let mut optimizer =
        Optimizer::new(cfg.optimizer.clone(), params.all.iter().map(|(_, t)| t.shallow_clone()).collect()).unwrap();
    let mut trace = Trace::default();
    let batch = Loader::new(16, Split::Train, 16, None).load(&data, 0, Device::Cpu).unwrap();
    let mut mses = Mses::from_options(&toml::from_str("patience = 0").unwrap()).unwrap();
    let sgd_step = |opt: &mut Optimizer| {
        opt.zero_grad().unwrap();
        model.forward_t(&batch, true).logits.sum(Kind::Float).backward();
        opt.step();
    };

    sgd_step(&mut optimizer);
    let mut ctx = TrainContext {
        model: &model,
        vs: &vs,
        params: &params,
        optimizer: &mut optimizer,
        dataset: &data,
        teachers: None,
        config: &cfg,
        epoch: 0,
        step: 0,
        steps_per_epoch: 1,
        device: Device::Cpu,
        trace: &mut trace,
    };
    // Epoch 0: first losses are minima -> checkpoint of these weights and momentum buffers.
    assert_eq!(mses.on_epoch_end(&mut ctx, &report(1.0, 1.0)).unwrap(), EpochControl::Continue);
    let saved = values(&vs);
    let saved_state = ctx.optimizer.state();

    sgd_step(ctx.optimizer);
    ctx.epoch = 1;
    // Epoch 1: audio smoothed 0.6 * 1 + 0.4 * 2 = 1.4 (no improvement, 1 - 0 > 0: stops, roll back
    // to epoch 0); visual 0.6 * 1 + 0.4 * 0.5 = 0.8 (new minimum, checkpoint).
    assert_eq!(mses.on_epoch_end(&mut ctx, &report(2.0, 0.5)).unwrap(), EpochControl::Continue);
    assert!(values(&vs).iter().zip(&saved).any(|(now, then)| !now.1.equal(&then.1)), "weights moved");

    // The roll-back happens when epoch 2 starts: every variable and momentum buffer is restored.
    ctx.epoch = 2;
    mses.on_epoch_start(&mut ctx).unwrap();
    for ((n, now), (_, then)) in values(&vs).iter().zip(&saved) {
        assert!(now.equal(then), "{n} was not rolled back");
    }
    for ((b_now, _, n_now), (b_then, _, n_then)) in ctx.optimizer.state().iter().zip(&saved_state) {
        assert_eq!(n_now, n_then);
        assert!(b_now.as_ref().unwrap().equal(b_then.as_ref().unwrap()));
    }

    // Audio's coefficient is now 0: its encoder and head gradients vanish, visual's do not.
    ctx.optimizer.zero_grad().unwrap();
    let out = model.forward_t(&batch, true);
    out.logits.sum(Kind::Float).backward();
    mses.modulate_gradients(&mut ctx, &batch, &out).unwrap();
    for (name, p) in &params.all {
        let zero = p.grad().abs().sum(Kind::Double).double_value(&[]) == 0.0;
        let audio = name.starts_with("encoders.audio.") || name.starts_with("fusion.head0.");
        assert_eq!(zero, audio, "{name}");
    }

    // Epoch 2: visual does not improve either (0.6 * 0.5 + 0.4 * 3 = 1.5 > 0.8) -> all stopped.
    assert_eq!(mses.on_epoch_end(&mut ctx, &report(2.0, 3.0)).unwrap(), EpochControl::Stop);
}
