//! Trains `mses` on small synthetic data through the shared trainer, and drives its roll-back
//! by hand on a real model.

use harness_core::data::{Dataset, Loader, Split};
use harness_core::method::{EpochControl, Method, TrainContext};
use harness_core::options::Options;
use harness_core::tch::{Device, Kind, Tensor, nn};
use harness_core::trainer::{EvalReport, TrainOutcome};
use harness_testkit::{CHANCE, StepHarness, av, mlp, plan_all, small_av, small_av3, train_config, train_method};
use method_mses::Mses;

fn run(dataset: &dyn Dataset, options: &str, fusion: &str, epochs: usize) -> TrainOutcome {
    let mut method = Mses::from_options(&toml::from_str::<Options>(options).unwrap()).unwrap();
    train_method(&mut method, "mses", dataset, fusion, epochs)
}

fn assert_healthy(out: &TrainOutcome, heads: &[&str]) {
    harness_testkit::assert_healthy(out, None, heads, &["mses-coefficient"], CHANCE + 0.05);
}

#[test]
fn mses_trains_on_synthetic_av_with_late_fusion() {
    let out = run(&small_av(), "", "late", 3);
    assert_eq!(out.epochs.len(), 3);
    assert_healthy(&out, &["fused", "audio", "visual"]);
}

#[test]
fn mses_trains_on_three_modalities() {
    let out = run(&small_av3(), "", "sum", 3);
    assert_eq!(out.epochs.len(), 3);
    assert_healthy(&out, &["fused", "audio", "visual", "text"]);
}

#[test]
fn mses_with_zero_patience_stops_every_modality_and_ends_training() {
    let out = run(&small_av(), "patience = 0", "late", 40);
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
    let data = av(16, 4, 4);
    let mut h = StepHarness::new(data.spec(), &plan_all(data.spec(), mlp(&[16], 16), "late"), train_config(10));
    let batch = Loader::new(16, Split::Train, 16, None).load(&data, 0, Device::Cpu).unwrap();
    let mut mses = Mses::from_options(&toml::from_str("patience = 0").unwrap()).unwrap();
    let sgd_step = |ctx: &mut TrainContext| {
        ctx.optimizer.zero_grad().unwrap();
        ctx.model.forward_t(&batch, true).logits.sum(Kind::Float).backward();
        ctx.optimizer.step();
    };

    let mut ctx = h.context(&data, None, 1);
    sgd_step(&mut ctx);
    // Epoch 0: first losses are minima -> checkpoint of these weights and momentum buffers.
    assert_eq!(mses.on_epoch_end(&mut ctx, &report(1.0, 1.0)).unwrap(), EpochControl::Continue);
    let saved = values(ctx.vs);
    let saved_state = ctx.optimizer.state();

    sgd_step(&mut ctx);
    ctx.epoch = 1;
    // Epoch 1: audio smoothed 0.6 * 1 + 0.4 * 2 = 1.4 (no improvement, 1 - 0 > 0: stops, roll back
    // to epoch 0); visual 0.6 * 1 + 0.4 * 0.5 = 0.8 (new minimum, checkpoint).
    assert_eq!(mses.on_epoch_end(&mut ctx, &report(2.0, 0.5)).unwrap(), EpochControl::Continue);
    assert!(values(ctx.vs).iter().zip(&saved).any(|(now, then)| !now.1.equal(&then.1)), "weights moved");

    // The roll-back happens when epoch 2 starts: every variable and momentum buffer is restored.
    ctx.epoch = 2;
    mses.on_epoch_start(&mut ctx).unwrap();
    for ((n, now), (_, then)) in values(ctx.vs).iter().zip(&saved) {
        assert!(now.equal(then), "{n} was not rolled back");
    }
    for ((b_now, _, n_now), (b_then, _, n_then)) in ctx.optimizer.state().iter().zip(&saved_state) {
        assert_eq!(n_now, n_then);
        assert!(b_now.as_ref().unwrap().equal(b_then.as_ref().unwrap()));
    }

    // Audio's coefficient is now 0: its encoder and head gradients vanish, visual's do not.
    ctx.optimizer.zero_grad().unwrap();
    let out = ctx.model.forward_t(&batch, true);
    out.logits.sum(Kind::Float).backward();
    mses.modulate_gradients(&mut ctx, &batch, &out).unwrap();
    for (name, p) in &ctx.params.all {
        let zero = p.grad().abs().sum(Kind::Double).double_value(&[]) == 0.0;
        let audio = name.starts_with("encoders.audio.") || name.starts_with("fusion.head0.");
        assert_eq!(zero, audio, "{name}");
    }

    // Epoch 2: visual does not improve either (0.6 * 0.5 + 0.4 * 3 = 1.5 > 0.8) -> all stopped.
    assert_eq!(mses.on_epoch_end(&mut ctx, &report(2.0, 3.0)).unwrap(), EpochControl::Stop);
}
