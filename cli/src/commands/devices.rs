//! `tocky devices`: the audio input devices, for choosing the hall's.

use std::process::ExitCode;

use anyhow::{Context, Result};

/// Prints the input devices with their channel counts and sample rates.
pub(crate) fn run() -> Result<ExitCode> {
    let devices = tocky_capture::list_devices().context("listing audio input devices")?;
    if devices.is_empty() {
        outln!("no audio input devices found")?;
        return Ok(ExitCode::SUCCESS);
    }
    let width = devices
        .iter()
        .map(|d| d.name.chars().count())
        .max()
        .unwrap_or(0)
        .max("DEVICE".len());
    outln!(
        "  {:<width$}  {:>8}  {:>8}  {:<6}  SUPPORTED",
        "DEVICE",
        "CHANNELS",
        "RATE",
        "FORMAT"
    )?;
    for d in &devices {
        let mark = if d.is_default { '*' } else { ' ' };
        let (channels, rate, format) = match &d.default_config {
            Some(c) => (
                c.channels.to_string(),
                c.sample_rate.to_string(),
                c.sample_format.clone(),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let ranges = summarize(&d.supported);
        let supported = match (&d.error, ranges.is_empty()) {
            (Some(e), true) => format!("(unavailable: {e})"),
            _ => ranges.join("; "),
        };
        outln!(
            "{mark} {:<width$}  {channels:>8}  {rate:>8}  {format:<6}  {supported}",
            d.name
        )?;
    }
    outln!("(* the default input; choose another by name)")?;
    Ok(ExitCode::SUCCESS)
}

/// Folds ranges that differ only in channel count and format into one
/// entry each: `1-32 ch, 1-384000 Hz, u8/i16/i32/f32`.
fn summarize(ranges: &[tocky_capture::ConfigRange]) -> Vec<String> {
    /// Rates (min, max), channels (min, max), formats.
    type Group = ((u32, u32), u16, u16, Vec<String>);
    let mut groups: Vec<Group> = Vec::new();
    for r in ranges {
        let rates = (r.min_sample_rate, r.max_sample_rate);
        match groups.iter_mut().find(|g| g.0 == rates) {
            Some(g) => {
                g.1 = g.1.min(r.channels);
                g.2 = g.2.max(r.channels);
                if !g.3.contains(&r.sample_format) {
                    g.3.push(r.sample_format.clone());
                }
            }
            None => groups.push((rates, r.channels, r.channels, vec![r.sample_format.clone()])),
        }
    }
    groups
        .into_iter()
        .map(|((lo, hi), cmin, cmax, formats)| {
            let channels = if cmin == cmax {
                cmin.to_string()
            } else {
                format!("{cmin}-{cmax}")
            };
            let rates = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            };
            format!("{channels} ch, {rates} Hz, {}", formats.join("/"))
        })
        .collect()
}
