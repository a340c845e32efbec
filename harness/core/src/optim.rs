//! Optimizers with PyTorch semantics, written over tensors so every method can reset, snapshot
//! and scale them: SGD with momentum and weight decay, Adam, and a step LR schedule.
//!
//! The update rules are PyTorch's (`torch.optim.SGD` / `Adam`, coupled weight decay):
//! - SGD: d = g + wd*p; buf = d on the first step, else momentum*buf + (1 - dampening)*d;
//!   p -= lr*buf.
//! - Adam: d = g + wd*p; m = b1*m + (1-b1)*d; v = b2*v + (1-b2)*d^2;
//!   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
//!
//! A parameter whose gradient was scaled to 0 still moves through weight decay and momentum,
//! exactly as in PyTorch; a parameter with no gradient at all (set to None by `zero_grad`) is
//! skipped, as in PyTorch 2.

use serde::{Deserialize, Serialize};
use tch::{COptimizer, Tensor};

use crate::error::Result;

/// Which optimizer and its hyperparameters, as written in `benchmarks.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Stochastic gradient descent.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum factor.
        #[serde(default = "default_momentum")]
        momentum: f64,
        /// Coupled weight decay (L2 added to the gradient).
        #[serde(default = "default_wd", rename = "weight-decay")]
        weight_decay: f64,
    },
    /// Adam.
    Adam {
        /// Learning rate.
        lr: f64,
        /// Coupled weight decay.
        #[serde(default, rename = "weight-decay")]
        weight_decay: f64,
        /// First-moment decay.
        #[serde(default = "default_beta1")]
        beta1: f64,
        /// Second-moment decay.
        #[serde(default = "default_beta2")]
        beta2: f64,
        /// Denominator epsilon.
        #[serde(default = "default_eps")]
        eps: f64,
    },
}

fn default_momentum() -> f64 {
    0.9
}
fn default_wd() -> f64 {
    1e-4
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_eps() -> f64 {
    1e-8
}

impl OptimizerConfig {
    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adam { lr, .. } => *lr,
        }
    }
}

/// `StepLR(step_size, gamma)`: lr = base * gamma^(epoch / step_size), stepped once per epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StepLr {
    /// Epochs between decays.
    pub step_size: usize,
    /// Multiplicative decay.
    pub gamma: f64,
}

impl StepLr {
    /// The learning-rate factor at `epoch` (0-based).
    pub fn factor(&self, epoch: usize) -> f64 {
        self.gamma.powi((epoch / self.step_size.max(1)) as i32)
    }
}

#[derive(Debug)]
struct Slot {
    param: Tensor,
    lr_scale: f64,
    buf: Option<Tensor>,
    exp_avg_sq: Option<Tensor>,
    steps: i32,
}

/// An optimizer over a list of parameters, with per-parameter learning-rate scales.
#[derive(Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    lr: f64,
    slots: Vec<Slot>,
    // libtorch's optimizer is used only for `zero_grad`, which sets gradients to None.
    grads: COptimizer,
}

impl Optimizer {
    /// An optimizer over `params`.
    pub fn new(config: OptimizerConfig, params: Vec<Tensor>) -> Result<Self> {
        let mut grads = COptimizer::sgd(0.0, 0.0, 0.0, 0.0, false)?;
        for p in &params {
            grads.add_parameters(p, 0)?;
        }
        let slots = params
            .into_iter()
            .map(|param| Slot { param, lr_scale: 1.0, buf: None, exp_avg_sq: None, steps: 0 })
            .collect();
        Ok(Optimizer { lr: config.lr(), config, slots, grads })
    }

    /// The configuration.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// The current learning rate (before per-parameter scales).
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Sets the learning rate (the scheduler calls this each epoch).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Multiplies the learning rate of the given parameters by `scale` (relative to the base),
    /// for methods with per-modality learning rates.
    pub fn set_lr_scale(&mut self, params: &[Tensor], scale: f64) {
        for s in &mut self.slots {
            if params.iter().any(|p| p.is_set_to(&s.param)) {
                s.lr_scale = scale;
            }
        }
    }

