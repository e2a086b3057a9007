//! A live session's speakers from the hall map: a channel that names a
//! person of the people registry (`person = "dbqh-0123"`) gets a speaker
//! with that person's name, linked to them.

use std::collections::BTreeMap;

use tocky_capture::{HallMap, Role, Seat};
use tocky_store::{NewSpeaker, Person, Speaker, Store};

use crate::error::{Error, Result};

/// The registry person each channel of `map` names, by channel; a key the
/// registry lacks is an error naming the channel, so that a sitting does
/// not start with a speaker nobody can find.
pub fn hall_map_people(store: &Store, map: &HallMap) -> Result<BTreeMap<usize, Person>> {
    let mut people = BTreeMap::new();
    for seat in map.seats() {
        let Some(key) = &seat.person else { continue };
        match store.person(key) {
            Ok(person) => {
                people.insert(seat.channel, person);
            }
            Err(tocky_store::Error::UnknownPerson(_)) => {
                return Err(Error::Invalid(format!(
                    "hall map channel {} ({}): no person {key:?} in the people registry \
                     (add them with `tocky people import`)",
                    seat.channel,
                    seat.who()
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(people)
}

/// The speaker to create for a seat: the registry person's name when the
/// map names one, else the map's.
pub(crate) fn new_speaker(seat: &Seat, person: Option<&Person>) -> NewSpeaker {
    NewSpeaker {
        name: match person {
            Some(person) => seat.label_as(&person.name),
            None => seat.label(),
        },
        seat: match seat.role {
            Role::Chair => Some("chair".into()),
            Role::Delegate => seat.seat.clone(),
        },
        channel: Some(seat.channel as i64),
    }
}

/// Links each created speaker whose channel names a registry person to
/// that person (audited as `speaker_link`); returns the speakers as linked.
pub(crate) fn link_people(
    store: &mut Store,
    created: Vec<Speaker>,
    people: &BTreeMap<usize, Person>,
    actor: &str,
) -> Result<Vec<Speaker>> {
    created
        .into_iter()
        .map(|speaker| {
            let person = speaker
                .channel
                .and_then(|c| usize::try_from(c).ok())
                .and_then(|c| people.get(&c));
            match person {
                Some(person) => Ok(store.link_speaker(speaker.id, Some(person.id), actor)?),
                None => Ok(speaker),
            }
        })
        .collect()
}
