//! What input devices there are, finding one by name, and choosing the
//! stream configuration to open it with.

use cpal::SampleFormat;
use cpal::traits::{DeviceTrait, HostTrait};

use crate::error::{Error, Result};

/// A stream configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigInfo {
    /// Channels per frame.
    pub channels: u16,
    /// Frames per second.
    pub sample_rate: u32,
    /// The sample format, such as `i16` or `f32`.
    pub sample_format: String,
}

/// A range of stream configurations a device supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRange {
    /// Channels per frame.
    pub channels: u16,
    /// The lowest sample rate.
    pub min_sample_rate: u32,
    /// The highest sample rate.
    pub max_sample_rate: u32,
    /// The sample format.
    pub sample_format: String,
}

/// An input device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The name to pass as [`CpalOptions::device`](super::CpalOptions::device).
    pub name: String,
    /// Whether it is the host's default input.
    pub is_default: bool,
    /// The configuration used when none is asked for.
    pub default_config: Option<ConfigInfo>,
    /// What it supports.
    pub supported: Vec<ConfigRange>,
    /// Why its configurations could not be read, if they could not.
    pub error: Option<String>,
}

/// The input devices of the default host (ALSA on Linux), default first.
pub fn list_devices() -> Result<Vec<DeviceInfo>> {
    crate::quiet::with_library_stderr_captured(list_devices_loudly)
}

fn list_devices_loudly() -> Result<Vec<DeviceInfo>> {
    let host = cpal::default_host();
    let default_name = host.default_input_device().and_then(|d| d.name().ok());
    let devices = host.input_devices().map_err(|e| Error::Device {
        device: host.id().name().to_owned(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for device in devices {
        let Ok(name) = device.name() else { continue };
        let mut errors = Vec::new();
        let default_config = match device.default_input_config() {
            Ok(c) => Some(ConfigInfo {
                channels: c.channels(),
                sample_rate: c.sample_rate().0,
                sample_format: c.sample_format().to_string(),
            }),
            Err(e) => {
                errors.push(e.to_string());
                None
            }
        };
        let supported = match device.supported_input_configs() {
            Ok(ranges) => ranges
                .map(|r| ConfigRange {
                    channels: r.channels(),
                    min_sample_rate: r.min_sample_rate().0,
                    max_sample_rate: r.max_sample_rate().0,
                    sample_format: r.sample_format().to_string(),
                })
                .collect(),
            Err(e) => {
                errors.push(e.to_string());
                Vec::new()
            }
        };
        out.push(DeviceInfo {
            is_default: default_name.as_deref() == Some(name.as_str()),
            name,
            default_config,
            supported,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        });
    }
    out.sort_by_key(|d| !d.is_default);
    Ok(out)
}

/// Finds a device by exact name, else by a unique case-insensitive part of it.
pub(super) fn find_device(host: &cpal::Host, name: Option<&str>) -> Result<cpal::Device> {
    let Some(name) = name else {
        return host.default_input_device().ok_or(Error::NoDefaultDevice);
    };
    let devices: Vec<(String, cpal::Device)> = host
        .input_devices()
        .map_err(|e| Error::Device {
            device: name.to_owned(),
            reason: e.to_string(),
        })?
        .filter_map(|d| d.name().ok().map(|n| (n, d)))
        .collect();
    let wanted = name.to_lowercase();
    let exact = devices.iter().position(|(n, _)| n == name);
    let partial: Vec<usize> = (0..devices.len())
        .filter(|&i| devices[i].0.to_lowercase().contains(&wanted))
        .collect();
    let index = exact.or(match partial.as_slice() {
        [one] => Some(*one),
        _ => None,
    });
    let mut devices = devices;
    match index {
        Some(i) => Ok(devices.swap_remove(i).1),
        None => Err(Error::NoSuchDevice {
            name: name.to_owned(),
            available: devices.into_iter().map(|(n, _)| n).collect(),
        }),
    }
}

/// The default configuration if it has enough channels (and the rate
/// asked for), else the supported one that does with the fewest channels.
pub(super) fn choose_config(
    device: &cpal::Device,
    name: &str,
    min_channels: usize,
    rate: Option<u32>,
) -> Result<cpal::SupportedStreamConfig> {
    let device_err = |reason: String| Error::Device {
        device: name.to_owned(),
        reason,
    };
    let default = device
        .default_input_config()
        .map_err(|e| device_err(e.to_string()))?;
    if usize::from(default.channels()) >= min_channels
        && rate.is_none_or(|r| r == default.sample_rate().0)
    {
        return Ok(default);
    }
    let want_rate = rate.unwrap_or(default.sample_rate().0);
    let format_rank = |f: SampleFormat| match f {
        SampleFormat::F32 => 0,
        SampleFormat::I16 => 1,
        SampleFormat::I32 => 2,
        _ => 3,
    };
    let ranges: Vec<_> = device
        .supported_input_configs()
        .map_err(|e| device_err(e.to_string()))?
        .collect();
    let max_channels = ranges
        .iter()
        .map(|r| usize::from(r.channels()))
        .max()
        .unwrap_or(0);
    ranges
        .into_iter()
        .filter(|r| usize::from(r.channels()) >= min_channels)
        .filter(|r| r.min_sample_rate().0 <= want_rate && want_rate <= r.max_sample_rate().0)
        .min_by_key(|r| (r.channels(), format_rank(r.sample_format())))
        .map(|r| r.with_sample_rate(cpal::SampleRate(want_rate)))
        .ok_or_else(|| {
            if max_channels < min_channels {
                Error::NoSuchChannel {
                    requested: min_channels.saturating_sub(1),
                    channels: max_channels.max(usize::from(default.channels())),
                }
            } else {
                Error::InvalidOption(format!(
                    "device {name:?} does not capture {min_channels} channel(s) at {want_rate} Hz"
                ))
            }
        })
}
