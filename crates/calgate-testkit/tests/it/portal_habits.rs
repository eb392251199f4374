//! What an administrator does every week, in Chromium against the demo: the settings form shows
//! the Entra ID app's IDs only where a sign-in uses them, a new API token is copied with one
//! click (or selected when the clipboard is unavailable), a watched person's name and extension
//! are edited, and the portal password is changed: this browser stays signed in while another
//! signed in with the old password is sent to sign in. And, without a browser, the notices and
//! refusals of these actions in the reader's language.

use serde_json::{Value, json};

use crate::pages::{Browser, admin_client, demo};
use calgate::demo::DEMO_ADMIN_PASSWORD;

const NEW_PASSWORD: &str = "a longer passphrase 2025";

/// Signs in with the password outside the browser; the session cookie, or the refusal's status.
async fn sign_in_elsewhere(base: &str, password: &str) -> Result<String, u16> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = client
        .post(format!("{base}/portal/login"))
        .form(&[("username", "admin"), ("password", password)])
        .send()
        .await
        .expect("sign-in POST");
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    match cookie {
        Some(c) if resp.status().is_redirection() => Ok(c),
        _ => Err(resp.status().as_u16()),
    }
}

/// The status and `Location` of a page fetched with `cookie`, redirects not followed.
async fn fetch_page(base: &str, cookie: &str, path: &str) -> (u16, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = client
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("page GET");
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (resp.status().as_u16(), location)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_edits_people_copies_tokens_and_changes_the_password() {
    let (demo, _dir) = demo(9).await;
    let base = demo.gateway.url();
    let api = admin_client(&demo.admin_token);
    let mut b = Browser::launch(&base).await;
    b.sign_in().await;

    // Exchange with Basic (the demo's source `default`): no Entra ID app, so no tenant or client
    // ID, already in the page as served (without script).
    b.goto("/portal/settings").await;
    assert!(!b.visible("#f-tenant_id").await);
    assert!(!b.visible("#f-client_id").await);
    let hidden = b
        .cmd(json!({"op": "attr", "sel": "#row-tenant_id", "name": "hidden"}))
        .await;
    assert!(!hidden.is_null(), "hidden as rendered by the server");
    // A second source (no device-code sign-in there) on Office 365: shown only once modern
    // authentication is ticked.
    b.goto("/portal/settings?source=lab").await;
    b.cmd(json!({"op": "select", "sel": "#f-provider", "value": "office365"}))
        .await;
    b.cmd(json!({"op": "check", "sel": "#f-grant_basic_auth"}))
        .await;
    b.cmd(json!({"op": "uncheck", "sel": "#f-grant_modern_auth"}))
        .await;
    assert!(!b.visible("#f-tenant_id").await, "Basic needs no tenant");
    b.cmd(json!({"op": "check", "sel": "#f-grant_modern_auth"}))
        .await;
    assert!(b.visible("#f-tenant_id").await);
    assert!(b.visible("#f-client_id").await);

    // A new token: copied with one click, the page says so.
    b.cmd(json!({"op": "grantClipboard", "origin": base})).await;
    b.goto("/portal/tokens").await;
    b.fill("#label", "Reception desk").await;
    b.submit("#create-token").await;
    let secret = b.text("#token-secret").await.trim().to_string();
    assert!(!secret.is_empty());
    b.click("#copy-token").await;
    b.cmd(json!({"op": "waitText", "sel": "#copy-status", "text": "Copied"}))
        .await;
    let copied = b.cmd(json!({"op": "clipboard"})).await;
    assert_eq!(copied.as_str(), Some(secret.as_str()));
    // Without the clipboard the token is selected, ready for Ctrl+C.
    b.cmd(json!({"op": "dropClipboard"})).await;
    b.click("#copy-token").await;
    b.cmd(json!({"op": "waitText", "sel": "#copy-status", "text": "Selected"}))
        .await;
    let selected = b.cmd(json!({"op": "selection"})).await;
    assert_eq!(selected.as_str().map(str::trim), Some(secret.as_str()));

    // Edit a watched person: name and extension, seen in the list and through the API.
    let email = demo
        .gateway
        .app
        .store
        .list_people()
        .await
        .expect("watch list")
        .into_iter()
        .map(|p| p.email)
        .next()
        .expect("someone watched");
    let person = |api: reqwest::Client, url: String| async move {
        api.get(url)
            .send()
            .await
            .expect("person GET")
            .json::<Value>()
            .await
            .expect("person JSON")
    };
    let person_url = format!("{base}/api/v1/people/{email}");
    b.goto(&format!("/portal/people?q={email}")).await;
    b.submit(&format!("a[aria-label=\"Edit {email}\"]")).await;
    b.fill("#edit-name", "Renamed Person").await;
    b.fill("#edit-ext", "4711").await;
    b.submit("#edit-save").await;
    assert!(b.text("#notice").await.contains("Saved"));
    let table = b.text("#people-table").await;
    assert!(
        table.contains("Renamed Person") && table.contains("4711"),
        "{table}"
    );
    let saved = person(api.clone(), person_url.clone()).await;
    assert_eq!(saved["name"], "Renamed Person");
    assert_eq!(saved["extension"], "4711");
    // An extension with spaces: a field error, nothing saved.
    b.goto(&format!("/portal/people?edit={email}")).await;
    b.fill("#edit-ext", "47 11").await;
    b.submit("#edit-save").await;
    assert!(!b.text("#err-edit-ext").await.is_empty());
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "#edit-ext", "name": "aria-invalid"}))
            .await,
        "true"
    );
    let kept = person(api.clone(), person_url.clone()).await;
    assert_eq!(kept["extension"], "4711", "nothing saved");

    // The password: another browser signed in with the old one.
    let other = sign_in_elsewhere(&base, DEMO_ADMIN_PASSWORD)
        .await
        .expect("signed in elsewhere");
    assert_eq!(fetch_page(&base, &other, "/portal/people").await.0, 200);
    // A wrong current password: a field error, nothing changed.
    b.goto("/portal/account").await;
    b.fill("#current-password", "not-the-password").await;
    b.fill("#new-password", NEW_PASSWORD).await;
    b.fill("#confirm-password", NEW_PASSWORD).await;
    b.submit("#change-password").await;
    assert!(
        b.text("#err-current")
            .await
            .contains("not the current password")
    );
    let html = b.cmd(json!({"op": "content"})).await;
    assert!(
        !html.as_str().unwrap_or("").contains(NEW_PASSWORD),
        "a password is never written back into the page"
    );
    assert_eq!(fetch_page(&base, &other, "/portal/people").await.0, 200);
    // The right one: changed; this browser stays signed in, the other is sent to sign in.
    b.fill("#current-password", DEMO_ADMIN_PASSWORD).await;
    b.fill("#new-password", NEW_PASSWORD).await;
    b.fill("#confirm-password", NEW_PASSWORD).await;
    b.submit("#change-password").await;
    assert!(b.text("#notice").await.contains("Password changed"));
    b.goto("/portal/people").await;
    assert!(b.url().await.ends_with("/portal/people"), "still signed in");
    let (status, location) = fetch_page(&base, &other, "/portal/people").await;
    assert!(
        (300..400).contains(&status) && location.starts_with("/portal/login"),
        "{status} {location}"
    );
    assert_eq!(
        sign_in_elsewhere(&base, DEMO_ADMIN_PASSWORD).await,
        Err(401)
    );
    let fresh = sign_in_elsewhere(&base, NEW_PASSWORD)
        .await
        .expect("the new password signs in");
    assert_eq!(fetch_page(&base, &fresh, "/portal/people").await.0, 200);

    assert_eq!(b.console_errors().await, Vec::<String>::new());
    b.quit().await;
}

