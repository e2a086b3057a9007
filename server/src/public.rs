//! The public record (docs/public.md): server-rendered pages of published
//! versions, without JavaScript, and an Atom feed of them.
//!
//! - `GET /records`: the published sittings, each at its latest version;
//! - `GET /records/{id}`: a sitting's latest published version;
//! - `GET /records/{id}/v/{n}`: version `n` (the page [`html`] renders:
//!   permalinks, audio links, corrections linked both ways);
//! - `GET /records/feed.atom`: one entry per published version;
//! - `GET /records/search?q=…`: search in the published text ([`search`]).
//!
//! Readers and above see them, and with `public_read` anyone. Only
//! published versions are ever served here, from their frozen content: a
//! sitting never published is 404 for everyone, and edits made since a
//! publication (the next version's draft) never show.

use atom_syndication::{Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router, middleware};
use sha2::{Digest, Sha256};
use tocky_store::published::{PublishedScope, PublishedVersion};
use tocky_store::{Store, VersionState};

mod search;

use crate::ApiPath;
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::export::SessionExport;
use crate::export::html::{self, escape, version_path};
use crate::state::AppState;

/// The most sittings the list shows.
const MAX_LISTED: usize = 1000;
/// The most entries in the feed (the newest publications).
const MAX_FEED_ENTRIES: usize = 200;
/// The feed's media type.
pub const ATOM_MEDIA_TYPE: &str = "application/atom+xml; charset=utf-8";

/// The routes of this module, with the login and rate limit of the API.
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/records", get(list))
        .route("/records/feed.atom", get(feed))
        .route("/records/search", get(search::search))
        .route("/records/{id}", get(latest))
        .route("/records/{id}/v/{number}", get(version))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::rate::limit,
        ))
        .layer(middleware::from_fn_with_state(
            state,
            crate::auth::authenticate,
        ))
}

/// The number of session `id`'s latest published version; 404 when it
/// has none (or when there is no such session).
pub(crate) fn latest_number(store: &Store, id: i64) -> Result<i64, ApiError> {
    store
        .versions(id)?
        .last()
        .map(|v| v.number)
        .ok_or_else(|| ApiError::NotFound(format!("session {id} has no published version")))
}

/// A page's headers: HTML, styled only by the page's own stylesheet
/// (allowed by its hash), no script, media from this server.
fn page(status: StatusCode, body: String) -> Response {
    let csp = format!(
        "default-src 'none'; style-src {}; media-src 'self'; img-src 'self'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        html::style_source()
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(html::MEDIA_TYPE),
    );
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    // Pages change when a version is made final or corrected.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// An error as a small page (the API's JSON would not help a reader),
/// with the API error's status and its `Retry-After`, if any.
fn error_page(e: ApiError) -> Response {
    let message = e.to_string();
    // The API's answer logs an internal error and names the status.
    let api = e.into_response();
    let status = api.status();
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{code}</title>\n<style>{}</style>\n</head>\n<body>\n\
         <nav><a href=\"/records\">Biên bản đã công bố</a></nav>\n<h1>{code}</h1>\n\
         <p>{}</p>\n</body>\n</html>\n",
        html::STYLE,
        escape(&message),
        code = status.as_u16(),
    );
    let mut response = page(status, body);
    if let Some(wait) = api.headers().get(header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, wait.clone());
    }
    response
}

fn answer(result: Result<String, ApiError>) -> Response {
    match result {
        Ok(body) => page(StatusCode::OK, body),
        Err(e) => error_page(e),
    }
}

/// Version `number` of session `id` as its page.
pub(crate) fn version_page(store: &Store, id: i64, number: i64) -> Result<String, ApiError> {
    let export = SessionExport::load_version(store, id, number)?;
    let options = html::options(store, id, number)?;
    Ok(html::html(&export, &options))
}

async fn list(State(state): State<AppState>, Extension(viewer): Extension<Viewer>) -> Response {
    if let Err(e) = viewer.require_public() {
        return error_page(e);
    }
    answer(
        state
            .with_store(|store, _| {
                Ok(list_page(
                    &store.published_versions(PublishedScope::Latest, MAX_LISTED)?,
                ))
            })
            .await,
    )
}

fn state_label(state: VersionState) -> &'static str {
    match state {
        VersionState::Provisional => "tạm thời",
        VersionState::Final => "chính thức",
    }
}

