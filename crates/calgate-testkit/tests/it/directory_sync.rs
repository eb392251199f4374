//! The watch list synced from a directory through the gateway's API: a real slapd and the
//! simulator's Entra ID. A sync adds the directory's people and never touches a person added by
//! hand; an unchanged re-sync changes nothing; a 10 % removal goes through, a 60 % one is held
//! until confirmed; a wrong bind password costs one bind; a Graph directory's second sync reads
//! only the changes.

use std::collections::BTreeSet;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use calgate_sim::SimConfig;
use calgate_testkit::gateway::{TestGateway, spawn_gateway_from_settings};
use calgate_testkit::slapd::Slapd;
use calgate_testkit::{sim_http_client, sim_stats, spawn_sim};

async fn expect(
    gw: &TestGateway,
    method: Method,
    path: &str,
    body: Option<&Value>,
    want: u16,
) -> Value {
    let (status, answer) = gw.call(method.clone(), path, body).await;
    assert_eq!(status, want, "{method} {path}: {answer}");
    answer
}

async fn sync(gw: &TestGateway, id: &str, query: &str) -> Value {
    expect(
        gw,
        Method::POST,
        &format!("/api/v1/directories/{id}/sync{query}"),
        None,
        200,
    )
    .await
}

async fn watched(gw: &TestGateway) -> Vec<Value> {
    let people = expect(gw, Method::GET, "/api/v1/people?limit=10000", None, 200).await;
    people.as_array().cloned().unwrap_or_default()
}

