//! Every pair of `tests/data/pairs.tsv` (spoken → written, in tocky's
//! convention), with the pass rate per category; all must pass.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use tocky_itn::{Itn, Options};

const PAIRS: &str = include_str!("data/pairs.tsv");

struct Case {
    category: String,
    spoken: String,
    written: String,
}

fn cases() -> Vec<Case> {
    let mut category = String::from("none");
    let mut out = Vec::new();
    for line in PAIRS.lines() {
        if let Some(name) = line.strip_prefix("#=") {
            category = name.trim().to_owned();
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (spoken, written) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("no tab in {line:?}"));
        out.push(Case {
            category: category.clone(),
            spoken: spoken.to_owned(),
            written: written.to_owned(),
        });
    }
    out
}

#[test]
fn every_pair_passes() {
    let itn = Itn::new(Options::default());
    let cases = cases();
    assert!(cases.len() >= 300, "{} pairs", cases.len());
    let unchanged = cases.iter().filter(|c| c.spoken == c.written).count();
    assert!(unchanged >= 60, "{unchanged} unchanged pairs");
    let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for c in &cases {
        let got = itn.line(&c.spoken).text;
        let entry = per.entry(&c.category).or_default();
        entry.1 += 1;
        if got == c.written {
            entry.0 += 1;
        } else {
            failures.push(format!(
                "{}: {:?}\n   want {:?}\n    got {:?}",
                c.category, c.spoken, c.written, got
            ));
        }
    }
    for (category, (pass, total)) in &per {
        println!(
            "{category:10} {pass:4}/{total:<4} {:.1} %",
            100.0 * *pass as f64 / *total as f64
        );
    }
    let pass = cases.len() - failures.len();
    println!(
        "all        {pass:4}/{:<4} {:.1} % ({unchanged} must stay unchanged)",
        cases.len(),
        100.0 * pass as f64 / cases.len() as f64
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_unchanged_category_is_unchanged() {
    for c in cases().iter().filter(|c| c.category == "unchanged") {
        assert_eq!(c.spoken, c.written, "a case in 'unchanged' that changes");
    }
}
