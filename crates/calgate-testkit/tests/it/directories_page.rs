//! The Directories page in a real Chromium against the demo and a real slapd: a directory added
//! through the form (a refusal keeps what was typed but the password), tested, previewed and
//! synced; the Watch list's origin column; a sync that would remove 60 % held, left held by
//! Cancel, then confirmed; a wrong bind password in words on the page and on Health; the page in
//! German; and a CSV file read into the Watch list's import.

use std::collections::BTreeSet;

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use calgate_settings::directories::AD_DEFAULT_FILTER;
use calgate_testkit::slapd::Slapd;

use crate::pages::{Browser, admin_client, demo};

/// How many people the gateway watches (through the API).
async fn watched(base: &str, token: &str) -> usize {
    let people: Value = admin_client(token)
        .get(format!("{base}/api/v1/people?limit=100000"))
        .send()
        .await
        .expect("people GET")
        .json()
        .await
        .expect("people JSON");
    people.as_array().map_or(0, Vec::len)
}

/// A number shown on the page.
async fn number(b: &mut Browser, sel: &str) -> usize {
    let text = b.text(sel).await;
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{sel} is not a number: {text:?}"))
}

async fn attr(b: &mut Browser, sel: &str, name: &str) -> String {
    b.cmd(json!({"op": "attr", "sel": sel, "name": name}))
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// What an input or text area holds now.
async fn value(b: &mut Browser, sel: &str) -> String {
    b.cmd(json!({"op": "value", "sel": sel}))
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_page_in_chromium() {
    let server = tokio::task::spawn_blocking(|| Slapd::start(300))
        .await
        .expect("join")
        .expect("slapd");
    let selected: Vec<_> = server.selected().cloned().collect();
    let n = selected.len();
    let (demo, _dir) = demo(6).await;
    let base = demo.gateway.url();
    let token = demo.admin_token.clone();
    let before = watched(&base, &token).await;
    let mut b = Browser::launch(&base).await;
    b.sign_in().await;

    // The page is in the navigation, after Sources.
    b.goto("/portal/people").await;
    b.submit("nav a[href='/portal/directories']").await;
    assert_eq!(b.text("h1").await, "Directories");
    assert!(b.visible("#no-directories").await);

    // Without script the form shows both kinds' fields; the script shows the chosen kind's.
    let cookie = b.session_cookie().await;
    let html = reqwest::Client::new()
        .get(format!("{base}/portal/directories"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    for set in ["graph", "ldap"] {
        assert!(
            html.contains(&format!(
                "<fieldset class=\"group\" data-directory-kind=\"{set}\" id=\"{set}-fields\">"
            )),
            "the {set} fields are served shown"
        );
    }
    b.cmd(json!({"op": "select", "sel": "#d-kind", "value": "graph"}))
        .await;
    assert!(b.visible("#d-source").await);
    assert!(!b.visible("#d-url").await, "no LDAP fields for Entra ID");
    assert_eq!(
        attr(&mut b, "#d-attr_extension", "placeholder").await,
        "businessPhones"
    );
    b.cmd(json!({"op": "select", "sel": "#d-kind", "value": "ldap"}))
        .await;
    assert!(b.visible("#d-url").await);
    assert!(!b.visible("#d-source").await);
    assert_eq!(
        attr(&mut b, "#d-attr_extension", "placeholder").await,
        "telephoneNumber"
    );
    assert!(
        !b.text("#row-allow_insecure_ldap .field-warning")
            .await
            .is_empty(),
        "allowing plain LDAP says why not"
    );

    // A refusal: the base DN is missing. What was typed stays, the password does not.
    let password = server.password().expose_secret().to_string();
    b.fill("#d-id", "corp").await;
    b.fill("#d-name", "Head office").await;
    b.fill("#d-url", &server.starttls_url()).await;
    b.cmd(json!({"op": "check", "sel": "#d-starttls"})).await;
    b.fill("#d-bind_dn", server.bind_dn()).await;
    b.fill("#d-bind_password", &password).await;
    b.fill("#d-extra_ca_pem", server.ca_pem()).await;
    b.submit("#directory-save").await;
    assert!(b.text("#form-errors").await.contains("type it again"));
    assert_eq!(
        b.text("#err-base_dn").await,
        "the DN the search starts from"
    );
    assert_eq!(
        attr(&mut b, "#d-base_dn", "aria-invalid").await,
        "true",
        "the field is marked"
    );
    assert_eq!(value(&mut b, "#d-url").await, server.starttls_url());
    assert_eq!(value(&mut b, "#d-name").await, "Head office");
    assert_eq!(value(&mut b, "#d-bind_password").await, "");
    let page = b.cmd(json!({"op": "content"})).await;
    assert!(
        !page.as_str().unwrap_or("").contains(&password),
        "the page never holds the password"
    );

    // Saved with the base DN, the password again and the Active Directory preset.
    b.fill("#d-base_dn", server.base_dn()).await;
    b.fill("#d-bind_password", &password).await;
    b.click("button[data-filter][data-target='d-filter']").await;
    assert_eq!(value(&mut b, "#d-filter").await, AD_DEFAULT_FILTER);
    b.submit("#directory-save").await;
    assert!(b.text("#notice").await.contains("Added the directory corp"));
    let row = "#directories-table tr[data-directory='corp']";
    assert!(b.text(row).await.contains("never synced"));

    // Test: the first ten people, mapped.
    b.submit(&format!("{row} button[data-action='test']")).await;
    assert!(b.visible("#test-ok").await);
    assert_eq!(
        b.cmd(json!({"op": "count", "sel": "#test-people tbody tr"}))
            .await,
        10
    );
    let first = b.text("#test-people tbody tr td").await;
    assert!(
        selected.iter().any(|p| p.email.as_deref() == Some(&first)),
        "{first} is one of the directory's people"
    );

    // Preview: the counts of the people the filter selects; nothing is written.
    b.submit(&format!("{row} button[data-action='preview']"))
        .await;
    assert_eq!(
        attr(&mut b, "#preview-result #result-status", "data-status").await,
        "ok"
    );
    assert_eq!(number(&mut b, "#result-added").await, n);
    assert_eq!(number(&mut b, "#result-removed").await, 0);
    assert_eq!(
        b.cmd(json!({"op": "count", "sel": "#preview-adds tbody tr"}))
            .await,
        n.min(50)
    );
    assert_eq!(
        watched(&base, &token).await,
        before,
        "a preview writes nothing"
    );

    // Sync now, from the preview.
    b.submit("#preview-sync").await;
    let notice = b.text("#notice").await;
    assert!(
        notice.contains(&format!("Synced Head office: {n} added")),
        "{notice}"
    );
    assert_eq!(number(&mut b, "#sync-result #result-added").await, n);
    assert_eq!(
        b.text(&format!("{row} td[data-count='added']")).await,
        n.to_string()
    );
    assert_eq!(
        attr(&mut b, &format!("{row} .status"), "data-status").await,
        "ok"
    );
    assert_eq!(watched(&base, &token).await, before + n);
    let shot = b.screenshot("directories.png").await;
    crate::pages::publish(&shot, "screenshot-directories.png");

    // The Watch list tells where each person came from.
    let someone = selected[0].email.clone().expect("mail");
    b.goto(&format!("/portal/people?q={someone}")).await;
    assert_eq!(attr(&mut b, "td.origin", "data-origin").await, "corp");
    assert_eq!(b.text("td.origin").await, "Head office");
    let by_hand = demo
        .sim
        .state
        .tenant()
        .people
        .iter()
        .find(|p| !p.is_room)
        .map(|p| p.email.to_ascii_lowercase())
        .expect("a person in the tenant");
    b.goto(&format!("/portal/people?q={by_hand}")).await;
    assert_eq!(attr(&mut b, "td.origin", "data-origin").await, "manual");
    assert_eq!(b.text("td.origin").await, "Added by hand");

    // A filter that would take 60 % away: held, nobody removed.
    let staying = |p: &&calgate_testkit::slapd::Person| {
        p.dn.split(',')
            .next()
            .is_some_and(|rdn| rdn.ends_with(['2', '3', '4', '5']))
    };
    let leaving: BTreeSet<String> = selected
        .iter()
        .filter(|p| !staying(p))
        .filter_map(|p| p.email.clone())
        .collect();
    b.goto("/portal/directories?edit=corp").await;
    assert_eq!(b.text("#form-title").await, "Edit the directory corp");
    assert_eq!(value(&mut b, "#d-bind_password").await, "");
    assert!(b.visible("#state-bind_password .badge.ok").await);
    b.fill(
        "#d-filter",
        &format!("(&{AD_DEFAULT_FILTER}(|(uid=*2)(uid=*3)(uid=*4)(uid=*5)))"),
    )
    .await;
    b.submit("#directory-save").await;
    assert!(b.text("#notice").await.contains("Saved the directory corp"));
    b.submit(&format!("{row} button[data-action='sync']")).await;
    assert!(b.visible("#held-corp").await, "the held sync asks");
    assert!(
        b.text("#held-corp h2")
            .await
            .contains(&format!("{} removals wait", leaving.len()))
    );
    assert_eq!(number(&mut b, "#result-held").await, leaving.len());
    let listed: Vec<String> = serde_json::from_value(
        b.cmd(json!({"op": "texts", "sel": "#held-corp .held-removals li"}))
            .await,
    )
    .expect("addresses");
    assert_eq!(listed.len(), leaving.len().min(50));
    assert!(listed.iter().all(|e| leaving.contains(e)), "{listed:?}");
    assert_eq!(number(&mut b, "#result-removed").await, 0);
    assert_eq!(watched(&base, &token).await, before + n, "nobody left yet");

    // Cancel removes nobody and records nothing; the question comes back on the next visit.
    b.submit("#keep-held-corp").await;
    assert!(b.text("#notice").await.contains("Nothing was removed"));
    assert!(!b.visible("#held-corp").await);
    b.goto("/portal/directories").await;
    assert!(b.visible("#held-corp").await);
    assert_eq!(watched(&base, &token).await, before + n);

    // Confirm: the removals go.
    b.submit("#confirm-removals-corp").await;
    let notice = b.text("#notice").await;
    assert!(
        notice.contains(&format!("{} removed", leaving.len())),
        "{notice}"
    );
    assert_eq!(number(&mut b, "#result-removed").await, leaving.len());
    assert!(!b.visible("#held-corp").await);
    assert_eq!(
        watched(&base, &token).await,
        before + n - leaving.len(),
        "manual people stay"
    );
    b.goto("/portal/health").await;
    assert_eq!(
        attr(
            &mut b,
            "#directories-health tr[data-directory='corp'] .status",
            "data-status"
        )
        .await,
        "ok"
    );

    // A wrong bind password: the error in words, on the page and on Health.
    b.goto("/portal/directories?edit=corp").await;
    b.fill("#d-bind_password", "not-the-password").await;
    b.submit("#directory-save").await;
    b.submit(&format!("{row} button[data-action='sync']")).await;
    let error = b.text("#directories-error").await;
    assert!(
        error.contains("refused the bind DN or its password"),
        "{error}"
    );
    assert_eq!(
        attr(&mut b, "#result-error", "data-code").await,
        "DIRECTORY_BIND_REFUSED"
    );
    assert!(b.text("#result-fix").await.contains("lockout guard"));
    assert_eq!(
        attr(&mut b, &format!("{row} .status"), "data-status").await,
        "failed"
    );
    b.submit(&format!("{row} button[data-action='test']")).await;
    assert_eq!(
        attr(&mut b, "#test-error", "data-code").await,
        "DIRECTORY_BIND_HELD",
        "the guard holds a second bind with the refused password"
    );
    b.goto("/portal/health").await;
    let health = b
        .text("#directories-health tr[data-directory='corp']")
        .await;
    assert!(health.contains("refused the bind DN"), "{health}");
    assert!(
        b.visible("#directories-health a[href='/portal/directories']")
            .await
    );

    // In German.
    b.goto("/portal/language?lang=de&next=/portal/directories")
        .await;
    assert_eq!(b.text("h1").await, "Verzeichnisse");
    assert_eq!(b.text(&format!("{row} .status")).await, "Fehlgeschlagen");
    assert!(
        b.text("#form-title")
            .await
            .contains("Verzeichnis hinzufügen")
    );
    let shot = b.screenshot("directories-de.png").await;
    crate::pages::publish(&shot, "screenshot-directories-de.png");
    b.goto("/portal/language?lang=en&next=/portal/people").await;

    // The Watch list's import reads a chosen CSV file (UTF-8) and previews it.
    assert!(b.visible("#rows-file").await);
    b.cmd(json!({
        "op": "upload", "sel": "#rows-file", "name": "people.csv",
        "text": "email,name,extension\njurgen.muller@contoso.com,Jürgen Müller,4001\n\
                 not-an-address,X,1\nzoe@contoso.com,Zoë Faure,4002\n",
    }))
    .await;
    b.wait("#preview-table").await;
    assert_eq!(b.text("#preview-summary").await, "2 valid, 1 with errors.");
    assert!(b.text("#preview-table").await.contains("Jürgen Müller"));
    assert!(value(&mut b, "#rows").await.contains("Zoë Faure"));
    b.cmd(json!({"op": "check", "sel": "input[name='skip_invalid']"}))
        .await;
    b.submit("#import").await;
    assert!(b.text("#notice").await.contains("Imported 2 people"));
    b.goto("/portal/people?q=zoe@contoso.com").await;
    assert_eq!(b.text("td.origin").await, "Import");

    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "no script or CSP errors: {errors:?}");
    b.quit().await;
}
