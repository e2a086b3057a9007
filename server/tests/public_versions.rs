//! The public record across versions: a draft is never visible to the
//! public, corrections are linked both ways, the Atom feed has one entry
//! per version, and the public search finds published text only. Session
//! 1 holds "Kính thưa Quốc hội", "luật đất đai sửa đổi" and "xin cảm ơn"
//! (segments 1–3); session 2 holds segment 4 and is never published.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod public_record;

use std::str::FromStr;

use common::*;
use public_record::*;

#[tokio::test]
async fn a_draft_is_never_visible_to_the_public() {
    let f = fixture_for(true);
    let (lan, thu, doc) = (
        f.login("lan").await,
        f.login("thu").await,
        f.login("doc").await,
    );
    publish(&f, &lan, &thu, json!({})).await;
    let published = page(&f, None, "/records/1").await.2;
    edit(&f, &lan, 1, "bản nháp chưa duyệt").await;

    // The pages show the published version, byte for byte, to everyone.
    for login in [None, Some(&doc), Some(&thu)] {
        for uri in ["/records/1", "/records/1/v/1"] {
            let (status, _, body) = page(&f, login, uri).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, published, "{uri}");
        }
    }
    // Without a login: the draft's routes are closed, exports are the
    // published version's, the list has the published sitting only.
    for uri in [
        "/api/sessions/1/segments",
        "/api/segments/1/revisions",
        "/api/sessions/1/record",
        "/api/sessions/1/workflow",
        "/api/sessions/1/live",
    ] {
        let (status, _, body) = page(&f, None, uri).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}: {body}");
    }
    let (status, _, txt) = page(&f, None, "/api/sessions/1/export/txt").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        txt.contains("Kính thưa Quốc hội") && !txt.contains("nháp"),
        "{txt}"
    );
    let (_, _, txt) = page(&f, Some(&doc), "/api/sessions/1/export/txt").await;
    assert!(txt.contains("bản nháp chưa duyệt"), "{txt}");
    let (_, sessions) = f.json(get("/api/sessions")).await;
    let ids: Vec<i64> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1]);
    let (status, detail) = f.json(get("/api/sessions/1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["session"]["title"], "Phiên họp thứ nhất");
    // As published, not as the working record stands (sent back to draft).
    assert_eq!(detail["session"]["workflow"], "published");
    assert_eq!(sessions[0]["workflow"], "published");
    assert_eq!(sessions[0]["segment_count"], sessions[0]["reviewed_count"]);
    let (_, working) = f.json(doc.get("/api/sessions/1")).await;
    assert_eq!(working["session"]["workflow"], "draft");
    let (status, _) = f.json(get("/api/sessions/2")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = page(&f, None, "/api/sessions/2/audio").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Search: without a login only the published text; with one, either.
    let hits = |v: &Value| v["hits"].as_array().unwrap().len();
    let (status, out) = f.json(get("/api/search?q=nhap")).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(hits(&out), 0, "{out}");
    let (_, out) = f.json(get("/api/search?q=kinh+thua&published=false")).await;
    assert_eq!(hits(&out), 1, "{out}");
    assert_eq!(out["hits"][0]["version"], 1);
    assert_eq!(out["hits"][0]["text"], "Kính thưa Quốc hội");
    let (_, out) = f.json(doc.get("/api/search?q=nhap")).await;
    assert_eq!(hits(&out), 1, "{out}");
    assert!(out["hits"][0].get("version").is_none());
    let (_, out) = f.json(doc.get("/api/search?q=nhap&published=true")).await;
    assert_eq!(hits(&out), 0, "{out}");
    let (_, out) = f
        .json(doc.get("/api/search?q=kinh+thua&published=true"))
        .await;
    assert_eq!(hits(&out), 1, "{out}");
    // Session 2 (never published) is not in the published text.
    let (_, out) = f.json(doc.get("/api/search?q=khac&published=true")).await;
    assert_eq!(hits(&out), 0, "{out}");
    let (_, out) = f.json(doc.get("/api/search?q=khac")).await;
    assert_eq!(hits(&out), 1, "{out}");

    // Published again: the next version, searchable at once.
    let first = page(&f, None, "/records/1").await.2;
    publish(&f, &lan, &thu, json!({"1": "theo đề nghị của đại biểu"})).await;
    let (_, out) = f.json(get("/api/search?q=nhap")).await;
    assert_eq!(hits(&out), 1, "{out}");
    assert_eq!(out["hits"][0]["version"], 2);
    let (_, out) = f.json(get("/api/search?q=kinh+thua")).await;
    assert_eq!(hits(&out), 0, "{out}");
    let second = page(&f, None, "/records/1").await.2;
    assert!(
        second.contains("<dd id=\"version\">2 (tạm thời)</dd>"),
        "{second}"
    );
    assert!(second.contains("bản nháp chưa duyệt"));
    // Version 1 is still there, pointing to the version that corrects it.
    let v1 = page(&f, None, "/records/1/v/1").await.2;
    assert!(v1.contains("href=\"/records/1/v/2\""), "{v1}");
    assert_eq!(
        v1.replace(
            "<p class=\"notice\">Phiên bản này đã được đính chính: xem <a href=\"/records/1/v/2\">phiên bản 2</a>.</p>\n",
            ""
        ),
        first
    );
}

#[tokio::test]
async fn corrections_are_linked_both_ways() {
    let f = fixture_for(true);
    let (lan, thu) = (f.login("lan").await, f.login("thu").await);
    publish(&f, &lan, &thu, json!({})).await;
    edit(&f, &lan, 2, "luật đất đai (sửa đổi)").await;
    assert_eq!(
        publish(&f, &lan, &thu, json!({"2": "sửa theo băng ghi âm"})).await,
        2
    );
    let body = page(&f, None, "/records/1").await.2;
    let (_, corrections) = f
        .json(thu.get("/api/sessions/1/versions/2/corrections"))
        .await;
    let c = corrections["corrections"][0]["id"]
        .as_i64()
        .or_else(|| corrections[0]["id"].as_i64())
        .unwrap();
    // The speech links to its correction; the correction to the speech and
    // to the version it corrects; with what changed and why.
    assert!(
        body.contains(&format!("<a class=\"corrected\" href=\"#c{c}\">")),
        "{body}"
    );
    assert!(
        body.contains(&format!("<li id=\"c{c}\"><a href=\"#s1\">0:00:05</a>")),
        "{body}"
    );
    assert!(body.contains("<a class=\"previous\" href=\"/records/1/v/1\">phiên bản 1</a>"));
    assert!(body.contains("<del>luật đất đai sửa đổi</del> → <ins>luật đất đai (sửa đổi)</ins>"));
    assert!(body.contains("Lý do: sửa theo băng ghi âm"));
}

#[tokio::test]
async fn the_feed_has_one_entry_per_version() {
    let f = fixture_for(true);
    let (lan, thu) = (f.login("lan").await, f.login("thu").await);
    publish(&f, &lan, &thu, json!({})).await;
    edit(&f, &lan, 3, "xin trân trọng cảm ơn").await;
    publish(&f, &lan, &thu, json!({})).await;
    let (status, headers, body) = page(&f, None, "/records/feed.atom").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/atom+xml; charset=utf-8"
    );
    let feed = atom_syndication::Feed::from_str(&body).unwrap();
    assert!(
        body.contains("xmlns=\"http://www.w3.org/2005/Atom\""),
        "{body}"
    );
    assert!(!feed.id().is_empty() && !feed.title().value.is_empty());
    assert!(feed.links().iter().any(|l| l.rel() == "self"));
    let entries = feed.entries();
    assert_eq!(entries.len(), 2);
    let (_, thu_versions) = f.json(thu.get("/api/sessions/1/versions")).await;
    // Newest first.
    for (entry, version) in entries.iter().zip([&thu_versions[1], &thu_versions[0]]) {
        let number = version["number"].as_i64().unwrap();
        assert!(entry.id().starts_with("urn:uuid:"), "{}", entry.id());
        assert_eq!(
            entry.title().value,
            format!("Phiên họp thứ nhất — phiên bản {number} (ngày họp 2026-10-21)")
        );
        let at = atom_syndication::FixedDateTime::parse_from_rfc3339(
            version["published_at"].as_str().unwrap(),
        )
        .unwrap();
        assert_eq!(*entry.updated(), at);
        assert_eq!(entry.published(), Some(&at));
        assert_eq!(entry.links()[0].href(), format!("/records/1/v/{number}"));
        assert_eq!(entry.authors()[0].name(), "thu");
        let summary = &entry.summary().unwrap().value;
        assert!(
            summary.starts_with(&format!("Phiên bản {number} (tạm thời)")),
            "{summary}"
        );
    }
    assert_ne!(entries[0].id(), entries[1].id());
    assert!(
        entries[0]
            .summary()
            .unwrap()
            .value
            .contains("1 đính chính so với phiên bản trước")
    );
    assert_eq!(feed.updated(), entries[0].updated());
    // Readers of the feed never see a version's draft.
    edit(&f, &lan, 3, "nháp").await;
    let again = page(&f, None, "/records/feed.atom").await.2;
    assert_eq!(again, body);
}

#[tokio::test]
async fn the_public_search_page_finds_published_text_only() {
    let f = fixture_for(true);
    let (lan, thu) = (f.login("lan").await, f.login("thu").await);
    // Before any publication: the form, and nothing found.
    let (status, headers, body) = page(&f, None, "/records/search?q=dat+dai").await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert!(body.contains("<form class=\"search\" action=\"/records/search\" method=\"get\""));
    assert!(body.contains("value=\"dat dai\""));
    assert!(body.contains("Không tìm thấy."), "{body}");

    publish(&f, &lan, &thu, json!({})).await;
    edit(&f, &lan, 2, "luật nhà ở chưa công bố").await;
    let body = page(&f, None, "/records/search?q=dat+dai").await.2;
    // Segment 2 is in the speech that starts at segment 1.
    assert!(
        body.contains("<a href=\"/records/1/v/1#s1\">Phiên họp thứ nhất</a>"),
        "{body}"
    );
    assert!(
        body.contains("href=\"/api/sessions/1/audio#t=5.000\""),
        "{body}"
    );
    assert!(body.contains("<b>đất</b> <b>đai</b>"), "{body}");
    let body = page(&f, None, "/records/search?q=nha+o").await.2;
    assert!(
        body.contains("Không tìm thấy.") && !body.contains("chưa công bố"),
        "{body}"
    );
    // The API says the same.
    let (_, out) = f.json(get("/api/search?q=dat+dai")).await;
    assert_eq!(out["hits"][0]["speech"], 1);
    assert_eq!(out["hits"][0]["version"], 1);

    // Typed text is escaped back into the form; bad input is a clear page.
    let body = page(&f, None, "/records/search?q=%22%3E%3Cscript%3E")
        .await
        .2;
    assert!(!body.contains("<script"), "{body}");
    assert!(
        body.contains("value=\"&quot;&gt;&lt;script&gt;\""),
        "{body}"
    );
    let long = "a".repeat(2000);
    let (status, _, _) = page(&f, None, &format!("/records/search?q={long}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The list of sittings carries the form.
    let list = page(&f, None, "/records").await.2;
    assert!(list.contains("action=\"/records/search\""));
    // Without public reading, a login.
    let private = fixture_for(false);
    let (status, _, _) = page(&private, None, "/records/search?q=x").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
