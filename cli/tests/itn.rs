//! `tocky itn`, run as the real binary on standard input: one output line
//! for each input line, empty lines kept, fillers removed or kept.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn itn(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("itn")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tocky runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn each_line_in_written_form_same_line_count() {
    let input = "Ờ, Quốc hội khóa mười lăm\n\
                 \n\
                 có bốn trăm tám mươi hai đại biểu tán thành, chiếm chín mươi sáu phẩy hai phần trăm\n\
                 ờ\n\
                 ngày hai mươi mốt tháng mười năm hai nghìn không trăm hai mươi sáu\n\
                 \n";
    let out = itn(&[], input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), input.lines().count());
    assert_eq!(
        text,
        "Quốc hội khóa XV\n\
         \n\
         có 482 đại biểu tán thành, chiếm 96,2%\n\
         \n\
         ngày 21 tháng 10 năm 2026\n\
         \n"
    );
}

#[test]
fn keep_fillers_and_json() {
    let out = itn(&["--keep-fillers"], "tôi ờ xin\n");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "tôi ờ xin\n");

    let out = itn(&["--json"], "ờ điều mười hai\n");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"], "điều 12");
    assert_eq!(v["spans"][0]["kind"], "filler");
    assert_eq!(v["spans"][0]["removed"], true);
    assert_eq!(v["spans"][1]["kind"], "legal");
    assert_eq!(v["spans"][1]["input"], "mười hai");
    assert_eq!(v["spans"][1]["output"], "12");
}

#[test]
fn input_without_final_newline_and_crlf() {
    let out = itn(&[], "hai mươi\r\nba mươi");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "20\r\n30\n");
    let out = itn(&[], "");
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn invalid_utf8_is_an_error_with_its_line() {
    let out = itn(&[], "hai mươi\n\u{0}\n");
    assert!(out.status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tocky"))
        .arg("itn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hai\n\xff\xfe\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}
