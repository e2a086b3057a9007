//! The hall map: which seat, delegate or chair each channel carries.
//!
//! ```toml
//! [[channel]]
//! index = 0
//! role = "chair"
//! name = "Chủ tịch Quốc hội"
//!
//! [[channel]]
//! index = 1
//! seat = "A12"
//! name = "Đại biểu Nguyễn Văn A"
//!
//! [[channel]]
//! index = 2
//! seat = "B03"
//! person = "dbqh-0123"
//! ```
//!
//! A channel may name a person of the people registry by their stable id
//! (`person`), instead of or besides a name; `tocky live` then gives the
//! session's speaker the registry's name and links it to that person.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Who speaks on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The chair of the sitting.
    Chair,
    /// A delegate at a seat.
    #[default]
    Delegate,
}

/// One channel's speaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// The channel, counted from 0.
    pub channel: usize,
    /// The chair or a delegate.
    pub role: Role,
    /// The seat's label in the hall, such as `A12`.
    pub seat: Option<String>,
    /// The speaker's name or title, as the map gives it.
    pub name: Option<String>,
    /// The stable id of a person in the people registry (`dbqh-0123`).
    pub person: Option<String>,
}

impl Seat {
    /// Who the map says this is, for messages: the name, else the person's
    /// id (`person dbqh-0123`).
    pub fn who(&self) -> String {
        match (&self.name, &self.person) {
            (Some(name), _) => name.clone(),
            (None, Some(key)) => format!("person {key}"),
            (None, None) => format!("channel {}", self.channel),
        }
    }

    /// A label for transcripts: `Chủ tịch Quốc hội (chair)`, `Đại biểu Nguyễn Văn A (A12)`.
    pub fn label(&self) -> String {
        self.label_as(&self.who())
    }