/// The list of published sittings.
fn list_page(sittings: &[PublishedVersion]) -> String {
    let mut o = format!(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Biên bản đã công bố</title>\n\
         <link rel=\"alternate\" type=\"application/atom+xml\" href=\"/records/feed.atom\" \
         title=\"Biên bản đã công bố\">\n<style>{}</style>\n</head>\n<body>\n\
         <header>\n<h1>Biên bản đã công bố</h1>\n\
         <p class=\"links\"><a href=\"/records/feed.atom\">Atom</a>\
         <a href=\"/#/login\">Đăng nhập</a></p>\n{}</header>\n<main>\n",
        html::STYLE,
        search::form("")
    );
    if sittings.is_empty() {
        o.push_str("<p>Chưa có biên bản nào được công bố.</p>\n");
    } else {
        o.push_str("<ul class=\"sittings\">\n");
        for s in sittings {
            o.push_str(&format!(
                "<li><a href=\"/records/{id}\">{}</a>{} — phiên bản {} ({}), công bố \
                 <time datetime=\"{at}\">{at}</time></li>\n",
                escape(&s.title),
                s.sitting_date
                    .as_deref()
                    .map(|d| format!(", ngày <time datetime=\"{d}\">{d}</time>", d = escape(d)))
                    .unwrap_or_default(),
                s.number,
                state_label(s.state),
                id = s.session_id,
                at = escape(&s.published_at),
            ));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</main>\n</body>\n</html>\n");
    o
}

async fn latest(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> Response {
    if let Err(e) = viewer.require_public() {
        return error_page(e);
    }
    answer(
        state
            .with_store(move |store, _| {
                let number = latest_number(store, id)?;
                version_page(store, id, number)
            })
            .await,
    )
}

async fn version(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
) -> Response {
    if let Err(e) = viewer.require_public() {
        return error_page(e);
    }
    answer(
        state
            .with_store(move |store, _| version_page(store, id, number))
            .await,
    )
}

/// A version's entry id: a UUID (RFC 9562 version 8) from its content's
/// SHA-256, which never changes and is one version's alone.
fn entry_id(v: &PublishedVersion) -> String {
    let d = Sha256::digest(format!("tocky record {} {}", v.session_id, v.sha256).as_bytes());
    let h = hex::encode(&d[..16]);
    format!(
        "urn:uuid:{}-{}-8{}-{:x}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        (u8::from_str_radix(&h[16..17], 16).unwrap_or(0) & 0x3) | 0x8,
        &h[17..20],
        &h[20..32]
    )
}

fn date(text: &str) -> Result<FixedDateTime, ApiError> {
    FixedDateTime::parse_from_rfc3339(text).map_err(ApiError::internal)
}

fn link(href: String, rel: &str, mime: Option<&str>) -> Link {
    let mut link = Link::default();
    link.set_href(href);
    link.set_rel(rel);
    link.set_mime_type(mime.map(str::to_owned));
    link
}

/// The Atom feed of `versions` (newest first).
pub(crate) fn atom(versions: &[PublishedVersion]) -> Result<String, ApiError> {
    let mut entries = Vec::with_capacity(versions.len());
    for v in versions {
        let mut entry = Entry::default();
        let mut title = format!("{} — phiên bản {}", v.title, v.number);
        if let Some(day) = &v.sitting_date {
            title = format!("{title} (ngày họp {day})");
        }
        entry.set_title(Text::plain(title));
        entry.set_id(entry_id(v));
        // A version changes once, when it is made final.
        entry.set_updated(date(v.finalised_at.as_deref().unwrap_or(&v.published_at))?);
        entry.set_published(Some(date(&v.published_at)?));
        let mut author = Person::default();
        author.set_name(v.published_by.clone());
        entry.set_authors(vec![author]);
        entry.set_links(vec![link(
            version_path(v.session_id, v.number),
            "alternate",
            Some("text/html"),
        )]);
        let corrections = match v.corrections {
            0 if v.number == 1 => String::new(),
            0 => ", không có đính chính".to_owned(),
            n => format!(", {n} đính chính so với phiên bản trước"),
        };
        entry.set_summary(Some(Text::plain(format!(
            "Phiên bản {} ({}){corrections}.",
            v.number,
            state_label(v.state)
        ))));
        entries.push(entry);
    }
    let mut feed = Feed::default();
    feed.set_title(Text::plain("Biên bản đã công bố"));
    feed.set_id("urn:uuid:7c1b6f0e-3f7a-8d2e-9a41-6f2d0b5c9e13");
    feed.set_lang(Some("vi".to_owned()));
    let updated = entries
        .iter()
        .map(|e| *e.updated())
        .max()
        .map_or_else(|| date("1970-01-01T00:00:00Z"), Ok)?;
    feed.set_updated(updated);
    let mut generator = Generator::default();
    generator.set_value("tocky");
    feed.set_generator(Some(generator));
    feed.set_links(vec![
        link(
            "/records/feed.atom".into(),
            "self",
            Some("application/atom+xml"),
        ),
        link("/records".into(), "alternate", Some("text/html")),
    ]);
    feed.set_entries(entries);
    Ok(feed.to_string())
}

async fn feed(State(state): State<AppState>, Extension(viewer): Extension<Viewer>) -> Response {
    if let Err(e) = viewer.require_public() {
        return error_page(e);
    }
    let body = state
        .with_store(|store, _| {
            atom(&store.published_versions(PublishedScope::All, MAX_FEED_ENTRIES)?)
        })
        .await;
    match body {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, ATOM_MEDIA_TYPE),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        Err(e) => error_page(e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn entry_ids_are_uuids() {
        let v = PublishedVersion {
            session_id: 1,
            title: "t".into(),
            sitting_date: None,
            number: 1,
            state: VersionState::Provisional,
            sha256: "ab".repeat(32),
            published_by: "thu".into(),
            published_at: "2026-12-07T10:00:00.000Z".into(),
            finalised_at: None,
            corrections: 0,
            latest: true,
            segment_count: 1,
        };
        let id = entry_id(&v);
        let parts: Vec<&str> = id.trim_start_matches("urn:uuid:").split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('8'), "{id}");
        assert!("89ab".contains(&parts[3][..1]), "{id}");
        assert_eq!(id, entry_id(&v));
    }
}
