//! From what a person types to a tantivy query.

use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tocky_core::text::fold;

use crate::analyzer::{Form, syllables, token_text};
use crate::error::{Error, Result};
use crate::{Fields, day_number};

/// How much an exact-diacritic match weighs against a folded one.
const EXACT_BOOST: f32 = 3.0;
/// The longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;

/// A search as a person asks it.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Words, with or without diacritics; `"quoted text"` is a phrase.
    pub text: String,
    /// Only this session.
    pub session_id: Option<i64>,
    /// Only this speaker.
    pub speaker_id: Option<i64>,
    /// Sittings on or after this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Sittings on or before this date (`YYYY-MM-DD`).
    pub to: Option<String>,
    /// At most this many hits.
    pub limit: usize,
    /// Search the text as published (each sitting's latest published
    /// version) instead of the working record.
    pub published: bool,
}

/// One word or quoted phrase of the query, as syllables.
struct Part {
    syllables: Vec<String>,
}

fn parts(text: &str) -> Vec<Part> {
    let mut out = Vec::new();
    for (i, chunk) in text.split('"').enumerate() {
        let quoted = i % 2 == 1;
        let syl: Vec<String> = syllables(chunk).map(|(_, _, s)| s.to_owned()).collect();
        if quoted {
            if !syl.is_empty() {
                out.push(Part { syllables: syl });
            }
        } else {
            out.extend(syl.into_iter().map(|s| Part { syllables: vec![s] }));
        }
    }
    out
}

fn field_query(field: Field, form: Form, syllables: &[String]) -> Box<dyn Query> {
    let terms: Vec<Term> = syllables
        .iter()
        .map(|s| Term::from_field_text(field, &token_text(form, s)))
        .collect();
    match terms.as_slice() {
        [one] => Box::new(TermQuery::new(
            one.clone(),
            IndexRecordOption::WithFreqsAndPositions,
        )),
        _ => Box::new(PhraseQuery::new(terms)),
    }
}

impl SearchQuery {
    /// The query to run, and the folded-only query whose terms snippets highlight.
    pub(crate) fn build(&self, f: &Fields) -> Result<(Box<dyn Query>, Box<dyn Query>)> {
        if self.text.len() > MAX_QUERY_BYTES {
            return Err(Error::InvalidQuery(format!(
                "longer than {MAX_QUERY_BYTES} bytes"
            )));
        }
        let parts = parts(&self.text);
        if parts.is_empty() {
            return Err(Error::InvalidQuery("no words to search for".into()));
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut highlight: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for part in &parts {
            let folded = field_query(f.folded, Form::Folded, &part.syllables);
            highlight.push((
                Occur::Should,
                field_query(f.folded, Form::Folded, &part.syllables),
            ));
            let typed_diacritics = part.syllables.iter().any(|s| fold(s) != s.to_lowercase());
            let q: Box<dyn Query> = if typed_diacritics {
                let exact = Box::new(BoostQuery::new(
                    field_query(f.exact, Form::Exact, &part.syllables),
                    EXACT_BOOST,
                ));
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, folded),
                    (Occur::Should, exact),
                ]))
            } else {
                folded
            };
            must.push((Occur::Must, q));
        }
        let id_filter = |field: Field, v: i64| -> Box<dyn Query> {
            // Ids start at 1 (0 stands for "no speaker" in the index): a
            // filter on 0 or below matches nothing.
            let v = u64::try_from(v).ok().filter(|v| *v > 0).unwrap_or(u64::MAX);
            Box::new(TermQuery::new(
                Term::from_field_u64(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let layer = match self.published {
            true => crate::published::PUBLISHED,
            false => crate::published::WORKING,
        };
        must.push((
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_u64(f.layer, layer),
                IndexRecordOption::Basic,
            )),
        ));
        if let Some(s) = self.session_id {
            must.push((Occur::Must, id_filter(f.session_id, s)));
        }
        if let Some(s) = self.speaker_id {
            must.push((Occur::Must, id_filter(f.speaker_id, s)));
        }
        if self.from.is_some() || self.to.is_some() {
            let day = |d: &Option<String>, what: &str| -> Result<Option<u64>> {
                match d {
                    None => Ok(None),
                    Some(d) => match day_number(Some(d)) {
                        0 => Err(Error::InvalidQuery(format!(
                            "{what} date {d:?} is not YYYY-MM-DD"
                        ))),
                        n => Ok(Some(n)),
                    },
                }
            };
            let bound = |n: Option<u64>| {
                n.map_or(Bound::Unbounded, |n| {
                    Bound::Included(Term::from_field_u64(f.sitting_day, n))
                })
            };
            let (from, to) = (day(&self.from, "from")?, day(&self.to, "to")?);
            // Sittings without a date (day 0) never match a date filter.
            let from = Some(from.unwrap_or(1));
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(from), bound(to))),
            ));
        }
        Ok((
            Box::new(BooleanQuery::new(must)),
            Box::new(BooleanQuery::new(highlight)),
        ))
    }
}