    /// The label with another name (a registry person's) in place of the
    /// map's.
    pub fn label_as(&self, name: &str) -> String {
        match (&self.role, &self.seat) {
            (Role::Chair, _) => format!("{name} (chair)"),
            (Role::Delegate, Some(seat)) => format!("{name} ({seat})"),
            (Role::Delegate, None) => name.to_owned(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMap {
    #[serde(default)]
    channel: Vec<RawChannel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    index: i64,
    #[serde(default)]
    role: Role,
    seat: Option<String>,
    name: Option<String>,
    person: Option<String>,
}

/// Channel index → speaker, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HallMap {
    seats: BTreeMap<usize, Seat>,
}

impl HallMap {
    /// Reads and validates a hall map file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
        Self::parse(&text, Some(path.into()))
    }

    /// Parses and validates a hall map.
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::parse(text, None)
    }

    fn parse(text: &str, path: Option<PathBuf>) -> Result<Self> {
        let raw: RawMap = toml::from_str(text).map_err(|e| Error::HallMapSyntax {
            path,
            reason: e.to_string().trim_end().to_owned(),
        })?;
        let mut seats: BTreeMap<usize, Seat> = BTreeMap::new();
        let mut seat_labels: BTreeMap<String, usize> = BTreeMap::new();
        let mut person_channels: BTreeMap<String, usize> = BTreeMap::new();
        for (n, c) in raw.channel.into_iter().enumerate() {
            let entry = n + 1;
            let channel = usize::try_from(c.index).map_err(|_| {
                Error::HallMap(format!(
                    "channel entry {entry}: index {} is negative",
                    c.index
                ))
            })?;
            let name = c.name.map(|n| n.trim().to_owned());
            let person = c.person.map(|p| p.trim().to_owned());
            if name.as_deref().is_some_and(str::is_empty) {
                return Err(Error::HallMap(format!(
                    "channel {channel}: the name is empty"
                )));
            }
            if person.as_deref().is_some_and(str::is_empty) {
                return Err(Error::HallMap(format!(
                    "channel {channel}: the person id is empty"
                )));
            }
            if name.is_none() && person.is_none() {
                return Err(Error::HallMap(format!(
                    "channel {channel}: give a name or a person (a registry id)"
                )));
            }
            let who = name
                .clone()
                .or_else(|| person.as_ref().map(|p| format!("person {p}")))
                .unwrap_or_default();
            let seat = match c.seat.map(|s| s.trim().to_owned()) {
                Some(s) if s.is_empty() => {
                    return Err(Error::HallMap(format!(
                        "channel {channel} ({who}): the seat is empty"
                    )));
                }
                other => other,
            };
            // A channel listed twice is named as such before its seat (the
            // same on both entries) would be reported on "both channel N and
            // channel N".
            if let Some(old) = seats.get(&channel) {
                return Err(Error::HallMap(format!(
                    "channel {channel} is listed twice ({} and {who})",
                    old.who()
                )));
            }
            if let Some(s) = &seat
                && let Some(other) = seat_labels.insert(s.clone(), channel)
            {
                return Err(Error::HallMap(format!(
                    "seat {s} is on both channel {other} and channel {channel}"
                )));
            }
            if let Some(p) = &person
                && let Some(other) = person_channels.insert(p.clone(), channel)
            {
                return Err(Error::HallMap(format!(
                    "person {p} is on both channel {other} and channel {channel}"
                )));
            }
            seats.insert(
                channel,
                Seat {
                    channel,
                    role: c.role,
                    seat,
                    name,
                    person,
                },
            );
        }
        Ok(Self { seats })
    }

    /// Checks that every channel exists on a device of `channels` channels.
    pub fn validate_channels(&self, channels: usize) -> Result<()> {
        match self.seats.values().find(|s| s.channel >= channels) {
            Some(s) => Err(Error::HallMap(format!(
                "channel {} ({}) is beyond the device's {channels} channel(s), counted from 0",
                s.channel,
                s.who()
            ))),
            None => Ok(()),
        }
    }

    /// The speaker on `channel`, if the map names one.
    pub fn speaker(&self, channel: usize) -> Option<&Seat> {
        self.seats.get(&channel)
    }

    /// The mapped channels, in order: what to capture.
    pub fn channels(&self) -> Vec<usize> {
        self.seats.keys().copied().collect()
    }

    /// Every mapped seat, by channel.
    pub fn seats(&self) -> impl Iterator<Item = &Seat> {
        self.seats.values()
    }

    /// How many channels the map names.
    pub fn len(&self) -> usize {
        self.seats.len()
    }

    /// Whether the map names no channel.
    pub fn is_empty(&self) -> bool {
        self.seats.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const EXAMPLE: &str = r#"
[[channel]]
index = 0
role = "chair"
name = "Chủ tịch Quốc hội"

[[channel]]
index = 1
seat = "A12"
name = "Đại biểu Nguyễn Văn A"
"#;

    fn err(text: &str) -> String {
        HallMap::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn the_example_parses() {
        let map = HallMap::from_toml(EXAMPLE).unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map.channels(), [0, 1]);
        let chair = map.speaker(0).unwrap();
        assert_eq!(chair.role, Role::Chair);
        assert_eq!(chair.label(), "Chủ tịch Quốc hội (chair)");
        let a12 = map.speaker(1).unwrap();
        assert_eq!(a12.role, Role::Delegate);
        assert_eq!(a12.seat.as_deref(), Some("A12"));
        assert_eq!(a12.label(), "Đại biểu Nguyễn Văn A (A12)");
        assert!(map.speaker(2).is_none());
        map.validate_channels(2).unwrap();
        let e = map.validate_channels(1).unwrap_err().to_string();
        assert!(
            e.contains("channel 1 (Đại biểu Nguyễn Văn A) is beyond the device's 1 channel"),
            "{e}"
        );
    }

    #[test]
    fn mistakes_get_clear_errors() {
        let e = err("[[channel]]\nindex = 3\nname = \"X\"\n[[channel]]\nindex = 3\nname = \"Y\"\n");
        assert!(e.contains("channel 3 is listed twice (X and Y)"), "{e}");
        // The same entry pasted twice, seat and all.
        let e = err(
            "[[channel]]\nindex = 3\nseat = \"A1\"\nname = \"X\"\n[[channel]]\nindex = 3\nseat = \"A1\"\nname = \"Y\"\n",
        );
        assert!(e.contains("channel 3 is listed twice (X and Y)"), "{e}");
        let e = err("[[channel]]\nindex = 0\nname = \"  \"\n");
        assert!(e.contains("channel 0: the name is empty"), "{e}");
        let e = err("[[channel]]\nindex = 0\nseat = \"\"\nname = \"X\"\n");
        assert!(e.contains("the seat is empty"), "{e}");
        let e = err("[[channel]]\nindex = -1\nname = \"X\"\n");
        assert!(e.contains("index -1 is negative"), "{e}");
        let e = err(
            "[[channel]]\nindex = 0\nseat = \"A1\"\nname = \"X\"\n[[channel]]\nindex = 1\nseat = \"A1\"\nname = \"Y\"\n",
        );
        assert!(
            e.contains("seat A1 is on both channel 0 and channel 1"),
            "{e}"
        );
        // Syntax and shape errors name the line.
        let e = err("[[channel]]\nindex = 0\nrole = \"speaker\"\nname = \"X\"\n");
        assert!(e.contains("line 3") && e.contains("speaker"), "{e}");
        let e = err("[[channel]]\nindex = 0\nseat = \"A1\"\n");
        assert!(e.contains("give a name or a person"), "{e}");
        let e = err("[[channel]]\nindex = 0\nname = \"X\"\ncolour = \"red\"\n");
        assert!(e.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn a_channel_may_name_a_registry_person() {
        let map = HallMap::from_toml(
            "[[channel]]\nindex = 0\nrole = \"chair\"\nperson = \" dbqh-0001 \"\n\
             [[channel]]\nindex = 1\nseat = \"A12\"\nname = \"Đại biểu A\"\nperson = \"dbqh-0123\"\n",
        )
        .unwrap();
        let chair = map.speaker(0).unwrap();
        assert_eq!(chair.person.as_deref(), Some("dbqh-0001"));
        assert_eq!(chair.name, None);
        assert_eq!(chair.who(), "person dbqh-0001");
        assert_eq!(chair.label_as("Trần Thanh Mẫn"), "Trần Thanh Mẫn (chair)");
        let a12 = map.speaker(1).unwrap();
        assert_eq!(a12.person.as_deref(), Some("dbqh-0123"));
        assert_eq!(a12.label(), "Đại biểu A (A12)");
        assert_eq!(a12.label_as("Nguyễn Văn A"), "Nguyễn Văn A (A12)");

        let e = err("[[channel]]\nindex = 0\n");
        assert!(e.contains("channel 0: give a name or a person"), "{e}");
        let e = err("[[channel]]\nindex = 0\nperson = \" \"\n");
        assert!(e.contains("channel 0: the person id is empty"), "{e}");
        let e = err(
            "[[channel]]\nindex = 0\nperson = \"p-1\"\n[[channel]]\nindex = 2\nperson = \"p-1\"\n",
        );
        assert!(
            e.contains("person p-1 is on both channel 0 and channel 2"),
            "{e}"
        );
        let e =
            err("[[channel]]\nindex = 4\nperson = \"p-1\"\n[[channel]]\nindex = 4\nname = \"Y\"\n");
        assert!(
            e.contains("channel 4 is listed twice (person p-1 and Y)"),
            "{e}"
        );
        let e = err("[[channel]]\nindex = 0\nperson = 12\n");
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn a_file_is_loaded_and_its_path_named_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hall.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        assert_eq!(HallMap::load(&path).unwrap().len(), 2);
        std::fs::write(&path, "[[channel]]\nindex = \"zero\"\n").unwrap();
        let e = HallMap::load(&path).unwrap_err().to_string();
        assert!(e.contains("hall.toml"), "{e}");
        assert!(HallMap::load(&dir.path().join("absent.toml")).is_err());
    }
}
