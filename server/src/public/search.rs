//! `GET /records/search?q=…`: search in the published text as a page,
//! without JavaScript (a plain form). Each hit links to its speech on its
//! version's page and to the audio at its start; the snippet is the
//! index's, escaped there, matches in `<b>`.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tocky_index::{MAX_QUERY_BYTES, SearchQuery};

use super::{error_page, page};
use crate::ApiQuery;
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::export::html::{self, audio_link, escape, version_path};
use crate::state::AppState;

/// The most hits a page lists.
const MAX_HITS: usize = 50;

/// The search form, with `q` in it.
pub(super) fn form(q: &str) -> String {
    format!(
        "<form class=\"search\" action=\"/records/search\" method=\"get\" role=\"search\">\
         <input type=\"search\" name=\"q\" value=\"{}\" maxlength=\"{MAX_QUERY_BYTES}\" \
         aria-label=\"Tìm trong biên bản đã công bố\" placeholder=\"Tìm trong biên bản đã công bố\">\
         <button type=\"submit\">Tìm</button></form>\n",
        escape(q)
    )
}

/// `?q=`.
#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    #[serde(default)]
    q: String,
}

/// One hit as the page lists it.
struct Found {
    session_id: i64,
    title: String,
    sitting_date: Option<String>,
    version: i64,
    speech: Option<i64>,
    start_ms: i64,
    snippet_html: String,
}

pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiQuery(params): ApiQuery<Params>,
) -> Response {
    if let Err(e) = viewer.require_public() {
        return error_page(e);
    }
    let q = params.q.trim().to_owned();
    if q.len() > MAX_QUERY_BYTES {
        return error_page(ApiError::BadRequest(format!(
            "a search has at most {MAX_QUERY_BYTES} bytes"
        )));
    }
    let found = if q.is_empty() {
        Ok(Vec::new())
    } else {
        let query = SearchQuery {
            text: q.clone(),
            limit: MAX_HITS,
            published: true,
            ..SearchQuery::default()
        };
        state
            .with_store(move |store, index| {
                index.sync_published(store)?;
                let mut out = Vec::new();
                for hit in index.search(&query)? {
                    let Some(version) = hit.version else { continue };
                    // Title and date are set at ingest and never edited.
                    let Ok(session) = store.session(hit.session_id) else {
                        continue;
                    };
                    out.push(Found {
                        session_id: hit.session_id,
                        title: session.title,
                        sitting_date: session.sitting_date,
                        version,
                        speech: hit.speech,
                        start_ms: hit.start_ms,
                        snippet_html: hit.snippet_html,
                    });
                }
                Ok(out)
            })
            .await
    };
    match found {
        Ok(found) => page(StatusCode::OK, results(&q, &found)),
        // A query the index cannot read (only punctuation, say) says why.
        Err(e) => error_page(e),
    }
}

fn results(q: &str, found: &[Found]) -> String {
    let mut o = format!(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Tìm: {}</title>\n<style>{}</style>\n</head>\n<body>\n\
         <nav><a href=\"/records\">Biên bản đã công bố</a></nav>\n<header>\n\
         <h1>Tìm trong biên bản đã công bố</h1>\n{}</header>\n<main>\n",
        escape(q),
        html::STYLE,
        form(q)
    );
    if !q.is_empty() && found.is_empty() {
        o.push_str("<p>Không tìm thấy.</p>\n");
    }
    if !found.is_empty() {
        o.push_str("<ol class=\"hits\">\n");
        for f in found {
            let anchor = f.speech.map(|s| format!("#s{s}")).unwrap_or_default();
            o.push_str(&format!(
                "<li><a href=\"{}{anchor}\">{}</a>{} — phiên bản {} · \
                 <a class=\"audio\" href=\"{}\">Nghe từ {}</a>\n<p>{}</p></li>\n",
                version_path(f.session_id, f.version),
                escape(&f.title),
                f.sitting_date
                    .as_deref()
                    .map(|d| format!(", ngày {}", escape(d)))
                    .unwrap_or_default(),
                f.version,
                audio_link(f.session_id, f.start_ms),
                tocky_core::transcript::format_clock(u64::try_from(f.start_ms).unwrap_or(0)),
                // Escaped by the index; matches in <b>.
                f.snippet_html,
            ));
        }
        o.push_str("</ol>\n");
    }
    o.push_str("</main>\n</body>\n</html>\n");
    o
}
