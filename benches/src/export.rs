//! Export times for a 4-hour sitting: a synthetic sitting in a real store
//! (segments of 3 to 30 s of Vietnamese text, a chair and forty other
//! speakers linked to the people registry, speeches of one to four
//! segments between the chair's, twenty agenda items, scene notes),
//! reviewed and published; then, several times each, the export loaded
//! (the working record, written form applied, and the published
//! version, from its frozen content) and rendered in every format. Prints
//! the median and the fastest run of each, and each file's size.
//!
//! ```text
//! cargo run --release -p tocky-bench --bin bench-export -- --minutes 240 --runs 7
//! ```

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use tocky_bench::synthetic::{Rng, document, sentence};
use tocky_core::Segment;
use tocky_core::document::TranscriptDocument;
use tocky_server::export::{Format, SessionExport};
use tocky_store::{
    AgendaEntry, IngestOutcome, NewPerson, PersonRole, Reasons, ReviewStatus, RoleSpan, SceneKind,
    SegmentEdit, SessionMeta, StartChange, Store, WorkflowState,
};

#[derive(Debug, Parser)]
struct Args {
    /// Length of the sitting, in minutes.
    #[arg(long, default_value_t = 240)]
    minutes: u64,
    /// Runs of each load and format.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Agenda items.
    #[arg(long, default_value_t = 20)]
    items: usize,
    /// Writes the published version's files here, to look at.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

/// Syllables a second: a plenary's pace.
const SYLLABLES_PER_SECOND: usize = 4;

/// Segments of 3 to 30 s, 300 ms apart, filling `minutes`, each with as
/// many syllables as its length holds.
fn sitting(rng: &mut Rng, minutes: u64) -> TranscriptDocument {
    let end = minutes * 60_000;
    let mut segments = Vec::new();
    let mut at = 0u64;
    while at < end {
        let length = 3_000 + rng.below(27_001) as u64;
        let target = length as usize * SYLLABLES_PER_SECOND / 1000;
        let (mut text, mut syllables) = sentence(rng);
        while syllables < target {
            let (more, count) = sentence(rng);
            text.push(' ');
            text.push_str(&more);
            syllables += count;
        }
        segments.push(Segment {
            start_ms: at,
            end_ms: at + length,
            text,
            ..Segment::default()
        });
        at += length + 300;
    }
    document(
        "phien-4-gio.flac".into(),
        "4".repeat(64),
        "flac",
        at,
        segments,
    )
}

/// The registry: a chair, three vice-chairs, eight ministers, thirty
/// delegates of their provinces.
fn people() -> Vec<NewPerson> {
    const NAMES: [&str; 12] = [
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "Lê Hoàng Cường",
        "Phạm Thu Dung",
        "Hoàng Minh Đức",
        "Vũ Thị Giang",
        "Đặng Quốc Hải",
        "Bùi Thanh Hương",
        "Đỗ Văn Khánh",
        "Hồ Thị Lan",
        "Ngô Đình Minh",
        "Dương Thị Ngọc",
    ];
    const PROVINCES: [&str; 6] = [
        "Hà Nội",
        "Thành phố Hồ Chí Minh",
        "Đà Nẵng",
        "Nghệ An",
        "Cần Thơ",
        "Quảng Ninh",
    ];
    let person = |i: usize, role: PersonRole, delegation: Option<&str>| NewPerson {
        key: format!("p-{i:03}"),
        name: format!("{} {}", NAMES[i % NAMES.len()], i),
        delegation: delegation.map(Into::into),
        roles: vec![RoleSpan {
            role,
            title: None,
            valid_from: Some("2021-07-20".into()),
            valid_to: None,
        }],
        ..NewPerson::default()
    };
    (0..42)
        .map(|i| match i {
            0 => person(i, PersonRole::Chair, None),
            1..=3 => person(i, PersonRole::ViceChair, None),
            4..=11 => person(i, PersonRole::Minister, None),
            _ => person(
                i,
                PersonRole::Delegate,
                Some(PROVINCES[i % PROVINCES.len()]),
            ),
        })
        .collect()
}

/// Builds the sitting in `store` and publishes it; returns its id and
/// its segment, speech and note counts.
fn build(store: &mut Store, args: &Args) -> Result<(i64, usize, usize, usize)> {
    let mut rng = Rng(0x4_0E0E);
    let meta = SessionMeta {
        title: Some("Phiên họp toàn thể, Kỳ họp thứ mười, Quốc hội khóa XV".into()),
        sitting_date: Some("2026-10-21".into()),
        agenda_item: Some("Thảo luận ở hội trường".into()),
    };
    let id = match store.ingest(&sitting(&mut rng, args.minutes), &meta, "bench")? {
        IngestOutcome::Created { session_id, .. } => session_id,
        other => anyhow::bail!("not ingested: {other:?}"),
    };
    store.import_people(&people(), "bench")?;
    let mut speakers = Vec::new();
    for i in 0..42 {
        let speaker = store.add_speaker(id, &format!("Người nói {i}"), None, None)?;
        let person = store.person(&format!("p-{i:03}"))?;
        store.link_speaker(speaker, Some(person.id), "bench")?;
        speakers.push(speaker);
    }
    // The chair opens, gives the floor, and speaks between the others;
    // each of them speaks for one to four segments.
    let segments = store.segments(id)?;
    let (mut at, mut speeches) = (0, 0);
    while at < segments.len() {
        let (speaker, run) = match speeches % 2 {
            0 => (speakers[0], 1),
            _ => (
                speakers[1 + rng.below(speakers.len() - 1)],
                1 + rng.below(4),
            ),
        };
        for segment in segments.iter().skip(at).take(run) {
            let edit = SegmentEdit {
                speaker_id: Some(Some(speaker)),
                review_status: Some(ReviewStatus::Reviewed),
                ..SegmentEdit::default()
            };
            store.edit_segment(segment.id, segment.version, &edit, "bench")?;
        }
        at += run;
        speeches += 1;
    }
    let agenda: Vec<AgendaEntry> = (0..args.items)
        .map(|i| AgendaEntry {
            title: format!("Thảo luận dự án Luật số {} (sửa đổi)", i + 1),
            reference: Some(format!("Tờ trình số {}/TTr-CP", 100 + i)),
            start: StartChange::At(segments[i * segments.len() / args.items].id),
            ..AgendaEntry::default()
        })
        .collect();
    store.set_agenda(id, &agenda, "bench")?;
    let kinds = [SceneKind::Applause, SceneKind::Gavel, SceneKind::Vote];
    let notes = segments.len() / 20;
    for n in 0..notes {
        let at = segments[n * 20 + 10].start_ms - 100;
        store.add_note(id, at, kinds[n % kinds.len()], "", "bench")?;
    }
    use WorkflowState::{Approved, Checked, Published};
    for to in [Checked, Approved, Published] {
        store.move_workflow(id, to, "bench", None, &Reasons::default())?;
    }
    Ok((id, segments.len(), speeches, notes))
}

/// The median and the fastest of `runs` runs of `f`, and its last result.
fn time<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(Duration, Duration, T)> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        last = Some(f()?);
        times.push(start.elapsed());
    }
    times.sort();
    let last = last.context("no run")?;
    Ok((times[times.len() / 2], times[0], last))
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(&dir.path().join("tocky.db"))?;
    let started = Instant::now();
    let (id, segments, speeches, notes) = build(&mut store, &args)?;
    println!(
        "sitting: {} min, {segments} segments, {speeches} speeches, {} agenda items, \
         {notes} notes, built and published in {:.1} s",
        args.minutes,
        args.items,
        started.elapsed().as_secs_f64()
    );
    println!("| what | median ms | fastest ms | bytes |");
    println!("|---|---:|---:|---:|");
    let (median, fastest, working) = time(args.runs, || Ok(SessionExport::load(&store, id)?))?;
    println!(
        "| load (working record) | {} | {} | |",
        ms(median),
        ms(fastest)
    );
    let (median, fastest, version) = time(args.runs, || {
        Ok(SessionExport::load_version(&store, id, 1)?)
    })?;
    println!("| load (version 1) | {} | {} | |", ms(median), ms(fastest));
    let words: usize = version
        .record
        .iter()
        .flat_map(|part| &part.entries)
        .map(|entry| match entry {
            tocky_server::export::model::ExportEntry::Speech(s) => {
                s.text.split_whitespace().count()
            }
            tocky_server::export::model::ExportEntry::Note(_) => 0,
        })
        .sum();
    for (label, export) in [("version 1", &version), ("working record", &working)] {
        for format in Format::ALL {
            let (median, fastest, bytes) = time(args.runs, || Ok(export.render(format)?))?;
            println!(
                "| {} ({label}) | {} | {} | {} |",
                format.extension(),
                ms(median),
                ms(fastest),
                bytes.len()
            );
            if let (Some(out), "version 1") = (&args.out, label) {
                std::fs::create_dir_all(out)?;
                let file = out.join(format!("session-{id}-v1.{}", format.file_extension()));
                std::fs::write(file, &bytes)?;
            }
        }
    }
    println!("record: {words} words in written form");
    Ok(())
}
