//! Shared parts of tocky's benchmarks.

pub mod synthetic;
