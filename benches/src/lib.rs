//! Shared parts of tocky's benchmarks.

pub mod clips;
pub mod synthetic;
