//! `--device cpu|cuda|cuda:N|auto`.

use anyhow::{Result, bail};
use tch::Device;

/// Parses a device name; `auto` picks CUDA when available.
pub fn parse_device(name: &str) -> Result<Device> {
    let cuda_missing = || {
        anyhow::anyhow!(
            "CUDA was requested but libtorch reports no CUDA device. Build with `--features cuda` (the `--as-needed` \
             linker flag otherwise drops libtorch_cuda) and point scripts/setup.sh at a CUDA libtorch \
             (HARNESS_LIBTORCH=...)."
        )
    };
    match name {
        "cpu" => Ok(Device::Cpu),
        "auto" => Ok(Device::cuda_if_available()),
        "cuda" => {
            if tch::Cuda::is_available() {
                Ok(Device::Cuda(0))
            } else {
                Err(cuda_missing())
            }
        }
        other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(n)) => {
                let count = tch::Cuda::device_count() as usize;
                if count == 0 {
                    Err(cuda_missing())
                } else if n >= count {
                    bail!("device `{other}` does not exist: {count} CUDA device(s) available")
                } else {
                    Ok(Device::Cuda(n))
                }
            }
            _ => bail!("unknown device `{other}`; valid devices: cpu, cuda, cuda:N, auto"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse_or_explain() {
        assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
        let err = parse_device("gpu").unwrap_err().to_string();
        assert!(err.contains("cpu, cuda, cuda:N, auto"), "{err}");
    }
}
