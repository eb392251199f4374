//! The pages in the reader's language: the browser's `Accept-Language` picks it (a 10 KB or
//! nonsense header falls back to English), the picker overrides it for the browser, and the
//! console's own words and dates follow — in Chromium against the demo, in Italian and German.

use serde_json::json;

use crate::pages::{Browser, demo};

async fn login_page(base: &str, accept_language: Option<&str>) -> String {
    let mut request = reqwest::Client::new().get(format!("{base}/portal/login"));
    if let Some(value) = accept_language {
        request = request.header("accept-language", value);
    }
    request
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_portal_speak_italian_and_german() {
    let (demo, _dir) = demo(9).await;
    let base = demo.gateway.url();

    // The browser's wish, and what happens to bad ones.
    let german = login_page(&base, Some("de-DE,de;q=0.9,en;q=0.5")).await;
    assert!(german.contains(r#"<html lang="de">"#), "{german}");
    assert!(german.contains("Anmelden"));
    for bad in [
        "x".repeat(10_240),
        "q=;;,,*;q=x,-".to_string(),
        "klingon".to_string(),
    ] {
        let page = login_page(&base, Some(&bad)).await;
        assert!(page.contains(r#"<html lang="en">"#), "{bad:.40}");
        assert!(page.contains("Sign in"));
    }
    assert!(
        login_page(&base, None)
            .await
            .contains(r#"<html lang="en">"#)
    );
    // A translation is text like any other: its quote is escaped, never taken as markup.
    let french = login_page(&base, Some("fr")).await;
    assert!(french.contains("Nom d&#39;utilisateur"), "{french}");
    assert!(!french.contains("Nom d'utilisateur"));

    // The picker: Italian for this browser, from the sign-in page on.
    let mut b = Browser::launch(&base).await;
    b.goto("/portal/language?lang=it&next=/portal/login").await;
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "html", "name": "lang"}))
            .await,
        "it"
    );
    assert_eq!(b.text("#login-submit").await, "Accedi");
    b.sign_in().await;
    assert!(b.text("nav").await.contains("Impostazioni"));
    b.goto("/console").await;
    b.wait("#results li[data-email]").await;
    b.cmd(json!({"op": "waitText", "sel": "#live", "text": "in diretta"}))
        .await;
    let placeholder = b
        .cmd(json!({"op": "attr", "sel": "#search", "name": "placeholder"}))
        .await;
    assert_eq!(placeholder, "Scrivi un nome, un'email o un interno…");
    let rows = b.text("#results").await;
    assert!(
        [
            "Libero",
            "In riunione",
            "Fuori sede",
            "Provvisorio",
            "Sconosciuto",
            "Lavora altrove"
        ]
        .iter()
        .any(|w| rows.contains(w)),
        "{rows}"
    );
    assert!(!rows.contains("Free for the rest of today"), "{rows}");
    b.cmd(json!({"op": "press", "key": "Enter"})).await;
    b.wait("#detail-status").await;
    assert!(b.text("#detail").await.contains("Oggi"));
    let shot = b.screenshot("console-it.png").await;
    crate::pages::publish(&shot, "screenshot-console-it.png");

    // German through the picker on any page.
    b.goto("/portal/health").await;
    b.cmd(json!({"op": "select", "sel": "#lang-pick", "value": "de"}))
        .await;
    b.click("#lang-apply").await;
    b.wait("#state").await;
    assert!(b.text("nav").await.contains("Einstellungen"));
    assert_eq!(
        b.cmd(json!({"op": "attr", "sel": "html", "name": "lang"}))
            .await,
        "de"
    );
    let state = b.text("#state").await;
    assert!(
        ["Start", "OK: Kalender", "Eingeschränkt"]
            .iter()
            .any(|w| state.contains(w)),
        "{state}"
    );
    assert_eq!(b.text("#retry-now").await, "Jetzt erneut versuchen");
    assert!(b.text("main").await.contains("Letzte Fehler und Warnungen"));
    b.screenshot("health-de.png").await;
    for (page, words) in [
        ("/portal/people", "Person hinzufügen"),
        ("/portal/tokens", "Neues Token"),
        ("/portal/account", "Administratorkennwort ändern"),
        ("/portal/logs", "Protokolldateien herunterladen"),
        ("/portal/logs", "in der Zeitzone des Standorts"),
        ("/portal/settings", "Aktualisierung und Datenschutz"),
        ("/portal/settings", "Verbindung testen"),
        ("/portal/sources", "Kalenderquellen"),
    ] {
        b.goto(page).await;
        let text = b.text("main").await;
        assert!(text.contains(words), "{page}: {text:.200}");
    }
    b.goto("/console").await;
    b.cmd(json!({"op": "waitText", "sel": "#live", "text": "live"}))
        .await;
    assert!(b.text("#detail").await.contains("Tippen zum Suchen"));
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "no script errors: {errors:?}");
    b.quit().await;
}
