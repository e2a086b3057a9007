//! `tocky people import` and `list`, run as the real binary against a
//! database in a temporary folder.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tocky(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("tocky runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(db: &Path, file: &Path) -> Output {
    tocky(db, &["people", "import", file.to_str().unwrap()])
}

fn listed(db: &Path) -> serde_json::Value {
    let output = tocky(db, &["people", "list", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

const DELEGATES_CSV: &str = "\u{feff}id,name,delegation,seat,role,title,from,to
dbqh-0001,Trần Thanh Mẫn,Hậu Giang,,delegate,,2021-07-20,
dbqh-0001,,,,chair,Chủ tịch Quốc hội,2024-05-20,
dbqh-0123, Nguyễn Văn A ,Hà Nội,A-12,delegate,,2021-07-20,
";

#[test]
fn a_csv_import_adds_people_and_a_reimport_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let csv = write(dir.path(), "delegates.csv", DELEGATES_CSV);

    let first = import(&db, &csv);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("2 added, 0 updated, 0 unchanged"));
    let again = import(&db, &csv);
    assert!(stdout(&again).contains("0 added, 0 updated, 2 unchanged"));

    let people = listed(&db);
    let people = people.as_array().unwrap();
    assert_eq!(people.len(), 2);
    assert_eq!(people[0]["key"], "dbqh-0001");
    assert_eq!(people[0]["roles"][1]["role"], "chair");
    assert_eq!(people[0]["roles"][1]["title"], "Chủ tịch Quốc hội");
    assert_eq!(people[0]["roles"][1]["valid_from"], "2024-05-20");
    assert_eq!(people[1]["name"], "Nguyễn Văn A");
    assert_eq!(people[1]["seat"], "A-12");

    let text = tocky(&db, &["people", "list"]);
    let lines: Vec<_> = stdout(&text).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with("dbqh-0123\tNguyễn Văn A\tHà Nội\tseat A-12"));
}

#[test]
fn a_toml_import_updates_by_id_and_never_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let csv = write(dir.path(), "delegates.csv", DELEGATES_CSV);
    assert!(import(&db, &csv).status.success());
    let id_before = listed(&db)[1]["id"].clone();

    let toml = write(
        dir.path(),
        "update.TOML",
        r#"
[[person]]
id = "dbqh-0123"
name = "Nguyễn Văn A"
delegation = "Hà Nội"
seat = 7

[[person.roles]]
role = "delegate"
from = 2021-07-20

[[person.roles]]
role = "minister"
title = "Bộ trưởng Bộ Tài chính"
from = "2025-03-01"

[[person]]
id = "khach-01"
name = "Lê Thị Khách"

[[person.roles]]
role = "invited"
"#,
    );
    let output = import(&db, &toml);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("1 added, 1 updated, 0 unchanged"));

    let people = listed(&db);
    let people = people.as_array().unwrap();
    assert_eq!(people.len(), 3, "one new person, none duplicated");
    let updated = &people[1];
    assert_eq!(updated["key"], "dbqh-0123");
    assert_eq!(updated["id"], id_before, "the row id is kept");
    assert_eq!(updated["seat"], "7");
    assert_eq!(updated["roles"].as_array().unwrap().len(), 2);
    assert_eq!(people[2]["roles"][0]["role"], "invited");
}

/// Imports `text` as `name` into a database holding the delegates, and
/// returns the error printed; checks that nothing changed.
fn refused(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    assert!(
        import(&db, &write(dir.path(), "ok.csv", DELEGATES_CSV))
            .status
            .success()
    );
    let before = listed(&db);
    let output = import(&db, &write(dir.path(), name, text));
    assert!(!output.status.success(), "{name} was accepted");
    assert_eq!(listed(&db), before, "{name}: all or nothing");
    let error = stderr(&output);
    assert!(error.contains("nothing was imported"), "{error}");
    error
}

#[test]
fn a_bad_csv_line_is_named_and_nothing_is_imported() {
    let unknown_role = refused(
        "roles.csv",
        "id,name,role\ndbqh-0123,Nguyễn Văn B,delegate\ndbqh-0900,Mới,speaker\n",
    );
    assert!(
        unknown_role.contains("line 3: unknown role \"speaker\""),
        "{unknown_role}"
    );

    let bad_date = refused(
        "dates.csv",
        "id,name,role,from\ndbqh-0900,Mới,delegate,2021-02-30\n",
    );
    assert!(bad_date.contains("line 2: valid from: "), "{bad_date}");

    let no_name = refused("names.csv", "id,name\ndbqh-0900,Mới\ndbqh-0901,\n");
    assert!(
        no_name.contains("line 3") && no_name.contains("name"),
        "{no_name}"
    );

    let clash = refused(
        "clash.csv",
        "id,name,seat\ndbqh-0900,Mới,1\ndbqh-0901,Khác,2\ndbqh-0900,Mới,9\n",
    );
    assert!(
        clash.contains("line 4") && clash.contains("line 2"),
        "{clash}"
    );

    let column = refused("columns.csv", "id,name,rolle\n");
    assert!(column.contains("unknown column \"rolle\""), "{column}");

    let missing = refused("missing.csv", "name,seat\nA,1\n");
    assert!(missing.contains("\"id\" is missing"), "{missing}");

    let short = refused("short.csv", "id,name\ndbqh-0900,Mới\ndbqh-0901\n");
    assert!(short.contains("line: 3"), "{short}");

    let hidden = refused("hidden.csv", "id,name\ndbqh-0900,A\u{202E}B\n");
    assert!(
        hidden.contains("line 2") && hidden.contains("direction"),
        "{hidden}"
    );
}

#[test]
fn a_bad_toml_entry_is_named_and_nothing_is_imported() {
    let reversed = refused(
        "reversed.toml",
        "[[person]]\nid = \"dbqh-0123\"\nname = \"A\"\n\
         [[person.roles]]\nrole = \"minister\"\nfrom = 2024-01-01\nto = 2023-01-01\n",
    );
    assert!(
        reversed.contains("entry 1 (id \"dbqh-0123\")") && reversed.contains("before it starts"),
        "{reversed}"
    );

    let twice = refused(
        "twice.toml",
        "[[person]]\nid = \"x-1\"\nname = \"A\"\n[[person]]\nid = \"x-1\"\nname = \"B\"\n",
    );
    assert!(
        twice.contains("entry 2") && twice.contains("entry 1"),
        "{twice}"
    );

    let typo = refused("typo.toml", "[[person]]\nid = \"x-1\"\nnmae = \"A\"\n");
    assert!(typo.contains("line 3") && typo.contains("nmae"), "{typo}");

    let empty = refused("empty.toml", "");
    assert!(empty.contains("names no people"), "{empty}");

    let other = refused("people.json", "[]");
    assert!(other.contains("not a .csv or .toml file"), "{other}");
}

#[test]
fn an_empty_registry_lists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocky.db");
    let output = tocky(&db, &["people", "list"]);
    assert!(output.status.success());
    assert!(stdout(&output).is_empty());
    assert!(stderr(&output).contains("tocky people import"));
    assert_eq!(listed(&db), serde_json::json!([]));
}
