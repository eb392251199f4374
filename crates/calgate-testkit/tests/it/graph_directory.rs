//! The directory read from the simulator's Entra ID through Graph, with the app credentials of
//! a Graph source built from its settings: a full read is the tenant's enabled people with a
//! mail address and ends with a delta link; after people are added and removed through the
//! control API the delta read answers exactly those changes with `/users/delta` and a token,
//! not the full list; a group lists its transitive members; a next link off the Graph endpoint
//! fails the read; an expired delta link gives a full read with a warning.

use std::collections::BTreeSet;

use calgate_core::Code;
use calgate_directory::graph::GraphDirectory;
use calgate_directory::{Entry, Listing, Read};
use calgate_settings::{CalendarSettings, DirectoryConfig};
use calgate_sim::SimConfig;
use calgate_sim::tenant::{FRONT_DESK_GROUP_ID, user_id};
use calgate_testkit::sources::{graph_app_settings, sign_in_context};
use calgate_testkit::{sim_control_put, sim_http_client, sim_stats};
use serde_json::{Value, json};

const SECRET: &str = "directory-app-secret";

async fn sim(people: usize) -> calgate_sim::Running {
    calgate_testkit::spawn_sim(SimConfig {
        people,
        seed: 11,
        client_secret: Some(SECRET.to_owned()),
        ..SimConfig::default()
    })
    .await
}

fn config(body: Value) -> DirectoryConfig {
    serde_json::from_value(body).expect("directory config")
}

fn directory(sim: &calgate_sim::Running, body: Value) -> (GraphDirectory, CalendarSettings) {
    let settings = graph_app_settings(sim, SECRET);
    let dir = GraphDirectory::build(&config(body), Some(&settings), &sign_in_context())
        .unwrap_or_else(|e| panic!("directory: {e}"));
    (dir, settings)
}

fn control(sim: &calgate_sim::Running, path: &str) -> String {
    format!("{}/{path}", sim.urls.control_url.trim_end_matches('/'))
}

async fn reset_stats(http: &reqwest::Client, sim: &calgate_sim::Running) {
    let r = http
        .delete(control(sim, "stats"))
        .send()
        .await
        .expect("stats");
    assert!(r.status().is_success());
}

/// Requests by operation, and the token requests summed.
async fn requests(http: &reqwest::Client, sim: &calgate_sim::Running) -> (Value, u64) {
    let stats = sim_stats(http, sim).await;
    let requests = stats["requests"].clone();
    let tokens = requests
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with("entra.token"))
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0);
    (requests, tokens)
}

fn count(requests: &Value, op: &str) -> u64 {
    requests[op].as_u64().unwrap_or(0)
}

/// The tenant's enabled people with a listed mail address, as entries.
fn expected(sim: &calgate_sim::Running) -> Vec<Entry> {
    let mut want: Vec<Entry> = sim
        .state
        .tenant()
        .people
        .iter()
        .filter(|p| p.directory.account_enabled && p.directory.mail_listed)
        .map(|p| Entry {
            id: p.id.clone(),
            email: p.email.to_lowercase(),
            name: p.name.clone(),
            extension: p.directory.business_phones.first().cloned(),
            source: None,
        })
        .collect();
    want.sort_by(|a, b| a.id.cmp(&b.id));
    want
}

