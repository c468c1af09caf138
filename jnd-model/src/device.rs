//! Device selection: the only place that knows which burn backends exist in this build, and the
//! only place that checks, before a model runs, that the one asked for can run here.
//!
//! The models are written once against burn's dispatch [`Device`]; which backend computes is chosen
//! at run time by [`Accelerator`]. A GPU backend that is compiled in but cannot run (no driver, no
//! GPU, no NVRTC or CUDA headers) is refused by [`select_device`] with one line saying what is
//! missing, never by a panic deep inside the backend.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use burn::tensor::Device;

use crate::{Error, Result};

/// The environment variable that picks the device when no switch does (`cpu`, `cuda` or `wgpu`).
pub const DEVICE_ENV: &str = "JNDENC_DEVICE";

/// Where to run a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Accelerator {
    /// burn's `flex` CPU backend (pure Rust, SIMD + rayon). Always available.
    #[default]
    Cpu,
    /// burn's wgpu backend on the default adapter (the `wgpu` feature).
    Wgpu,
    /// burn-cuda on GPU 0 (the `cuda` feature): CUDA C++ compiled by NVRTC at run time.
    Cuda,
}

impl Accelerator {
    /// Every accelerator, compiled in or not.
    pub const ALL: [Accelerator; 3] = [Accelerator::Cpu, Accelerator::Wgpu, Accelerator::Cuda];

    /// Parses `cpu`, `wgpu` or `cuda` (also `flex`, `vulkan`, `gpu`; any case).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "cpu" | "flex" => Some(Accelerator::Cpu),
            "wgpu" | "vulkan" | "gpu" => Some(Accelerator::Wgpu),
            "cuda" => Some(Accelerator::Cuda),
            _ => None,
        }
    }

    /// The accelerator [`DEVICE_ENV`] names, `None` when it is unset or empty, an error when it
    /// names none.
    pub fn from_env() -> Result<Option<Self>> {
        match std::env::var(DEVICE_ENV) {
            Ok(value) if value.trim().is_empty() => Ok(None),
            Ok(value) => {
                value.parse().map(Some).map_err(|_| Error::UnknownDevice(format!("{DEVICE_ENV}={value:?}")))
            }
            Err(_) => Ok(None),
        }
    }

    /// The name `from_name` reads back: `cpu`, `wgpu` or `cuda`.
    pub fn name(self) -> &'static str {
        match self {
            Accelerator::Cpu => "cpu",
            Accelerator::Wgpu => "wgpu",
            Accelerator::Cuda => "cuda",
        }
    }

    /// Whether this build has the backend (the cargo feature of the same name).
    pub fn compiled_in(self) -> bool {
        match self {
            Accelerator::Cpu => true,
            Accelerator::Wgpu => cfg!(feature = "wgpu"),
            Accelerator::Cuda => cfg!(feature = "cuda"),
        }
    }
}

impl fmt::Display for Accelerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Accelerator {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Accelerator::from_name(name).ok_or_else(|| Error::UnknownDevice(format!("{name:?}")))
    }
}

/// The burn device for `accelerator`, checked to run here: the CPU always; a GPU backend once per
/// process (its requirements, then [`smoke_test`]), every later call answering from that check.
/// The errors are one line: the backend is not compiled in (naming the cargo feature), or what is
/// missing on this machine.
pub fn select_device(accelerator: Accelerator) -> Result<Device> {
    static CHECKED: [OnceLock<std::result::Result<(), String>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    if accelerator == Accelerator::Cpu {
        return Ok(Device::flex());
    }
    if !accelerator.compiled_in() {
        return Err(Error::BackendUnavailable(accelerator.name(), accelerator.name()));
    }
    // What the backend needs that this binary does not carry is asked first, without touching the
    // backend (which panics, rather than errs, on each of these).
    let checked = CHECKED[accelerator as usize].get_or_init(|| {
        requirements(accelerator)?;
        check_computes(accelerator, &gpu_device(accelerator))
    });
    match checked {
        Ok(()) => Ok(gpu_device(accelerator)),
        Err(why) => Err(Error::DeviceUnusable(accelerator.name(), why.clone())),
    }
}

/// The burn device of a GPU backend that is compiled in (the CPU for any other, which
/// [`select_device`] never asks for).
fn gpu_device(accelerator: Accelerator) -> Device {
    match accelerator {
        #[cfg(feature = "wgpu")]
        Accelerator::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        #[cfg(feature = "cuda")]
        Accelerator::Cuda => Device::cuda(0),
        _ => Device::flex(),
    }
}

/// What `accelerator` needs on this machine beyond the binary, or why it cannot run.
fn requirements(accelerator: Accelerator) -> std::result::Result<(), String> {
    match accelerator {
        #[cfg(feature = "cuda")]
        Accelerator::Cuda => cuda_requirements(),
        _ => Ok(()),
    }
}

/// The driver, a GPU, NVRTC and the CUDA headers, in the order a user would install them.
#[cfg(feature = "cuda")]
fn cuda_requirements() -> std::result::Result<(), String> {
    // SAFETY: each only tries to dlopen the library's candidate names.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err("no NVIDIA driver: libcuda.so was not found".into());
    }
    match cudarc::driver::CudaContext::device_count() {
        Ok(n) if n > 0 => {}
        Ok(_) => return Err("the NVIDIA driver reports no GPU".into()),
        Err(e) => return Err(format!("the NVIDIA driver did not start ({e})")),
    }
    // SAFETY: as above.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err("NVRTC (libnvrtc.so, from the CUDA toolkit) was not found on the library path".into());
    }
    let header = cubecl_cuda::install::cuda_path().map(|p| p.join("include").join("cuda_runtime.h"));
    match header {
        Some(h) if h.is_file() => Ok(()),
        Some(h) => {
            Err(format!("the CUDA headers were not found ({} is missing; set CUDA_PATH)", h.display()))
        }
        None => Err("the CUDA toolkit was not found (set CUDA_PATH; it needs include/cuda_runtime.h)".into()),
    }
}

/// Runs [`smoke_test`] on `device`, turning a backend panic into the reason it gives. The panic
/// hook is silenced meanwhile (once per backend and process), so the reason is the only line printed.
fn check_computes(accelerator: Accelerator, device: &Device) -> std::result::Result<(), String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| smoke_test(device)));
    std::panic::set_hook(hook);
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the backend panicked");
            let first_line = what.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or(what);
            Err(match accelerator {
                Accelerator::Wgpu => format!("no usable GPU adapter ({first_line})"),
                _ => format!("the backend failed its first computation ({first_line})"),
            })
        }
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
    fn names_round_trip_and_unknown_names_are_refused() {
        for a in Accelerator::ALL {
            assert_eq!(a.name().parse::<Accelerator>().unwrap(), a);
        }
        assert_eq!(Accelerator::from_name("Vulkan"), Some(Accelerator::Wgpu));
        assert_eq!(Accelerator::from_name(" CUDA "), Some(Accelerator::Cuda));
        let err = "tpu".parse::<Accelerator>().unwrap_err().to_string();
        assert!(err.contains("\"tpu\"") && err.contains("cpu, cuda or wgpu"), "{err}");
        assert!(Accelerator::Cpu.compiled_in());
    }

    #[test]
    fn missing_backends_name_their_feature() {
        #[cfg(not(feature = "cuda"))]
        {
            let err = select_device(Accelerator::Cuda).unwrap_err().to_string();
            assert!(err.contains("`cuda` cargo feature"), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        #[cfg(not(feature = "wgpu"))]
        assert!(select_device(Accelerator::Wgpu).unwrap_err().to_string().contains("`wgpu` cargo feature"));
    }
}
