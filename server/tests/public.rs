//! The public record: pages of published versions (`/records/…`), the
//! Atom feed, the HTML export, and what a visitor without a login reaches
//! with `public_read` (published material only, never a draft). Session 1
//! holds "Kính thưa Quốc hội", "luật đất đai sửa đổi" and "xin cảm ơn"
//! (segments 1–3); session 2 holds segment 4 and is never published.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::str::FromStr;

use common::*;

/// The fixture with an editor, `thu`; `public` turns `public_read` on.
fn fixture_for(public: bool) -> Fixture {
    let f = fixture_with(|c| c.public_read = public);
    let mut store = Store::open(&f.root.join("tocky.db")).unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    store.add_user("thu", &hash, Role::Editor, "test").unwrap();
    f
}

/// The body of a GET (with `login`, or none), its status and headers.
async fn page(
    f: &Fixture,
    login: Option<&Login>,
    uri: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let request = match login {
        Some(login) => login.get(uri),
        None => get(uri),
    };
    let (status, headers, body) = f.send(request).await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// Edits segment `id`'s text (and marks it reviewed) as `who`.
async fn edit(f: &Fixture, who: &Login, id: i64, text: &str) {
    let (_, segments) = f.json(who.get("/api/sessions/1/segments")).await;
    let current = segments
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
        .clone();
    let (status, out) = f
        .json(who.send_json(
            "PATCH",
            &format!("/api/segments/{id}"),
            &json!({"version": current["version"], "text": text, "review_status": "reviewed"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
}

/// Reviews every segment of session 1 and publishes it as `thu`, with
/// `reasons` by segment id; returns the version's number.
async fn publish(f: &Fixture, lan: &Login, thu: &Login, reasons: Value) -> i64 {
    let (_, segments) = f.json(lan.get("/api/sessions/1/segments")).await;
    for s in segments.as_array().unwrap() {
        if s["review_status"] != "reviewed" {
            let (status, out) = f
                .json(lan.send_json(
                    "PATCH",
                    &format!("/api/segments/{}", s["id"]),
                    &json!({"version": s["version"], "review_status": "reviewed"}),
                ))
                .await;
            assert_eq!(status, StatusCode::OK, "{out}");
        }
    }
    for (who, to) in [(lan, "checked"), (thu, "approved")] {
        let (status, out) = f
            .json(who.send_json("POST", "/api/sessions/1/workflow", &json!({"to": to})))
            .await;
        assert_eq!(status, StatusCode::OK, "{to}: {out}");
    }
    let (status, out) = f
        .json(thu.send_json(
            "POST",
            "/api/sessions/1/workflow",
            &json!({"to": "published", "note": "bản tạm thời", "reasons": reasons}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out["version"]["number"].as_i64().unwrap()
}

#[tokio::test]
async fn a_sitting_never_published_is_404_for_everyone() {
    let f = fixture_for(true);
    let (doc, thu) = (f.login("doc").await, f.login("thu").await);
    for login in [None, Some(&doc), Some(&thu)] {
        for uri in ["/records/1", "/records/1/v/1", "/records/2"] {
            let (status, headers, body) = page(&f, login, uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
            assert!(
                headers[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
            assert!(!body.contains("Kính thưa"), "{body}");
        }
        let (status, _, body) = page(&f, login, "/records").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!body.contains("Phiên họp thứ nhất"), "{body}");
        let (status, _, feed) = page(&f, login, "/records/feed.atom").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            atom_syndication::Feed::from_str(&feed)
                .unwrap()
                .entries()
                .is_empty()
        );
    }
    // Without a login, nothing of a draft sitting through the API either.
    for uri in [
        "/api/sessions/1/export/html",
        "/api/sessions/1/export/txt",
        "/api/sessions/1/audio",
    ] {
        let (status, _, body) = page(&f, None, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
    }
    let (status, sessions) = f.json(get("/api/sessions")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sessions, json!([]));
    // A reader sees the working record.
    let (status, sessions) = f.json(doc.get("/api/sessions")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sessions.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_public_pages_need_public_read_or_a_login() {
    let f = fixture_for(false);
    let (lan, thu, doc) = (
        f.login("lan").await,
        f.login("thu").await,
        f.login("doc").await,
    );
    publish(&f, &lan, &thu, json!({})).await;
    for uri in [
        "/records",
        "/records/1",
        "/records/1/v/1",
        "/records/feed.atom",
    ] {
        let (status, headers, body) = page(&f, None, uri).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(!body.contains("Kính thưa"));
        for login in [&doc, &thu] {
            let (status, _, _) = page(&f, Some(login), uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
        }
    }
    let (status, _, _) = page(&f, None, "/api/sessions/1/export/html?version=1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_published_page_has_the_version_permalinks_audio_links_and_print_style() {
    let f = fixture_for(true);
    let (lan, thu, doc) = (
        f.login("lan").await,
        f.login("thu").await,
        f.login("doc").await,
    );
    assert_eq!(publish(&f, &lan, &thu, json!({})).await, 1);
    let (status, headers, body) = page(&f, None, "/records/1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains(&tocky_server::export::html::style_source()),
        "{csp}"
    );
    assert!(
        !csp.contains("script-src") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(
        body.starts_with("<!DOCTYPE html>\n<html lang=\"vi\">"),
        "{body}"
    );
    assert!(body.contains("<meta charset=\"utf-8\">"));
    assert!(body.contains("<h1>Phiên họp thứ nhất</h1>"));
    assert!(body.contains("<time datetime=\"2026-10-21\">21/10/2026</time>"));
    assert!(
        body.contains("<dd id=\"version\">1 (tạm thời)</dd>"),
        "{body}"
    );
    assert!(body.contains("<dd>thu, <time"));
    let versions = f.json(doc.get("/api/sessions/1/versions")).await.1;
    let sha = versions[0]["sha256"].as_str().unwrap();
    assert!(body.contains(&format!("<code>{sha}</code>")));
    // One speech (no speakers): its anchor, permalink and audio link.
    assert!(
        body.contains("<article class=\"speech\" id=\"s1\">"),
        "{body}"
    );
    assert!(body.contains("href=\"/records/1/v/1#s1\""));
    assert!(body.contains("href=\"/api/sessions/1/audio#t=0.000\""));
    assert!(body.contains("Kính thưa Quốc hội luật đất đai sửa đổi xin cảm ơn"));
    assert!(body.contains("@media print"));
    assert!(!body.contains("<script"));
    // The same page for every role, and as the version's own page.
    for login in [Some(&doc), Some(&thu)] {
        assert_eq!(page(&f, login, "/records/1").await.2, body);
    }
    assert_eq!(page(&f, None, "/records/1/v/1").await.2, body);
    // The export is that page too.
    let (status, headers, export) = page(&f, None, "/api/sessions/1/export/html?version=1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("session-1-v1.html")
    );
    assert_eq!(export, body);
    // The audio a speech links to plays for the public.
    let (status, _, _) = page(&f, None, "/api/sessions/1/audio").await;
    assert_eq!(status, StatusCode::OK);
    // The list links to it.
    let (_, _, list) = page(&f, None, "/records").await;
    assert!(
        list.contains("<a href=\"/records/1\">Phiên họp thứ nhất</a>"),
        "{list}"
    );
    assert!(list.contains("phiên bản 1 (tạm thời)"));
    assert!(list.contains("href=\"/records/feed.atom\""));

    // Unknown versions and sittings, bad ids.
    for (uri, want) in [
        ("/records/1/v/2", StatusCode::NOT_FOUND),
        ("/records/1/v/0", StatusCode::NOT_FOUND),
        ("/records/99", StatusCode::NOT_FOUND),
        ("/records/99/v/1", StatusCode::NOT_FOUND),
        ("/records/abc", StatusCode::BAD_REQUEST),
        (
            "/api/sessions/1/export/html?version=2",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, _, body) = page(&f, None, uri).await;
        assert_eq!(status, want, "{uri}: {body}");
    }
}

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
async fn hostile_text_stays_inert() {
    let f = fixture_for(true);
    let (lan, thu) = (f.login("lan").await, f.login("thu").await);
    let hostile = "</p><script>alert(1)</script><img src=x onerror=alert(2)> \"' &amp;";
    edit(&f, &lan, 1, hostile).await;
    let (status, out) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/notes",
            &json!({"at_ms": 4500, "kind": "other", "text": "<b onclick=x>ồn</b>"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    publish(&f, &lan, &thu, json!({})).await;
    edit(&f, &lan, 1, "Kính thưa Quốc hội").await;
    publish(&f, &lan, &thu, json!({"1": "</li><script>x</script>"})).await;
    for uri in ["/records/1/v/1", "/records/1/v/2", "/records"] {
        let body = page(&f, None, uri).await.2;
        assert!(!body.contains("<script"), "{uri}: {body}");
        assert!(!body.contains("<img"), "{uri}");
        assert!(!body.contains("<b onclick"), "{uri}");
    }
    let v1 = page(&f, None, "/records/1/v/1").await.2;
    assert!(v1.contains(
        "&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; \
         &quot;&#39; &amp;amp;"
    ));
    assert!(v1.contains("&lt;b onclick=x&gt;ồn&lt;/b&gt;"), "{v1}");
    let v2 = page(&f, None, "/records/1/v/2").await.2;
    assert!(
        v2.contains("Lý do: &lt;/li&gt;&lt;script&gt;x&lt;/script&gt;"),
        "{v2}"
    );
    // Every tag the page opens is one the renderer writes.
    let allowed = [
        "html", "head", "meta", "title", "style", "body", "nav", "a", "header", "h1", "h2", "h3",
        "p", "time", "dl", "dt", "dd", "code", "main", "section", "article", "ol", "li", "del",
        "ins",
    ];
    for tag in v2.split('<').skip(1) {
        let name: String = tag
            .trim_start_matches(['/', '!'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            allowed.contains(&name.as_str()) || name.eq_ignore_ascii_case("doctype"),
            "<{name}"
        );
    }
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
async fn agenda_items_and_speakers_are_headings() {
    let f = fixture_for(true);
    let (lan, thu) = (f.login("lan").await, f.login("thu").await);
    let (status, out) = f
        .json(lan.send_json(
            "PUT",
            "/api/sessions/1/agenda",
            &json!({"items": [
                {"title": "Khai mạc", "start_segment_id": 1},
                {"title": "Luật Đất đai <sửa đổi>", "reference": "Tờ trình số 5", "start_segment_id": 2},
            ]}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let items = out["items"].as_array().unwrap().clone();
    let (status, speaker) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/speakers",
            &json!({"name": "Trần Văn A"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{speaker}");
    let (_, segments) = f.json(lan.get("/api/sessions/1/segments")).await;
    let third = &segments[2];
    let (status, out) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/3",
            &json!({"version": third["version"], "speaker_id": speaker["id"]}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    publish(&f, &lan, &thu, json!({})).await;
    let body = page(&f, None, "/records/1").await.2;
    assert!(
        body.contains(&format!(
            "<section class=\"item\" id=\"i{}\">\n<h2>1. Khai mạc</h2>",
            items[0]["id"]
        )),
        "{body}"
    );
    assert!(body.contains(&format!(
        "<section class=\"item\" id=\"i{}\">\n<h2>2. Luật Đất đai &lt;sửa đổi&gt; (Tờ trình số 5)</h2>",
        items[1]["id"]
    )));
    // Segment 2 has no speaker, segment 3 is Trần Văn A's: two speeches.
    assert!(body.contains(
        "<article class=\"speech\" id=\"s2\">\n<h3 class=\"speaker\">Người phát biểu chưa rõ</h3>"
    ));
    assert!(
        body.contains(
            "<article class=\"speech\" id=\"s3\">\n<h3 class=\"speaker\">Trần Văn A</h3>"
        )
    );
    assert!(body.contains("href=\"/api/sessions/1/audio#t=10.000\""));
    // Each item starts a new printed page.
    assert!(body.contains("section.item{break-before:page"));
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