/// The `value` of a page's first `name="csrf"` input.
fn csrf_field(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field in the page")
        .to_string()
}

/// A notice is written in the language of the one who acted (the browser's wish, or the
/// picker's cookie over it) and shown on the next page; so are a refusal and the question asked
/// before a source is reset.
#[tokio::test]
async fn notices_and_confirmations_speak_the_readers_language() {
    let gw = calgate_testkit::gateway::spawn_gateway_from_settings().await;
    let base = gw.url();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = client
        .post(format!("{base}/portal/login"))
        .form(&[("token", gw.admin_token.as_str())])
        .send()
        .await
        .expect("sign-in POST");
    assert_eq!(login.status(), 303);
    let session = login.headers()["set-cookie"]
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let page = |path: String, cookie: String, lang: &'static str| {
        let client = client.clone();
        async move {
            let resp = client
                .get(path)
                .header("cookie", cookie)
                .header("accept-language", lang)
                .send()
                .await
                .expect("page GET");
            assert_eq!(resp.status(), 200);
            resp.text().await.expect("html")
        }
    };
    let csrf = csrf_field(&page(format!("{base}/portal/people"), session.clone(), "en").await);
    let post = |path: &str, cookie: String, lang: &'static str, form: Vec<(&str, &str)>| {
        client
            .post(format!("{base}{path}"))
            .header("cookie", cookie)
            .header("accept-language", lang)
            .form(&form)
            .send()
    };
    let email = "ann.lee@contoso.com";

    // German from the browser's wish: the notice travels to the next page in German.
    let added = post(
        "/portal/people/add",
        session.clone(),
        "de-DE,de;q=0.9,en;q=0.5",
        vec![("csrf", &csrf), ("email", email), ("name", "Ann Lee")],
    )
    .await
    .expect("add POST");
    assert_eq!(added.status(), 303);
    let location = added.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let html = page(format!("{base}{location}"), session.clone(), "de").await;
    assert!(
        html.contains(r#"id="notice">ann.lee@contoso.com hinzugefügt.</p>"#),
        "{html}"
    );
    assert!(html.contains(r#"aria-label="ann.lee@contoso.com entfernen""#));

    // A refusal in German too, on the page answered at once.
    let refused = post(
        "/portal/people/add",
        session.clone(),
        "de",
        vec![("csrf", &csrf), ("email", "not-an-address")],
    )
    .await
    .expect("add POST");
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.expect("html");
    assert!(html.contains("Keine E-Mail-Adresse"), "{html}");

    // The picker's Italian cookie wins over a German browser.
    let italian = format!("{session}; calgate_lang=it");
    let removed = post(
        "/portal/people/remove",
        italian.clone(),
        "de",
        vec![("csrf", &csrf), ("email", email)],
    )
    .await
    .expect("remove POST");
    let location = removed.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let html = page(format!("{base}{location}"), italian.clone(), "de").await;
    assert!(
        html.contains(r#"id="notice">Rimosso: ann.lee@contoso.com.</p>"#),
        "{html}"
    );

    // Resetting `default` asks first, in German, and says what still routes to it.
    let asked = post(
        "/portal/sources/remove",
        session.clone(),
        "de",
        vec![("csrf", &csrf), ("id", "default")],
    )
    .await
    .expect("remove POST");
    assert_eq!(asked.status(), 200);
    let html = asked.text().await.expect("html");
    for words in [
        "Quelle default zurücksetzen?",
        "<strong>Das Routing nennt sie noch</strong> (Standardquelle)",
        "Ja, default zurücksetzen",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }

    // English stays the reference.
    let saved = post(
        "/portal/routing",
        session.clone(),
        "en",
        vec![("csrf", &csrf), ("default", "default")],
    )
    .await
    .expect("routing POST");
    let location = saved.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let html = page(format!("{base}{location}"), session.clone(), "en").await;
    assert!(html.contains("Routing saved and applied."), "{html}");
}
