//! The record at scale: ingest and index throughput, query latency, the
//! time for an edit to become searchable, and index size, on synthetic
//! plenary transcripts (default 1,000 hours, about 10 million syllables).
//!
//! ```text
//! cargo run --release -p tocky-bench --bin bench-search -- --hours 1000
//! ```

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use tocky_bench::synthetic::{Rng, WORDS, session_doc};
use tocky_core::text::fold;
use tocky_index::{SearchIndex, SearchQuery};
use tocky_store::{SegmentEdit, SessionMeta, Store};

#[derive(Debug, Parser)]
struct Args {
    /// Hours of sittings to generate.
    #[arg(long, default_value_t = 1000.0)]
    hours: f64,
    /// Queries per kind.
    #[arg(long, default_value_t = 200)]
    queries: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| {
                    if e.path().is_dir() {
                        dir_size(&e.path())
                    } else {
                        e.metadata().map_or(0, |m| m.len())
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(&dir.path().join("tocky.db"))?;
    let index_dir = dir.path().join("tocky.index");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // 4-hour sittings of 8-second segments.
    let segments_per_session = 4 * 3600 / 8;
    let sessions = ((args.hours / 4.0).ceil() as usize).max(1);
    let started = Instant::now();
    let mut syllables = 0;
    let mut session_ids = Vec::new();
    for n in 0..sessions {
        let (doc, count) = session_doc(&mut rng, n, segments_per_session);
        syllables += count;
        let date = format!("{}-{:02}-{:02}", 2020 + n % 7, 1 + n % 12, 1 + n % 28);
        let meta = SessionMeta {
            sitting_date: Some(date),
            ..SessionMeta::default()
        };
        if let tocky_store::IngestOutcome::Created { session_id, .. } =
            store.ingest(&doc, &meta, "bench")?
        {
            session_ids.push(session_id);
        }
    }
    let stored = started.elapsed();
    let index = SearchIndex::open(&index_dir)?;
    let indexed = index.rebuild(&store)?;
    let total = started.elapsed();
    let hours = sessions as f64 * 4.0;
    println!("{hours:.0} hours: {sessions} sittings, {indexed} segments, {syllables} syllables");
    println!(
        "ingest {:.1} s + index {:.1} s = {:.1} s ({:.0} hours of audio per second)",
        stored.as_secs_f64(),
        (total - stored).as_secs_f64(),
        total.as_secs_f64(),
        hours / total.as_secs_f64()
    );
    let index_bytes = dir_size(&index_dir);
    let db_bytes = std::fs::metadata(dir.path().join("tocky.db"))?.len();
    println!(
        "index {:.1} MiB ({:.0} KiB per hour of audio); store {:.1} MiB",
        index_bytes as f64 / 1048576.0,
        index_bytes as f64 / 1024.0 / hours,
        db_bytes as f64 / 1048576.0
    );

    // Queries of each kind, drawn from the same vocabulary.
    let content: Vec<&str> = WORDS
        .iter()
        .copied()
        .filter(|w| w.chars().count() > 3)
        .collect();
    let one_syllable: Vec<String> = content
        .iter()
        .flat_map(|w| w.split(' '))
        .filter(|s| s.chars().count() > 2)
        .map(str::to_owned)
        .collect();
    let two_syllable: Vec<&str> = content
        .iter()
        .copied()
        .filter(|w| w.split(' ').count() == 2)
        .collect();
    let phrases: Vec<&str> = content
        .iter()
        .copied()
        .filter(|w| w.split(' ').count() >= 3)
        .collect();
    let kinds: Vec<(&str, QueryMaker)> = vec![
        (
            "1 syllable",
            Box::new(|r: &mut Rng| q(&one_syllable[r.below(one_syllable.len())])),
        ),
        (
            "2 syllables",
            Box::new(|r: &mut Rng| q(two_syllable[r.below(two_syllable.len())])),
        ),
        (
            "folded (no diacritics)",
            Box::new(|r: &mut Rng| q(&fold(two_syllable[r.below(two_syllable.len())]))),
        ),
        (
            "exact (diacritics)",
            Box::new(|r: &mut Rng| q(two_syllable[r.below(two_syllable.len())])),
        ),
        (
            "phrase",
            Box::new(|r: &mut Rng| q(&format!("\"{}\"", phrases[r.below(phrases.len())]))),
        ),
        ("phrase + session", {
            let ids = session_ids.clone();
            let phrases = &phrases;
            Box::new(move |r: &mut Rng| SearchQuery {
                session_id: Some(ids[r.below(ids.len())]),
                ..q(&format!("\"{}\"", phrases[r.below(phrases.len())]))
            })
        }),
        (
            "2 syllables + date range",
            Box::new(|r: &mut Rng| SearchQuery {
                from: Some("2022-01-01".into()),
                to: Some("2023-06-30".into()),
                ..q(two_syllable[r.below(two_syllable.len())])
            }),
        ),
    ];
    println!(
        "\nquery latency, {} queries each, top 20 with snippets",
        args.queries
    );
    println!("{:<26} {:>8} {:>8}", "kind", "p50 ms", "p95 ms");
    for (name, make) in &kinds {
        let mut times = Vec::with_capacity(args.queries);
        for _ in 0..args.queries {
            let query = make(&mut rng);
            let t = Instant::now();
            let hits = index.search(&query)?;
            times.push(t.elapsed());
            std::hint::black_box(hits);
        }
        times.sort();
        println!(
            "{name:<26} {:>8.2} {:>8.2}",
            percentile(&times, 0.5),
            percentile(&times, 0.95)
        );
    }

    // An edit, from the store's commit to being searchable.
    let mut times = Vec::new();
    for i in 0..10 {
        let seg = store
            .segments(session_ids[i % session_ids.len()])?
            .remove(i);
        let marker = format!("sửa đổi số {i} zyxw{i}");
        let t = Instant::now();
        store.edit_segment(
            seg.id,
            seg.version,
            &SegmentEdit {
                text: Some(marker.clone()),
                ..SegmentEdit::default()
            },
            "bench",
        )?;
        index.update(&store, None, Some(seg.id))?;
        let found = index.search(&q(&format!("zyxw{i}")))?;
        times.push(t.elapsed());
        assert_eq!(found.len(), 1, "the edit is searchable");
    }
    times.sort();
    println!(
        "\nedit to searchable: p50 {:.0} ms, max {:.0} ms",
        percentile(&times, 0.5),
        percentile(&times, 1.0)
    );
    Ok(())
}

/// Makes one query of a kind from the generator.
type QueryMaker<'a> = Box<dyn Fn(&mut Rng) -> SearchQuery + 'a>;

fn q(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.to_owned(),
        limit: 20,
        ..SearchQuery::default()
    }
}
