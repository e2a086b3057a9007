//! The public record's pages: a sitting never published is 404 for
//! everyone, the pages need `public_read` or a login, a published page
//! has its version's permalinks, audio links and print style, hostile text
//! stays inert, agenda items and speakers are headings. (Drafts, the
//! corrections between versions, the feed and search are in
//! public_versions.rs; the fixture is public_record/mod.rs's.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod public_record;

use std::str::FromStr;

use common::*;
use public_record::*;

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