    /// The parameters this optimizer updates.
    pub fn params(&self) -> Vec<Tensor> {
        self.slots.iter().map(|s| s.param.shallow_clone()).collect()
    }

    /// Sets every gradient to None (PyTorch 2's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&mut self) -> Result<()> {
        self.grads.zero_grad()?;
        Ok(())
    }

    /// Forgets momentum and Adam moments (a fresh optimizer over the same parameters).
    pub fn reset_state(&mut self) {
        for s in &mut self.slots {
            s.buf = None;
            s.exp_avg_sq = None;
            s.steps = 0;
        }
    }

    /// Copies of the optimizer state, to roll back with [`Optimizer::restore_state`].
    pub fn state(&self) -> Vec<(Option<Tensor>, Option<Tensor>, i32)> {
        self.slots
            .iter()
            .map(|s| (s.buf.as_ref().map(|t| t.copy()), s.exp_avg_sq.as_ref().map(|t| t.copy()), s.steps))
            .collect()
    }

    /// Restores a state taken by [`Optimizer::state`].
    pub fn restore_state(&mut self, state: &[(Option<Tensor>, Option<Tensor>, i32)]) {
        for (s, (b, v, n)) in self.slots.iter_mut().zip(state) {
            s.buf = b.as_ref().map(|t| t.copy());
            s.exp_avg_sq = v.as_ref().map(|t| t.copy());
            s.steps = *n;
        }
    }

    /// One update of every parameter that has a gradient.
    pub fn step(&mut self) {
        let base_lr = self.lr;
        let config = self.config.clone();
        tch::no_grad(|| {
            for s in &mut self.slots {
                let g = s.param.grad();
                if !g.defined() {
                    continue;
                }
                let lr = base_lr * s.lr_scale;
                match config {
                    OptimizerConfig::Sgd { momentum, weight_decay, .. } => {
                        let d = if weight_decay != 0.0 { &g + &s.param * weight_decay } else { g.copy() };
                        let d = if momentum != 0.0 {
                            let buf = match s.buf.take() {
                                None => d,
                                Some(b) => b * momentum + d,
                            };
                            s.buf = Some(buf.shallow_clone());
                            buf
                        } else {
                            d
                        };
                        let _ = s.param.g_sub_(&(d * lr));
                    }
                    OptimizerConfig::Adam { weight_decay, beta1, beta2, eps, .. } => {
                        let d = if weight_decay != 0.0 { &g + &s.param * weight_decay } else { g.copy() };
                        s.steps += 1;
                        let m = match s.buf.take() {
                            None => &d * (1.0 - beta1),
                            Some(m) => m * beta1 + &d * (1.0 - beta1),
                        };
                        let v = match s.exp_avg_sq.take() {
                            None => (&d * &d) * (1.0 - beta2),
                            Some(v) => v * beta2 + (&d * &d) * (1.0 - beta2),
                        };
                        let bc1 = 1.0 - beta1.powi(s.steps);
                        let bc2 = 1.0 - beta2.powi(s.steps);
                        let denom = (&v / bc2).sqrt() + eps;
                        let update = (&m / bc1) / denom * lr;
                        let _ = s.param.g_sub_(&update);
                        s.buf = Some(m);
                        s.exp_avg_sq = Some(v);
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scale_grads;
    use tch::{Device, Kind};

    fn param(v: &[f32]) -> Tensor {
        Tensor::from_slice(v).set_requires_grad(true)
    }

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::try_from(t.detach()).unwrap()
    }

    fn close(a: &[f32], b: &[f32]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
        }
    }

    fn sgd() -> OptimizerConfig {
        OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, weight_decay: 0.01 }
    }

    #[test]
    fn sgd_matches_pytorch_momentum_and_weight_decay() {
        let p = param(&[1.0, -2.0]);
        let mut opt = Optimizer::new(sgd(), vec![p.shallow_clone()]).unwrap();
        // loss = sum(3 p) -> grad 3
        for _ in 0..2 {
            opt.zero_grad().unwrap();
            (&p * 3.0).sum(Kind::Float).backward();
            opt.step();
        }
        // step 1: d = 3 + 0.01 p0; buf = d; p1 = p0 - 0.1 d
        // step 2: d' = 3 + 0.01 p1; buf = 0.9 d + d'; p2 = p1 - 0.1 buf
        let expect = |p0: f32| {
            let d = 3.0 + 0.01 * p0;
            let p1 = p0 - 0.1 * d;
            let d2 = 3.0 + 0.01 * p1;
            p1 - 0.1 * (0.9 * d + d2)
        };
        close(&values(&p), &[expect(1.0), expect(-2.0)]);
    }

    #[test]
    fn zero_scaled_gradient_still_gets_weight_decay_and_momentum() {
        let p = param(&[1.0]);
        let mut opt = Optimizer::new(sgd(), vec![p.shallow_clone()]).unwrap();
        opt.zero_grad().unwrap();
        (&p * 3.0).sum(Kind::Float).backward();
        opt.step(); // buf = 3.01, p = 1 - 0.301 = 0.699
        opt.zero_grad().unwrap();
        (&p * 3.0).sum(Kind::Float).backward();
        scale_grads(&[p.shallow_clone()], 0.0);
        opt.step(); // d = 0 + 0.01*0.699; buf = 0.9*3.01 + d; p -= 0.1 buf
        let p1 = 1.0f32 - 0.1 * 3.01;
        let buf = 0.9f32 * 3.01 + 0.01 * p1;
        close(&values(&p), &[p1 - 0.1 * buf]);
    }

    #[test]
    fn half_scaled_gradient_halves_only_the_gradient_term() {
        let p = param(&[2.0]);
        let mut opt =
            Optimizer::new(OptimizerConfig::Sgd { lr: 0.5, momentum: 0.0, weight_decay: 0.1 }, vec![p.shallow_clone()])
                .unwrap();
        opt.zero_grad().unwrap();
        (&p * 4.0).sum(Kind::Float).backward();
        scale_grads(&[p.shallow_clone()], 0.5);
        opt.step(); // d = 0.5*4 + 0.1*2 = 2.2; p = 2 - 0.5*2.2 = 0.9
        close(&values(&p), &[0.9]);
    }

    #[test]
    fn parameter_without_gradient_is_not_updated() {
        let p = param(&[1.0]);
        let q = param(&[5.0]);
        let mut opt = Optimizer::new(sgd(), vec![p.shallow_clone(), q.shallow_clone()]).unwrap();
        opt.zero_grad().unwrap();
        (&p * 1.0).sum(Kind::Float).backward();
        opt.step();
        close(&values(&q), &[5.0]);
        assert!(!q.grad().defined());
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        let p = param(&[1.0, 1.0]);
        let cfg = OptimizerConfig::Adam { lr: 0.01, weight_decay: 0.0, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        let mut opt = Optimizer::new(cfg, vec![p.shallow_clone()]).unwrap();
        opt.zero_grad().unwrap();
        (&p * Tensor::from_slice(&[2.0f32, -3.0])).sum(Kind::Float).backward();
        opt.step();
        close(&values(&p), &[0.99, 1.01]);
    }

    #[test]
    fn step_lr_decays_every_step_size_epochs() {
        let s = StepLr { step_size: 70, gamma: 0.1 };
        assert_eq!(s.factor(0), 1.0);
        assert_eq!(s.factor(69), 1.0);
        assert!((s.factor(70) - 0.1).abs() < 1e-12);
        assert!((s.factor(140) - 0.01).abs() < 1e-12);
        let _ = Device::Cpu;
    }

    #[test]
    fn optimizer_config_parses_from_toml() {
        let c: OptimizerConfig = toml::from_str("kind = \"sgd\"\nlr = 0.001").unwrap();
        assert_eq!(c, OptimizerConfig::Sgd { lr: 0.001, momentum: 0.9, weight_decay: 1e-4 });
        assert!(toml::from_str::<OptimizerConfig>("kind = \"sgd\"\nlr = 0.1\nmomentun = 0.9").is_err());
    }
}