fn count(outcome: &Value, key: &str) -> u64 {
    outcome[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {outcome}"))
}

/// The slapd tree's config with `filter` ANDed to Active Directory's default filter.
fn ldap_body(server: &Slapd, filter: Option<&str>, password: &str) -> Value {
    let mut body = serde_json::to_value(server.config(false)).expect("config");
    if let Some(f) = filter {
        body["filter"] = json!(format!(
            "(&{}{f})",
            calgate_settings::directories::AD_DEFAULT_FILTER
        ));
    }
    body["bind_password"] = json!(password);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ldap_directory_keeps_the_watch_list_and_never_touches_manual_people() {
    let server = tokio::task::spawn_blocking(|| Slapd::start(2_000))
        .await
        .expect("join")
        .expect("slapd");
    let password = server.password().expose_secret().to_string();
    let selected: Vec<_> = server.selected().cloned().collect();
    let by_hand = selected[0].email.clone().expect("mail");
    let gw = spawn_gateway_from_settings().await;
    expect(
        &gw,
        Method::PUT,
        "/api/v1/people",
        Some(&json!([{"email": by_hand, "name": "Added By Hand", "extension": "1"}])),
        200,
    )
    .await;

    let saved = expect(
        &gw,
        Method::PUT,
        "/api/v1/directories/corp",
        Some(&ldap_body(&server, None, &password)),
        201,
    )
    .await;
    assert_eq!(saved["bind_password_set"], true);
    assert!(saved.get("bind_password").is_none(), "{saved}");
    assert!(!saved.to_string().contains(&password), "write-only");

    // A dry run changes nothing.
    let preview = sync(&gw, "corp", "?dry_run=true").await;
    assert_eq!(preview["status"], "ok", "{preview}");
    let n = selected.len() as u64;
    assert_eq!(
        count(&preview, "added"),
        n - 1,
        "everyone but the manual person"
    );
    assert_eq!(watched(&gw).await.len(), 1);

    let first = sync(&gw, "corp", "").await;
    assert_eq!(count(&first, "added"), n - 1, "{first}");
    assert!(
        first["warnings"].to_string().contains(&by_hand),
        "the manual person is named: {first}"
    );
    let people = watched(&gw).await;
    assert_eq!(people.len() as u64, n);
    let manual = expect(
        &gw,
        Method::GET,
        &format!("/api/v1/people/{by_hand}"),
        None,
        200,
    )
    .await;
    assert_eq!(manual["origin"], "manual");
    assert_eq!(manual["name"], "Added By Hand");
    let someone = &selected[1];
    let record = expect(
        &gw,
        Method::GET,
        &format!("/api/v1/people/{}", someone.email.as_deref().expect("mail")),
        None,
        200,
    )
    .await;
    assert_eq!(record["origin"], "corp");
    assert_eq!(
        record["name"].as_str(),
        Some(someone.display_name.clone().unwrap_or_default().as_str()).filter(|n| !n.is_empty())
    );
    assert_eq!(
        record["extension"].as_str(),
        someone.phones.first().map(String::as_str)
    );

    let again = sync(&gw, "corp", "").await;
    for key in ["added", "updated", "removed", "held"] {
        assert_eq!(
            count(&again, key),
            0,
            "an unchanged re-sync writes nothing: {again}"
        );
    }
    assert_eq!(count(&again, "unchanged"), n - 1);

    // About 10 % leave (uids ending in 1): removed.
    let leaving: BTreeSet<String> = selected
        .iter()
        .filter(|p| p.dn.split(',').next().is_some_and(|rdn| rdn.ends_with('1')))
        .filter_map(|p| p.email.clone())
        .filter(|e| *e != by_hand)
        .collect();
    expect(
        &gw,
        Method::PUT,
        "/api/v1/directories/corp",
        Some(&ldap_body(&server, Some("(!(uid=*1))"), "")),
        200,
    )
    .await;
    let tenth = sync(&gw, "corp", "").await;
    assert_eq!(tenth["status"], "ok", "{tenth}");
    assert_eq!(count(&tenth, "removed"), leaving.len() as u64);
    assert_eq!(watched(&gw).await.len() as u64, n - leaving.len() as u64);

    // 60 % would leave: held, nothing removed, until confirmed.
    expect(
        &gw,
        Method::PUT,
        "/api/v1/directories/corp",
        Some(&ldap_body(
            &server,
            Some("(|(uid=*2)(uid=*3)(uid=*4)(uid=*5))"),
            "",
        )),
        200,
    )
    .await;
    let before = watched(&gw).await.len();
    let held = sync(&gw, "corp", "").await;
    assert_eq!(held["status"], "held", "{held}");
    assert_eq!(count(&held, "removed"), 0);
    assert!(count(&held, "held") > 0);
    assert!(
        held["warnings"]
            .to_string()
            .contains("DIRECTORY_MASS_REMOVAL_HELD")
    );
    assert_eq!(watched(&gw).await.len(), before, "the list stays whole");
    let listed = expect(&gw, Method::GET, "/api/v1/directories", None, 200).await;
    assert_eq!(listed[0]["last_sync"]["status"], "held", "{listed}");
    let confirmed = sync(&gw, "corp", "?confirm_removals=true").await;
    assert_eq!(
        count(&confirmed, "removed"),
        count(&held, "held"),
        "{confirmed}"
    );
    assert!(
        watched(&gw)
            .await
            .iter()
            .any(|p| p["email"] == by_hand.as_str()),
        "manual people survive every sync"
    );

    // A wrong bind password: one refused bind, then the guard holds.
    expect(
        &gw,
        Method::PUT,
        "/api/v1/directories/corp",
        Some(&ldap_body(&server, None, "not-the-password")),
        200,
    )
    .await;
    let binds = server.binds().await.expect("monitor");
    let refused = sync(&gw, "corp", "").await;
    assert_eq!(refused["status"], "failed");
    assert_eq!(
        refused["error"]["code"], "DIRECTORY_BIND_REFUSED",
        "{refused}"
    );
    let still = sync(&gw, "corp", "").await;
    assert_eq!(still["error"]["code"], "DIRECTORY_BIND_HELD", "{still}");
    assert_eq!(
        server.binds().await.expect("monitor") - binds,
        1,
        "N syncs with a wrong password cost one bind"
    );
    assert!(!still.to_string().contains("not-the-password"));

    // The syncs are counted for scraping: three ok, one held, one confirmed, two failed.
    let metrics = reqwest::get(format!("{}/metrics", gw.url()))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for line in [
        "calgate_directory_syncs_total{directory=\"corp\",status=\"held\"} 1",
        "calgate_directory_syncs_total{directory=\"corp\",status=\"failed\"} 2",
        "calgate_directory_syncs_total{directory=\"corp\",status=\"ok\"} 4",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    assert!(metrics.contains(&format!(
        "calgate_directory_changes_total{{directory=\"corp\",change=\"added\"}} {}",
        n - 1
    )));

    // Deleting the directory keeps its people, as manual ones.
    let count_before = watched(&gw).await.len();
    expect(&gw, Method::DELETE, "/api/v1/directories/corp", None, 204).await;
    let people = watched(&gw).await;
    assert_eq!(people.len(), count_before);
    assert!(people.iter().all(|p| p["origin"] == "manual"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_directory_syncs_then_reads_only_the_changes() {
    const SECRET: &str = "directory-sync-secret";
    let sim = spawn_sim(SimConfig {
        people: 120,
        seed: 5,
        client_secret: Some(SECRET.to_owned()),
        ..SimConfig::default()
    })
    .await;
    let http = sim_http_client(&sim);
    let base = sim
        .urls
        .graph_url
        .trim_end_matches('/')
        .trim_end_matches("/v1.0")
        .to_string();
    let ca = std::fs::read_to_string(sim.urls.ca_cert_pem_path.as_ref().expect("TLS")).expect("CA");
    let gw = spawn_gateway_from_settings().await;
    expect(
        &gw,
        Method::PUT,
        "/api/v1/sources/online",
        Some(&json!({
            "provider": "microsoft365", "tenant_id": sim.state.tenant_id,
            "client_id": sim.state.client_id, "client_secret": SECRET,
            "authority_host": base, "graph_endpoint": base, "extra_ca_pem": ca,
        })),
        201,
    )
    .await;
    // A Graph directory needs an existing Graph source.
    expect(
        &gw,
        Method::PUT,
        "/api/v1/directories/entra",
        Some(&json!({"kind": "graph", "source": "default"})),
        422,
    )
    .await;
    expect(
        &gw,
        Method::PUT,
        "/api/v1/directories/entra",
        Some(&json!({"kind": "graph", "source": "online"})),
        201,
    )
    .await;
    let want = sim
        .state
        .tenant()
        .people
        .iter()
        .filter(|p| p.directory.account_enabled && p.directory.mail_listed)
        .count() as u64;
    let test = expect(
        &gw,
        Method::POST,
        "/api/v1/directories/entra/test",
        None,
        200,
    )
    .await;
    assert_eq!(test["people"].as_array().map(Vec::len), Some(10), "{test}");

    let first = sync(&gw, "entra", "").await;
    assert_eq!(first["status"], "ok", "{first}");
    assert_eq!(count(&first, "added"), want);
    assert_eq!(first["delta_read"], false);

    let control = |path: &str| format!("{}/{path}", sim.urls.control_url.trim_end_matches('/'));
    let r = http
        .post(control("people"))
        .json(&json!({"email": "joiner@contoso.com", "name": "New Joiner", "extension": "7100"}))
        .send()
        .await
        .expect("add");
    assert_eq!(r.status(), 201);
    let leaver = sim
        .state
        .tenant()
        .people
        .iter()
        .find(|p| p.directory.account_enabled && p.directory.mail_listed)
        .map(|p| p.email.to_lowercase())
        .expect("someone");
    let r = http
        .delete(control(&format!("people/{leaver}")))
        .send()
        .await
        .expect("remove");
    assert_eq!(r.status(), 204);
    let r = http.delete(control("stats")).send().await.expect("stats");
    assert!(r.status().is_success());

    let second = sync(&gw, "entra", "").await;
    assert_eq!(second["delta_read"], true, "{second}");
    assert_eq!(count(&second, "added"), 1);
    assert_eq!(count(&second, "removed"), 1);
    let stats = sim_stats(&http, &sim).await;
    assert_eq!(stats["requests"]["graph.users.delta.changes"], 1, "{stats}");
    assert!(
        stats["requests"].get("graph.users.delta").is_none(),
        "{stats}"
    );
    let joiner = expect(
        &gw,
        Method::GET,
        "/api/v1/people/joiner@contoso.com",
        None,
        200,
    )
    .await;
    assert_eq!(joiner["origin"], "entra");
    assert_eq!(joiner["extension"], "7100");
    expect(
        &gw,
        Method::GET,
        &format!("/api/v1/people/{leaver}"),
        None,
        404,
    )
    .await;
}

async fn post_csv(
    gw: &TestGateway,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = gw
        .admin
        .post(format!("{}/api/v1/people/import{query}", gw.url()))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("import");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A spreadsheet's CSV: a byte order mark, `;` separators, the header in another order, quoted
/// names with separators and quotes; bad rows answered by line and the good ones imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_import_takes_what_spreadsheets_write_and_reports_bad_rows_by_line() {
    let gw = spawn_gateway_from_settings().await;
    let csv = "\u{feff}Extension;E-mail;Display name\r\n\
               2001;anna.rossi@contoso.com;\"Rossi; Anna\"\r\n\
               ;ann.lee@contoso.com;\"Lee, \"\"Ann\"\"\"\r\n\
               3;not-an-address;Nobody\r\n\
               2004;ANNA.ROSSI@contoso.com;Twice\r\n\
               2005;bob.ruiz@contoso.com;Bob Ruiz\r\n";
    let (status, dry) = post_csv(&gw, "?dry_run=true", "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["valid"], 3);
    assert_eq!(dry["imported"], 0);
    let errors: Vec<(u64, &str)> = dry["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or(0),
                e["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(errors, vec![(4, "not_an_email"), (5, "duplicate_email")]);
    assert!(watched(&gw).await.is_empty(), "a dry run imports nothing");

    let (status, done) =
        post_csv(&gw, "", "text/csv; charset=utf-8", csv.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["imported"], 3);
    let lee = expect(
        &gw,
        Method::GET,
        "/api/v1/people/ann.lee@contoso.com",
        None,
        200,
    )
    .await;
    assert_eq!(lee["name"], "Lee, \"Ann\"");
    assert_eq!(lee["origin"], "import");
    let rossi = expect(
        &gw,
        Method::GET,
        "/api/v1/people/anna.rossi@contoso.com",
        None,
        200,
    )
    .await;
    assert_eq!(
        (rossi["name"].as_str(), rossi["extension"].as_str()),
        (Some("Rossi; Anna"), Some("2001"))
    );

    let (status, refused) = post_csv(&gw, "", "application/json", b"[]".to_vec()).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (status, refused) = post_csv(&gw, "", "text/csv", vec![b'a', 0xff, 0xfe, b'\n']).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("invalid_encoding"))
    );
    assert_eq!(watched(&gw).await.len(), 3, "nothing else changed");
}

/// A directory's `source` attribute routes each person's mailbox (hybrid); a failed read
/// (nobody listening, a broken filter, a base DN that does not exist) is a clear error on the
/// directory's status and removes no one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_routes_mailboxes_and_a_failed_read_removes_no_one() {
    let server = tokio::task::spawn_blocking(|| Slapd::start(300))
        .await
        .expect("join")
        .expect("slapd");
    let password = server.password().expose_secret().to_string();
    let gw = spawn_gateway_from_settings().await;
    // A second source to route to (it never needs to answer here).
    expect(
        &gw,
        Method::PUT,
        "/api/v1/sources/online",
        Some(
            &json!({"provider": "microsoft365", "tenant_id": "contoso.onmicrosoft.com",
            "client_id": "00000000-0000-0000-0000-000000000001", "client_secret": "unused",
            "authority_host": "https://127.0.0.1:9", "graph_endpoint": "https://127.0.0.1:9",
            "allow_insecure_http": false}),
        ),
        201,
    )
    .await;
    let mut body = ldap_body(&server, None, &password);
    body["attributes"] = json!({"email": "mail", "name": "displayName",
        "extension": "telephoneNumber", "source": "departmentNumber"});
    expect(
        &gw,
        Method::PUT,
        "/api/v1/directories/corp",
        Some(&body),
        201,
    )
    .await;
    let first = sync(&gw, "corp", "").await;
    assert_eq!(first["status"], "ok", "{first}");
    let selected: Vec<_> = server.selected().cloned().collect();
    assert_eq!(count(&first, "added"), selected.len() as u64);
    for p in selected.iter().take(6) {
        let email = p.email.as_deref().expect("mail");
        let record = expect(
            &gw,
            Method::GET,
            &format!("/api/v1/people/{email}"),
            None,
            200,
        )
        .await;
        assert_eq!(
            record["source"],
            p.department.as_str(),
            "{email} is read from its source"
        );
    }
    let n = watched(&gw).await.len();

    for (change, code) in [
        (
            json!({"filter": "(&(mail=*)(cn=a)"}),
            "DIRECTORY_FILTER_INVALID",
        ),
        (
            json!({"base_dn": "ou=nowhere,dc=example,dc=org"}),
            "DIRECTORY_BASE_NOT_FOUND",
        ),
        (
            json!({"url": "ldaps://127.0.0.1:9", "starttls": false}),
            "DIRECTORY_CONNECT",
        ),
    ] {
        let mut broken = body.clone();
        for (k, v) in change.as_object().expect("object") {
            broken[k] = v.clone();
        }
        // A stored bind password is never sent to another server: a new URL needs it again.
        broken["bind_password"] = json!("");
        if change.get("url").is_some() {
            let refused = expect(
                &gw,
                Method::PUT,
                "/api/v1/directories/corp",
                Some(&broken),
                422,
            )
            .await;
            assert!(refused["fields"]["bind_password"].is_string(), "{refused}");
            broken["bind_password"] = json!(password);
        }
        expect(
            &gw,
            Method::PUT,
            "/api/v1/directories/corp",
            Some(&broken),
            200,
        )
        .await;
        let outcome = sync(&gw, "corp", "").await;
        assert_eq!(outcome["status"], "failed", "{outcome}");
        assert_eq!(outcome["error"]["code"], code, "{outcome}");
        assert_eq!(count(&outcome, "removed"), 0);
        assert_eq!(watched(&gw).await.len(), n, "{code}: no one removed");
        let listed = expect(&gw, Method::GET, "/api/v1/directories", None, 200).await;
        assert_eq!(listed[0]["last_sync"]["error"]["code"], code);
    }
}