fn full(read: &Read) -> Vec<Entry> {
    match &read.listing {
        Listing::Full(people) => {
            let mut people = people.clone();
            people.sort_by(|a, b| a.id.cmp(&b.id));
            people
        }
        Listing::Changes { .. } => panic!("a full listing was expected"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_directory_full_read_then_the_changes_since() {
    let sim = sim(300).await;
    let http = sim_http_client(&sim);
    let (dir, _) = directory(&sim, json!({"kind": "graph", "source": "online"}));

    reset_stats(&http, &sim).await;
    let first = dir.read(None).await.expect("full read");
    let want = expected(&sim);
    assert_eq!(want.len(), 300 - 6 - 6, "six disabled, six without mail");
    assert_eq!(full(&first), want);
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);
    let delta = first.delta.clone().expect("a delta link to save");
    let (r, tokens) = requests(&http, &sim).await;
    let pages = count(&r, "graph.users.delta");
    assert_eq!(pages, 3, "300 people in pages of 100");
    assert_eq!(
        count(&r, "graph.users"),
        0,
        "the full list is read through delta"
    );
    println!(
        "directory full read of 300 people: {pages} Graph requests, {tokens} token request(s)"
    );

    // Two people join, one leaves.
    for (email, ext) in [
        ("new.one@contoso.com", "7001"),
        ("new.two@contoso.com", "7002"),
    ] {
        let r = http
            .post(control(&sim, "people"))
            .json(&json!({"email": email, "name": email.replace('@', " at "), "extension": ext}))
            .send()
            .await
            .expect("add");
        assert_eq!(r.status(), 201, "{email}");
    }
    let leaver = sim.state.tenant().people[4].clone();
    let r = http
        .delete(control(&sim, &format!("people/{}", leaver.email)))
        .send()
        .await
        .expect("remove");
    assert_eq!(r.status(), 204);

    reset_stats(&http, &sim).await;
    let second = dir.read(Some(&delta)).await.expect("delta read");
    let Listing::Changes {
        changed,
        removed_ids,
    } = &second.listing
    else {
        panic!("changes were expected: {:?}", second.listing)
    };
    let added: BTreeSet<(&str, Option<&str>)> = changed
        .iter()
        .map(|e| (e.email.as_str(), e.extension.as_deref()))
        .collect();
    assert_eq!(
        added,
        BTreeSet::from([
            ("new.one@contoso.com", Some("7001")),
            ("new.two@contoso.com", Some("7002")),
        ])
    );
    assert_eq!(removed_ids, std::slice::from_ref(&leaver.id));
    let (r, tokens) = requests(&http, &sim).await;
    let asked = count(&r, "graph.users.delta.changes");
    assert_eq!(asked, 1, "{r}");
    assert_eq!(count(&r, "graph.users.delta"), 0, "no initial round: {r}");
    assert_eq!(count(&r, "graph.users"), 0);
    println!(
        "directory delta read after 3 changes: {asked} Graph request(s), {tokens} token request(s)"
    );

    // A disabled account and one that lost its mail address are removals; nothing else moved.
    let delta = second.delta.clone().expect("the next delta link");
    let (disabled, mailless) = {
        let t = sim.state.tenant();
        (t.people[10].clone(), t.people[11].clone())
    };
    for (person, patch) in [
        (&disabled, json!({"enabled": false})),
        (&mailless, json!({"mail": false})),
    ] {
        let r = http
            .patch(control(&sim, &format!("people/{}", person.email)))
            .json(&patch)
            .send()
            .await
            .expect("patch");
        assert!(r.status().is_success());
    }
    let third = dir.read(Some(&delta)).await.expect("delta read");
    let Listing::Changes {
        changed,
        removed_ids,
    } = &third.listing
    else {
        panic!("changes")
    };
    assert!(changed.is_empty(), "{changed:?}");
    assert_eq!(
        removed_ids.iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([&disabled.id, &mailless.id])
    );

    // Nothing changed since: an empty change list and a link that still works.
    let fourth = dir.read(third.delta.as_deref()).await.expect("delta read");
    assert_eq!(
        fourth.listing,
        Listing::Changes {
            changed: vec![],
            removed_ids: vec![]
        }
    );

    // A test query: the first few, no delta link.
    let some = dir.read_first(5).await.expect("test query");
    assert_eq!(full(&some).len(), 5);
    assert_eq!(some.delta, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_directory_group_members_and_mapped_attributes() {
    let sim = sim(60).await;
    let http = sim_http_client(&sim);
    let (dir, _) = directory(
        &sim,
        json!({
            "kind": "graph",
            "source": "online",
            "group_id": FRONT_DESK_GROUP_ID,
            "attributes": {"email": "mail", "name": "displayName", "extension": "extensionAttribute1", "source": "department"},
        }),
    );
    reset_stats(&http, &sim).await;
    let read = dir.read(None).await.expect("group read");
    assert_eq!(read.delta, None, "a group is read in full every time");
    let people = full(&read);
    let ids: BTreeSet<String> = people.iter().map(|e| e.id.clone()).collect();
    // People 0–19 through the nested groups, without 7 (disabled); 23 has no mail address.
    let want: BTreeSet<String> = (0..20).filter(|&i| i != 7).map(user_id).collect();
    assert_eq!(ids, want);
    {
        let tenant = sim.state.tenant();
        for e in &people {
            let p = tenant.person(&e.email).expect("a tenant person");
            assert_eq!(
                e.extension, p.directory.extension_attributes[0],
                "{}",
                e.email
            );
            assert_eq!(e.source, p.directory.department, "{}", e.email);
        }
    }
    let (r, _) = requests(&http, &sim).await;
    assert_eq!(count(&r, "graph.groups.transitiveMembers"), 1, "{r}");
    assert_eq!(count(&r, "graph.users.delta"), 0);

    let (missing, _) = directory(
        &sim,
        json!({"kind": "graph", "source": "online", "group_id": "6b2a0f1e-7c3d-4e5f-9a0b-0000000000ff"}),
    );
    let e = missing.read(None).await.expect_err("no such group");
    assert_eq!(e.code, Code::DirectoryGroupNotFound, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_directory_broken_next_links_fail_the_read() {
    let sim = sim(120).await;
    let http = sim_http_client(&sim);
    let (dir, _) = directory(&sim, json!({"kind": "graph", "source": "online"}));
    for fault in ["foreign_host", "unparseable"] {
        sim_control_put(
            &http,
            &sim,
            "graph",
            &json!({"next_link_fault": fault, "directory_page_size": 50}),
        )
        .await;
        reset_stats(&http, &sim).await;
        let e = dir.read(None).await.expect_err("a broken next link");
        assert_eq!(e.code, Code::DirectoryMalformedResponse, "{fault}: {e}");
        let (r, _) = requests(&http, &sim).await;
        assert_eq!(
            count(&r, "graph.users.delta"),
            1,
            "{fault}: only the first page: {r}"
        );
    }
    sim_control_put(&http, &sim, "graph", &json!({"next_link_fault": "none"})).await;
    let read = dir.read(None).await.expect("links mended");
    assert_eq!(full(&read), expected(&sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_directory_expired_delta_reads_in_full_with_a_warning() {
    let sim = sim(80).await;
    let http = sim_http_client(&sim);
    let (dir, _) = directory(&sim, json!({"kind": "graph", "source": "online"}));
    let first = dir.read(None).await.expect("full read");
    let delta = first.delta.expect("delta link");

    let r = http
        .delete(control(&sim, "graph/delta-tokens"))
        .send()
        .await
        .expect("expire");
    assert_eq!(r.status(), 204);
    reset_stats(&http, &sim).await;
    let again = dir.read(Some(&delta)).await.expect("a full read instead");
    assert_eq!(full(&again), expected(&sim));
    let codes: Vec<Code> = again.warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, [Code::DirectoryDeltaExpired]);
    let (r, _) = requests(&http, &sim).await;
    assert_eq!(count(&r, "graph.users.delta.changes"), 1, "{r}");
    assert_eq!(count(&r, "graph.users.delta"), 1, "{r}");
    // The new link works.
    let next = dir.read(again.delta.as_deref()).await.expect("delta read");
    assert!(next.warnings.is_empty());
    assert!(matches!(next.listing, Listing::Changes { .. }));

    // A link saved under other attributes is not used either.
    let (other, _) = directory(
        &sim,
        json!({"kind": "graph", "source": "online", "attributes": {"email": "mail", "name": "displayName", "extension": "mobilePhone"}}),
    );
    let read = other.read(again.delta.as_deref()).await.expect("full read");
    assert!(matches!(read.listing, Listing::Full(_)));
    assert_eq!(read.warnings.len(), 1);
    assert_eq!(read.warnings[0].code, Code::DirectoryDeltaExpired);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_directory_needs_a_graph_source() {
    let sim = sim(10).await;
    let cfg = config(json!({"kind": "graph", "source": "online"}));
    let e = GraphDirectory::build(&cfg, None, &sign_in_context()).expect_err("no source");
    assert_eq!(e.code, Code::DirectoryGraphSourceMissing);
    let mut ews = graph_app_settings(&sim, SECRET);
    ews.provider = calgate_settings::Provider::Exchange;
    let e = GraphDirectory::build(&cfg, Some(&ews), &sign_in_context()).expect_err("not Graph");
    assert_eq!(e.code, Code::DirectoryGraphSourceMissing);
    // A wrong secret fails the read with the sign-in's code, and says nothing of the secret.
    let wrong = graph_app_settings(&sim, "not-the-secret");
    let dir = GraphDirectory::build(&cfg, Some(&wrong), &sign_in_context()).expect("built");
    let e = dir.read(None).await.expect_err("refused");
    assert!(e.code.to_string().starts_with("ENTRA_"), "{e}");
    assert!(!e.message.contains("not-the-secret"), "{e}");
}
