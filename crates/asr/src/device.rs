//! Where inference runs: `--device auto|cpu|gpu[:N]`.
//!
//! A GPU is used only by a build with the `cuda` feature. `auto` takes the
//! first NVIDIA GPU when the build has CUDA and the driver shows a device,
//! and otherwise the CPU, saying why in one log line; `gpu` fails clearly
//! when there is none.

use std::path::Path;
use std::str::FromStr;

use crate::engine::EngineOptions;
use crate::error::{Error, Result};

/// The device asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// A GPU when there is one, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// The NVIDIA GPU with this index (from 0).
    Gpu(u32),
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" | "cuda" => Ok(Self::Gpu(0)),
            other => other
                .strip_prefix("gpu:")
                .or_else(|| other.strip_prefix("cuda:"))
                .and_then(|n| n.parse().ok())
                .map(Self::Gpu)
                .ok_or_else(|| format!("{other:?} is not auto, cpu, gpu or gpu:N")),
        }
    }
}

/// Whether this build can run on a GPU (the `cuda` feature).
pub fn cuda_built() -> bool {
    cfg!(feature = "cuda")
}

/// The NVIDIA GPUs the driver shows (`/proc/driver/nvidia/gpus`, else
/// `/dev/nvidiaN`); 0 without a driver.
pub fn nvidia_gpus() -> usize {
    count_gpus(Path::new("/proc/driver/nvidia/gpus"), Path::new("/dev"))
}

fn count_gpus(proc_dir: &Path, dev_dir: &Path) -> usize {
    if let Ok(entries) = std::fs::read_dir(proc_dir) {
        return entries.filter_map(|e| e.ok()).count();
    }
    std::fs::read_dir(dev_dir).map_or(0, |entries| {
        entries
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("nvidia"))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .count()
    })
}

/// The engine options for `choice` on this machine and build. GPUs get
/// flash attention (word times come from token timestamps, which flash
/// attention leaves intact).
pub fn engine_options(choice: DeviceChoice) -> Result<EngineOptions> {
    resolve(choice, cuda_built(), nvidia_gpus())
}

fn resolve(choice: DeviceChoice, built: bool, gpus: usize) -> Result<EngineOptions> {
    let gpu = |index: u32| EngineOptions {
        use_gpu: true,
        gpu_device: i32::try_from(index).unwrap_or(i32::MAX),
        flash_attention: true,
    };
    match choice {
        DeviceChoice::Cpu => Ok(EngineOptions::default()),
        DeviceChoice::Auto if built && gpus > 0 => {
            tracing::info!("using GPU 0 of {gpus}");
            Ok(gpu(0))
        }
        // A CUDA build that finds no GPU says so; a CPU build expects none.
        DeviceChoice::Auto if built => {
            tracing::warn!("running on the CPU: no NVIDIA GPU or driver found");
            Ok(EngineOptions::default())
        }
        DeviceChoice::Auto => {
            tracing::info!("running on the CPU (this tocky was built without CUDA)");
            Ok(EngineOptions::default())
        }
        DeviceChoice::Gpu(_) if !built => Err(Error::InvalidOption(
            "--device gpu: this tocky was built without CUDA; build it with scripts/build-cuda"
                .into(),
        )),
        DeviceChoice::Gpu(index) if (index as usize) < gpus => Ok(gpu(index)),
        DeviceChoice::Gpu(index) => Err(Error::InvalidOption(format!(
            "--device gpu:{index}: the NVIDIA driver shows {gpus} GPU(s)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn choices_parse() {
        assert_eq!("auto".parse(), Ok(DeviceChoice::Auto));
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("gpu".parse(), Ok(DeviceChoice::Gpu(0)));
        assert_eq!("gpu:3".parse(), Ok(DeviceChoice::Gpu(3)));
        assert!("gpu:x".parse::<DeviceChoice>().is_err());
        assert!("tpu".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn auto_falls_back_to_the_cpu_and_gpu_fails_clearly() {
        assert!(!resolve(DeviceChoice::Auto, false, 1).unwrap().use_gpu);
        assert!(!resolve(DeviceChoice::Auto, true, 0).unwrap().use_gpu);
        let on_gpu = resolve(DeviceChoice::Auto, true, 2).unwrap();
        assert!(on_gpu.use_gpu && on_gpu.flash_attention);
        assert_eq!(
            resolve(DeviceChoice::Gpu(1), true, 2).unwrap().gpu_device,
            1
        );
        let err = resolve(DeviceChoice::Gpu(0), false, 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("without CUDA"), "{err}");
        let err = resolve(DeviceChoice::Gpu(2), true, 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("shows 2 GPU(s)"), "{err}");
        assert!(!resolve(DeviceChoice::Cpu, true, 2).unwrap().use_gpu);
    }

    #[test]
    fn gpus_are_counted_from_the_driver_or_the_device_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let dev = dir.path().join("dev");
        std::fs::create_dir(&dev).unwrap();
        for name in ["nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "null"] {
            std::fs::write(dev.join(name), "").unwrap();
        }
        assert_eq!(count_gpus(&dir.path().join("none"), &dev), 2);
        let proc_dir = dir.path().join("gpus");
        std::fs::create_dir_all(proc_dir.join("0000:00:1e.0")).unwrap();
        assert_eq!(count_gpus(&proc_dir, &dev), 1);
        // This build and machine: no CUDA in the default build.
        assert_eq!(cuda_built(), cfg!(feature = "cuda"));
    }
}
