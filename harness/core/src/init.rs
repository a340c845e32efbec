//! Weight initialisation as the paper's appendix A.4.1 and the reference `weight_init` do:
//! Kaiming normal (fan-out, ReLU) for conv kernels, Xavier normal for linear weights, and
//! constants (weight 1, bias 0) for batch norm.

use tch::nn;

/// Kaiming normal, fan-out, ReLU gain: PyTorch's `kaiming_normal_(mode='fan_out', nonlinearity='relu')`.
pub const KAIMING_NORMAL_FAN_OUT: nn::Init = nn::Init::Kaiming {
    dist: nn::init::NormalOrUniform::Normal,
    fan: nn::init::FanInOut::FanOut,
    non_linearity: nn::init::NonLinearity::ReLU,
};

/// Xavier (Glorot) normal for a `[out, in]` weight: std = sqrt(2 / (fan_in + fan_out)).
pub fn xavier_normal(fan_in: i64, fan_out: i64) -> nn::Init {
    nn::Init::Randn { mean: 0.0, stdev: (2.0 / (fan_in + fan_out) as f64).sqrt() }
}

/// A linear layer initialised with Xavier normal weights and zero bias.
pub fn linear(path: nn::Path, fan_in: i64, fan_out: i64) -> nn::Linear {
    nn::linear(
        path,
        fan_in,
        fan_out,
        nn::LinearConfig { ws_init: xavier_normal(fan_in, fan_out), bs_init: Some(nn::Init::Const(0.0)), bias: true },
    )
}

/// A 2-D convolution without bias, Kaiming-normal initialised (the ResNet convention).
pub fn conv2d(path: nn::Path, c_in: i64, c_out: i64, k: i64, stride: i64, padding: i64) -> nn::Conv2D {
    nn::conv2d(
        path,
        c_in,
        c_out,
        k,
        nn::ConvConfig { stride, padding, bias: false, ws_init: KAIMING_NORMAL_FAN_OUT, ..Default::default() },
    )
}

/// A 2-D batch norm with weight 1 and bias 0.
pub fn batch_norm2d(path: nn::Path, c: i64) -> nn::BatchNorm {
    nn::batch_norm2d(
        path,
        c,
        nn::BatchNormConfig { ws_init: nn::Init::Const(1.0), bs_init: nn::Init::Const(0.0), ..Default::default() },
    )
}
