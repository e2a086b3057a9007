//! The people registry's routes: list and search people, read one, add,
//! change and import them (admins), and say which person a session's
//! speaker is (stenographers). The file formats are in [`file`].

pub mod file;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::StringRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use tocky_core::text::fold;
use tocky_store::{ImportSummary, NewPerson, Person, PersonRole, Role, RoleSpan, Speaker};

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::live::{LiveEvent, LiveMessage};
use crate::state::AppState;
use crate::{ApiJson, ApiPath, ApiQuery};

/// The most roles one person may be given in one request.
pub const MAX_ROLES: usize = 64;
/// The longest search text for `GET /api/people?q=`, in bytes.
pub const MAX_QUERY_BYTES: usize = 200;

/// `GET /api/people?q=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeopleQuery {
    #[serde(default)]
    q: Option<String>,
}

/// Whether `person` matches the folded search text: a part of their name,
/// stable id or delegation, diacritics and case aside.
fn matches(person: &Person, folded: &str) -> bool {
    fold(&person.name).contains(folded)
        || fold(&person.key).contains(folded)
        || person
            .delegation
            .as_deref()
            .is_some_and(|d| fold(d).contains(folded))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(query): ApiQuery<PeopleQuery>,
) -> Result<Json<Vec<Person>>, ApiError> {
    viewer.require_read()?;
    let q = query.q.unwrap_or_default();
    if q.len() > MAX_QUERY_BYTES {
        return Err(ApiError::BadRequest(format!(
            "a search has at most {MAX_QUERY_BYTES} bytes"
        )));
    }
    let folded = fold(q.trim());
    let people = state.with_store(|store, _| Ok(store.people()?)).await?;
    Ok(Json(
        people
            .into_iter()
            .filter(|p| folded.is_empty() || matches(p, &folded))
            .collect(),
    ))
}

/// An unknown person in the path is a missing page (in a body it is bad
/// input, as `ApiError`'s conversion says).
fn not_found(e: tocky_store::Error) -> ApiError {
    match e {
        tocky_store::Error::UnknownPerson(_) => ApiError::NotFound(e.to_string()),
        other => other.into(),
    }
}

pub(crate) async fn one(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Person>, ApiError> {
    viewer.require_read()?;
    let person = state
        .with_store(move |store, _| store.person_by_id(id).map_err(not_found))
        .await?;
    Ok(Json(person))
}

/// A person in a request body (`POST /api/people`, `PUT /api/people/{id}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonBody {
    key: String,
    name: String,
    #[serde(default)]
    delegation: Option<String>,
    #[serde(default)]
    seat: Option<String>,
    #[serde(default)]
    roles: Vec<RoleBody>,
}

/// One role in a [`PersonBody`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleBody {
    role: PersonRole,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default)]
    valid_to: Option<String>,
}

impl PersonBody {
    fn into_person(self) -> Result<NewPerson, ApiError> {
        if self.roles.len() > MAX_ROLES {
            return Err(ApiError::BadRequest(format!(
                "a person has at most {MAX_ROLES} roles"
            )));
        }
        Ok(NewPerson {
            key: self.key,
            name: self.name,
            delegation: self.delegation,
            seat: self.seat,
            roles: self
                .roles
                .into_iter()
                .map(|r| RoleSpan {
                    role: r.role,
                    title: r.title,
                    valid_from: r.valid_from,
                    valid_to: r.valid_to,
                })
                .collect(),
        })
    }
}

pub(crate) async fn add(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiJson(body): ApiJson<PersonBody>,
) -> Result<(StatusCode, Json<Person>), ApiError> {
    let user = viewer.require(Role::Admin)?.name.clone();
    let person = body.into_person()?;
    let added = state
        .with_store(move |store, _| Ok(store.add_person(&person, &user)?))
        .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

pub(crate) async fn change(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PersonBody>,
) -> Result<Json<Person>, ApiError> {
    let user = viewer.require(Role::Admin)?.name.clone();
    let person = body.into_person()?;
    let changed = state
        .with_store(move |store, _| store.update_person(id, &person, &user).map_err(not_found))
        .await?;
    Ok(Json(changed))
}

/// `POST /api/people/import?format=csv|toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// The format of an import: `?format=`, else the body's `Content-Type`.
fn import_format(query: &ImportQuery, headers: &HeaderMap) -> Result<file::Format, ApiError> {
    let named = match &query.format {
        Some(format) => Some(format.clone()),
        None => headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .and_then(|v| match v.as_str() {
                "text/csv" => Some("csv".to_owned()),
                "application/toml" | "text/toml" | "text/x-toml" => Some("toml".to_owned()),
                _ => None,
            }),
    };
    named
        .as_deref()
        .and_then(file::Format::from_extension)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "say the file's format: ?format=csv or ?format=toml, or Content-Type \
                 text/csv or application/toml"
                    .into(),
            )
        })
}

pub(crate) async fn import(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Result<String, StringRejection>,
) -> Result<Json<ImportSummary>, ApiError> {
    let user = viewer.require(Role::Admin)?.name.clone();
    let format = import_format(&query, &headers)?;
    let text = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(format!("the file is not UTF-8 text: {}", r.body_text()))
        }
    })?;
    let entries = file::parse(&text, format)
        .map_err(|e| ApiError::BadRequest(format!("nothing was imported: {e}")))?;
    let summary = state
        .with_store(
            move |store, _| match store.import_people(&entries.people, &user) {
                Ok(summary) => Ok(summary),
                Err(tocky_store::Error::InvalidPerson { index, reason, .. }) => {
                    Err(ApiError::BadRequest(format!(
                        "nothing was imported: {}: {reason}",
                        entries.origin(index)
                    )))
                }
                Err(e) => Err(e.into()),
            },
        )
        .await?;
    Ok(Json(summary))
}

/// `PUT /api/sessions/{sid}/speakers/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpeakerLink {
    person_id: Option<i64>,
}

pub(crate) async fn link_speaker(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath((session_id, speaker_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<SpeakerLink>,
) -> Result<Json<Speaker>, ApiError> {
    let user = viewer.require(Role::Stenographer)?.name.clone();
    let speaker = state
        .with_store(move |store, _| {
            // The speaker must be this session's.
            if !store
                .speakers(session_id)?
                .iter()
                .any(|s| s.id == speaker_id)
            {
                return Err(tocky_store::Error::UnknownSpeaker(speaker_id).into());
            }
            Ok(store.link_speaker(speaker_id, body.person_id, &user)?)
        })
        .await?;
    state.publish(LiveEvent::new(
        session_id,
        &LiveMessage::Speaker { speaker: &speaker },
    ));
    Ok(Json(speaker))
}
