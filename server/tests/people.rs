//! The people registry through the API: listing and searching, adding,
//! changing and importing people (admins only), and linking a session's
//! speaker to a person (stenographers), with roles, bad input and live
//! updates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

const CSV: &str = "id,name,delegation,seat,role,title,from,to\n\
    dbqh-0001,Trần Thanh Mẫn,Hậu Giang,,delegate,,2021-07-20,\n\
    dbqh-0001,,,,chair,Chủ tịch Quốc hội,2024-05-20,\n\
    dbqh-0123,Nguyễn Văn A,Hà Nội,A-12,delegate,,2021-07-20,\n";

fn import_request(login: &Login, query: &str, content_type: &str, body: &str) -> Request<Body> {
    Request::post(format!("/api/people/import{query}"))
        .header(header::COOKIE, &login.cookie)
        .header("x-csrf-token", &login.csrf)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn person(key: &str, name: &str) -> Value {
    json!({"key": key, "name": name, "delegation": "Hà Nội",
           "roles": [{"role": "delegate", "valid_from": "2021-07-20"}]})
}

#[tokio::test]
async fn an_import_adds_then_changes_nothing_and_the_list_is_searchable() {
    let f = fixture();
    let admin = f.login("admin").await;
    let (status, out) = f.json(import_request(&admin, "", "text/csv", CSV)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out, json!({"added": 2, "updated": 0, "unchanged": 0}));
    // The same file again: nobody duplicated, nothing changed.
    let (status, out) = f
        .json(import_request(&admin, "?format=csv", "text/plain", CSV))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out, json!({"added": 0, "updated": 0, "unchanged": 2}));

    let doc = f.login("doc").await;
    let (status, people) = f.json(doc.get("/api/people")).await;
    assert_eq!(status, StatusCode::OK);
    let people = people.as_array().unwrap().clone();
    assert_eq!(people.len(), 2);
    assert_eq!(people[0]["key"], "dbqh-0001");
    assert_eq!(people[0]["roles"][1]["role"], "chair");
    assert_eq!(people[0]["roles"][1]["title"], "Chủ tịch Quốc hội");

    // Search ignores diacritics and case, in names, ids and delegations.
    for (q, keys) in [
        ("tran%20thanh", vec!["dbqh-0001"]),
        ("MẪN", vec!["dbqh-0001"]),
        ("ha%20noi", vec!["dbqh-0123"]),
        ("0123", vec!["dbqh-0123"]),
        ("", vec!["dbqh-0001", "dbqh-0123"]),
        ("nobody", vec![]),
    ] {
        let (status, found) = f.json(doc.get(&format!("/api/people?q={q}"))).await;
        assert_eq!(status, StatusCode::OK);
        let found: Vec<_> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(found, keys, "q={q}");
    }
    let id = people[1]["id"].as_i64().unwrap();
    let (status, one) = f.json(doc.get(&format!("/api/people/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["name"], "Nguyễn Văn A");
    let (status, _) = f.json(doc.get("/api/people/999")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // TOML, by its content type: an update of one person.
    let toml = "[[person]]\nid = \"dbqh-0123\"\nname = \"Nguyễn Văn A\"\nseat = 12\n";
    let (status, out) = f
        .json(import_request(&admin, "", "application/toml", toml))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out, json!({"added": 0, "updated": 1, "unchanged": 0}));
    let (_, one) = f.json(doc.get(&format!("/api/people/{id}"))).await;
    assert_eq!(one["seat"], "12");
    assert_eq!(one["id"], id);
}

#[tokio::test]
async fn a_bad_import_names_its_entry_and_imports_nothing() {
    let f = fixture();
    let admin = f.login("admin").await;
    let bad_line = format!("{CSV}dbqh-0200,Lê Văn B,,,speaker,,,\n");
    let (status, out) = f
        .json(import_request(&admin, "", "text/csv", &bad_line))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let error = out["error"].as_str().unwrap();
    assert!(
        error.starts_with("nothing was imported: line 5: unknown role \"speaker\""),
        "{error}"
    );
    let bad_entry =
        "[[person]]\nid = \"x-1\"\nname = \"A\"\n[[person]]\nid = \"x 2\"\nname = \"B\"\n";
    let (status, out) = f
        .json(import_request(
            &admin,
            "?format=toml",
            "text/plain",
            bad_entry,
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("entry 2 (id \"x 2\"): an id has 1 to 64"),
        "{out}"
    );
    // No format said.
    let (status, out) = f.json(import_request(&admin, "", "text/plain", CSV)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(out["error"].as_str().unwrap().contains("format"), "{out}");
    // An empty file, and one over the server's body limit.
    let (status, _) = f
        .json(import_request(&admin, "", "text/csv", "id,name\n"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let big = format!("{CSV}{}", "x-9,Nguyễn Văn Dài,,,,,,\n".repeat(4000));
    let (status, _) = f.json(import_request(&admin, "", "text/csv", &big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (_, people) = f.json(admin.get("/api/people")).await;
    assert_eq!(people, json!([]));
}

#[tokio::test]
async fn admins_add_and_change_people_with_the_import_s_rules() {
    let f = fixture();
    let admin = f.login("admin").await;
    // Combining accents are stored as NFC.
    let (status, added) = f
        .json(admin.send_json(
            "POST",
            "/api/people",
            &person(" dbqh-7 ", "Nguye\u{0302}\u{0303}n Văn C"),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["key"], "dbqh-7");
    assert_eq!(added["name"], "Nguyễn Văn C");
    let id = added["id"].as_i64().unwrap();
    let (status, out) = f
        .json(admin.send_json("POST", "/api/people", &person("dbqh-7", "Other")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(out["error"].as_str().unwrap().contains("already"), "{out}");

    let mut changed = person("dbqh-7", "Nguyễn Văn C");
    changed["roles"] = json!([{"role": "minister", "title": "Bộ trưởng", "valid_from": "2021-04-08", "valid_to": "2024-06-08"}]);
    let (status, out) = f
        .json(admin.send_json("PUT", &format!("/api/people/{id}"), &changed))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["roles"][0]["role"], "minister");
    assert_eq!(out["id"], id);
    let (status, _) = f
        .json(admin.send_json("PUT", "/api/people/999", &changed))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    for (body, says) in [
        (person("", "A"), "an id has"),
        (person("x-1", "  "), "a name is required"),
        (person("x-1", &"a".repeat(300)), "name"),
        (person("x-1", "A\u{200b}B"), "invisible"),
        (
            json!({"key": "x-1", "name": "A", "roles": [{"role": "delegate", "valid_from": "2024-01-02", "valid_to": "2023-01-01"}]}),
            "before it starts",
        ),
        (
            json!({"key": "x-1", "name": "A", "roles": [{"role": "delegate", "valid_from": "2024-13-01"}]}),
            "valid from",
        ),
        (
            json!({"key": "x-1", "name": "A", "roles": [{"role": "king"}]}),
            "unknown variant",
        ),
        (
            json!({"key": "x-1", "name": "A", "colour": "red"}),
            "colour",
        ),
    ] {
        let (status, out) = f.json(admin.send_json("POST", "/api/people", &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {out}");
        assert!(
            out["error"].as_str().unwrap().contains(says),
            "{body}: {out}"
        );
    }
    let (_, people) = f.json(admin.get("/api/people")).await;
    assert_eq!(people.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_admins_write_the_registry_and_only_logins_read_it() {
    let f = fixture();
    for user in ["doc", "lan"] {
        let login = f.login(user).await;
        let (status, _) = f
            .json(login.send_json("POST", "/api/people", &person("x-1", "A")))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
        let (status, _) = f
            .json(login.send_json("PUT", "/api/people/1", &person("x-1", "A")))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
        let (status, _) = f.json(import_request(&login, "", "text/csv", CSV)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }
    let doc = f.login("doc").await;
    let (status, _) = f
        .json(doc.send_json(
            "PUT",
            "/api/sessions/1/speakers/1",
            &json!({"person_id": null}),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for uri in ["/api/people", "/api/people/1"] {
        let (status, _) = f.json(get(uri)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let (status, _) = f.json(post_json("/api/people", &person("x-1", "A"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_stenographer_links_a_speaker_to_a_person_and_live_clients_hear_it() {
    let f = fixture();
    let admin = f.login("admin").await;
    let (_, added) = f
        .json(admin.send_json("POST", "/api/people", &person("dbqh-7", "Nguyễn Văn C")))
        .await;
    let person_id = added["id"].as_i64().unwrap();
    let lan = f.login("lan").await;
    let (status, speaker) = f
        .json(lan.send_json(
            "POST",
            "/api/sessions/1/speakers",
            &json!({"name": "Đại biểu C"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{speaker}");
    let speaker_id = speaker["id"].as_i64().unwrap();
    let uri = format!("/api/sessions/1/speakers/{speaker_id}");

    let (addr, stop, server) = listen(&f).await;
    let mut socket = connect_ws(&addr, &lan.cookie, 1).await;
    let (status, out) = f
        .json(lan.send_json("PUT", &uri, &json!({"person_id": person_id})))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["person_id"], person_id);
    assert_eq!(out["name"], "Đại biểu C");
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Message::Text(text) = socket.next().await.unwrap().unwrap() {
                break serde_json::from_str::<Value>(&text).unwrap();
            }
        }
    })
    .await
    .expect("an event arrives");
    assert_eq!(event["type"], "speaker");
    assert_eq!(event["speaker"]["person_id"], person_id);
    drop(socket);
    let _ = stop.send(());
    server.await.unwrap();

    let (_, detail) = f.json(lan.get("/api/sessions/1")).await;
    let linked = detail["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == speaker_id)
        .unwrap()
        .clone();
    assert_eq!(linked["person_id"], person_id);

    // An unknown person is bad input; another session's speaker, or no
    // speaker, is not found.
    let (status, out) = f
        .json(lan.send_json("PUT", &uri, &json!({"person_id": 999})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(
        out["error"].as_str().unwrap().starts_with("no person"),
        "{out}"
    );
    let (status, _) = f
        .json(lan.send_json(
            "PUT",
            &format!("/api/sessions/2/speakers/{speaker_id}"),
            &json!({"person_id": person_id}),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .json(lan.send_json(
            "PUT",
            "/api/sessions/1/speakers/999",
            &json!({"person_id": null}),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .json(lan.send_json("PUT", &uri, &json!({"person": person_id})))
        .await;
    assert!(status.is_client_error());

    // Unlinking, audited both times.
    let (status, out) = f
        .json(lan.send_json("PUT", &uri, &json!({"person_id": null})))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(out["person_id"].is_null());
    let store = Store::open(&f.state.config().db).unwrap();
    let links: Vec<_> = store
        .audit_log(50)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "speaker_link")
        .collect();
    assert_eq!(links.len(), 2);
    assert!(links.iter().all(|e| e.actor == "lan"), "{links:?}");
}

#[tokio::test]
async fn the_record_names_each_speaker_as_the_exports_print_them() {
    let f = fixture();
    let admin = f.login("admin").await;
    let (_, added) = f
        .json(admin.send_json("POST", "/api/people", &person("dbqh-8", "Lê Văn D")))
        .await;
    let person_id = added["id"].as_i64().unwrap();
    let lan = f.login("lan").await;
    let mut speakers = Vec::new();
    for name in ["ĐB D", "<b>Khách</b>"] {
        let (status, speaker) = f
            .json(lan.send_json("POST", "/api/sessions/1/speakers", &json!({"name": name})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{speaker}");
        speakers.push(speaker["id"].as_i64().unwrap());
    }
    let (status, out) = f
        .json(lan.send_json(
            "PUT",
            &format!("/api/sessions/1/speakers/{}", speakers[0]),
            &json!({"person_id": person_id}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = f
        .json(lan.send_json(
            "PATCH",
            "/api/segments/1",
            &json!({"version": 1, "speaker_id": speakers[0]}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");

    let (status, record) = f.json(lan.get("/api/sessions/1/record")).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let heading = |id: i64| {
        record["headings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["speaker_id"] == id)
            .map(|h| h["heading"].as_str().unwrap().to_owned())
    };
    // Linked: the person's title, name and delegation, as every export
    // prints the speech's heading; unlinked: the speaker's own name.
    assert_eq!(
        heading(speakers[0]).as_deref(),
        Some("Đại biểu Lê Văn D (Hà Nội)")
    );
    assert_eq!(heading(speakers[1]).as_deref(), Some("<b>Khách</b>"));
    let (_, _, txt) = f.send(lan.get("/api/sessions/1/export/txt")).await;
    let txt = String::from_utf8(txt).unwrap();
    assert!(txt.contains("Đại biểu Lê Văn D (Hà Nội):"), "{txt}");
}
