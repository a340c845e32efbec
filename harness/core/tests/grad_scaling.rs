//! Gradient scaling on an encoder's parameter groups, then an optimizer step, behaves as in
//! PyTorch: a coefficient of 0 zeroes the gradients of the selected group only (kernels, or all
//! parameters) and the parameters still move through weight decay and momentum; 0.5 halves them.

use harness_core::data::{DatasetSpec, EncoderChoice, ModalityKind, ModalitySpec, Task};
use harness_core::model::{GradScope, ModelPlan, MultimodalModel, ParamGroups, scale_grads};
use harness_core::optim::{Optimizer, OptimizerConfig};
use harness_core::tch::{Device, Kind, Tensor, nn};

fn spec() -> DatasetSpec {
    let m = |name: &str| ModalitySpec {
        name: name.into(),
        kind: ModalityKind::Image,
        shape: vec![1, 8, 8],
        default_encoder: EncoderChoice::named("cnn"),
    };
    DatasetSpec {
        name: "toy".into(),
        task: Task::Classification { classes: 3 },
        modalities: vec![m("audio"), m("visual")],
    }
}

struct Setup {
    vs: nn::VarStore,
    params: ParamGroups,
    optimizer: Optimizer,
}

fn setup() -> Setup {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let cnn = EncoderChoice { name: "cnn".into(), options: toml::from_str("channels = [4]\nout-dim = 6").unwrap() };
    let plan = ModelPlan {
        modalities: vec![0, 1],
        encoders: vec![cnn.clone(), cnn],
        fusion: "late".into(),
        fusion_options: Default::default(),
    };
    let model = MultimodalModel::new(&vs.root(), &spec(), &plan).unwrap();
    let params = ParamGroups::new(&vs);
    let cfg = OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, weight_decay: 0.01 };
    let mut optimizer = Optimizer::new(cfg, params.all.iter().map(|(_, t)| t.shallow_clone()).collect()).unwrap();
    // One real step so momentum buffers exist, then a fresh backward.
    let batch = harness_core::data::Batch {
        inputs: (0..2).map(|_| Tensor::randn([4, 1, 8, 8], (Kind::Float, Device::Cpu))).collect(),
        targets: Tensor::from_slice(&[0i64, 1, 2, 0]),
        index: Tensor::from_slice(&[0i64, 1, 2, 3]),
        present: None,
    };
    optimizer.zero_grad().unwrap();
    model.forward_t(&batch, true).logits.cross_entropy_for_logits(&batch.targets).backward();
    optimizer.step();
    optimizer.zero_grad().unwrap();
    model.forward_t(&batch, true).logits.cross_entropy_for_logits(&batch.targets).backward();
    Setup { vs, params, optimizer }
}

fn grads(p: &ParamGroups) -> Vec<(String, Tensor)> {
    p.all.iter().map(|(n, t)| (n.clone(), t.grad().copy())).collect()
}

fn check(scope: GradScope, k: f64) {
    let mut s = setup();
    let before = grads(&s.params);
    let values: Vec<Tensor> = s.params.all.iter().map(|(_, t)| t.detach().copy()).collect();
    let selected: Vec<String> = s
        .params
        .all
        .iter()
        .filter(|(n, t)| n.starts_with("encoders.audio.") && (scope == GradScope::All || t.dim() >= 2))
        .map(|(n, _)| n.clone())
        .collect();
    assert!(selected.iter().any(|n| n.contains("conv")), "{selected:?}");
    scale_grads(&s.params.encoder("audio", scope), k);
    for ((name, t), (_, old)) in s.params.all.iter().zip(&before) {
        let expected = if selected.contains(name) { old * k } else { old.shallow_clone() };
        assert!(t.grad().allclose(&expected, 1e-7, 1e-9, false), "{name} (scope {scope:?}, k {k})");
    }
    if scope == GradScope::Kernels {
        // Biases and norm parameters of the audio encoder are untouched.
        assert!(
            s.params.all.iter().any(|(n, t)| n.starts_with("encoders.audio.") && t.dim() < 2 && !selected.contains(n))
        );
    }
    s.optimizer.step();
    // Every parameter moved, including those whose gradient was scaled to 0:
    // weight decay and momentum still act.
    for ((name, t), v) in s.params.all.iter().zip(&values) {
        assert!(!t.detach().equal(v), "{name} did not move after the step (scope {scope:?}, k {k})");
    }
    let _ = &s.vs;
}

#[test]
fn zero_coefficient_on_kernels_zeroes_only_kernel_grads_and_still_moves_them() {
    check(GradScope::Kernels, 0.0);
}

#[test]
fn zero_coefficient_on_all_parameters_zeroes_the_whole_encoder_and_still_moves_it() {
    check(GradScope::All, 0.0);
}

#[test]
fn half_coefficient_on_kernels_halves_only_kernel_grads() {
    check(GradScope::Kernels, 0.5);
}

#[test]
fn half_coefficient_on_all_parameters_halves_the_whole_encoder() {
    check(GradScope::All, 0.5);
}
