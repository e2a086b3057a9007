//! Shared parts of tocky's benchmarks, and the two that run on GPU machines
//! as modules (`bench-gpu` bundles them into one binary to carry there).

pub mod clips;
pub mod http;
pub mod live;
pub mod synthetic;
pub mod throughput;

use tocky_asr::EngineOptions;

/// The device an engine runs on, as the benchmarks print it ("GPU 0", "CPU").
pub fn device_name(options: &EngineOptions) -> String {
    if options.use_gpu {
        format!("GPU {}", options.gpu_device)
    } else {
        "CPU".to_owned()
    }
}
