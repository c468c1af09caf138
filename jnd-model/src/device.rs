//! Device selection: the only place that knows which burn backends exist in this build.

use burn::tensor::Device;

use crate::{Error, Result};

/// Where to run a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accelerator {
    /// burn's `flex` CPU backend (pure Rust, SIMD + rayon). Always available.
    #[default]
    Cpu,
    /// burn's wgpu backend on the default adapter (the `wgpu` feature).
    Wgpu,
    /// burn-cuda on GPU 0 (the `cuda` feature; its build needs network access).
    Cuda,
}

impl Accelerator {
    /// Parses `cpu`, `wgpu` or `cuda`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "cpu" | "flex" => Some(Accelerator::Cpu),
            "wgpu" | "vulkan" | "gpu" => Some(Accelerator::Wgpu),
            "cuda" => Some(Accelerator::Cuda),
            _ => None,
        }
    }
}

/// The burn device for `accelerator`, or an error naming the missing cargo feature.
pub fn select_device(accelerator: Accelerator) -> Result<Device> {
    match accelerator {
        Accelerator::Cpu => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        Accelerator::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        #[cfg(not(feature = "wgpu"))]
        Accelerator::Wgpu => Err(Error::BackendUnavailable("wgpu", "wgpu")),
        #[cfg(feature = "cuda")]
        Accelerator::Cuda => Ok(Device::cuda(0)),
        #[cfg(not(feature = "cuda"))]
        Accelerator::Cuda => Err(Error::BackendUnavailable("cuda", "cuda")),
    }
}

/// Runs a small known computation on `device` (a 256x256 all-ones matmul, every entry 256) and
/// checks the result: proof that a backend not only compiles but computes.
pub fn smoke_test(device: &Device) -> Result<()> {
    use burn::tensor::Tensor;
    let n = 256;
    let ones = Tensor::<2>::ones([n, n], device);
    let sum: f32 = ones.clone().matmul(ones).sum().into_scalar();
    let expected = (n * n * n) as f32;
    if (sum - expected).abs() > expected * 1e-5 {
        return Err(Error::SmokeTest(format!("256x256 ones matmul summed to {sum}, expected {expected}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    #[test]
    fn cpu_device_computes() {
        let device = select_device(Accelerator::Cpu).unwrap();
        let t = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
        let sum: f32 = t.clone().matmul(t).sum().into_scalar();
        // [[7, 10], [15, 22]] sums to 54.
        assert_eq!(sum, 54.0);
    }

    #[test]
    fn smoke_test_passes_on_cpu() {
        smoke_test(&select_device(Accelerator::Cpu).unwrap()).unwrap();
    }

    #[test]
    fn missing_backends_name_their_feature() {
        assert_eq!(Accelerator::from_name("Vulkan"), Some(Accelerator::Wgpu));
        assert_eq!(Accelerator::from_name("tpu"), None);
        #[cfg(not(feature = "cuda"))]
        assert!(select_device(Accelerator::Cuda).unwrap_err().to_string().contains("`cuda` feature"));
    }
}
