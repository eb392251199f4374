//! Every page of the portal and the console passes axe-core (WCAG 2.1 A/AA and best practice)
//! with no serious or critical violation, in Chromium against the demo, in the light and the
//! dark palette. Lesser findings are printed, so they are seen without failing the run.

use serde_json::{Value, json};

use crate::pages::{Browser, demo};

/// The pages an admin and an operator use.
const PAGES: [&str; 11] = [
    "/portal/settings",
    "/portal/settings?source=online",
    "/portal/sources",
    "/portal/directories",
    "/portal/directories?edit=entra",
    "/portal/health",
    "/portal/people",
    "/portal/tokens",
    "/portal/logs",
    "/portal/account",
    "/console",
];

/// The serious and critical findings on the page shown, each as `rule: help (where)`; the rest
/// are printed.
async fn serious_findings(b: &mut Browser, page: &str) -> Vec<String> {
    let found = b.cmd(json!({"op": "axe"})).await;
    let mut serious = Vec::new();
    for v in found.as_array().map(Vec::as_slice).unwrap_or_default() {
        let line = format!(
            "{page}: {} ({}): {} at {}",
            v["id"].as_str().unwrap_or("?"),
            v["impact"].as_str().unwrap_or("?"),
            v["help"].as_str().unwrap_or(""),
            v["nodes"]
        );
        match v["impact"].as_str() {
            Some("serious" | "critical") => serious.push(line),
            _ => println!("axe, not failing: {line}"),
        }
    }
    serious
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_core() {
    let (demo, _dir) = demo(12).await;
    let base = demo.gateway.url();
    // A directory, so the Directories page lists one and Health shows its card.
    let saved = crate::pages::admin_client(&demo.admin_token)
        .put(format!("{base}/api/v1/directories/entra"))
        .json(&json!({"kind": "graph", "source": "online", "name": "Entra ID"}))
        .send()
        .await
        .expect("directory PUT");
    assert_eq!(saved.status(), 201);
    let mut b = Browser::launch(&base).await;
    let mut serious = Vec::new();
    b.goto("/portal/login").await;
    serious.extend(serious_findings(&mut b, "/portal/login").await);
    b.sign_in().await;
    let mut checked = 0;
    for scheme in ["light", "dark"] {
        b.cmd(json!({"op": "colorScheme", "value": scheme})).await;
        for page in PAGES {
            b.goto(page).await;
            if page == "/console" {
                // With a person open, as an operator sees it.
                b.wait("#results li[data-email]").await;
                b.cmd(json!({"op": "press", "key": "Enter"})).await;
                b.wait("#detail-status").await;
            }
            serious.extend(serious_findings(&mut b, &format!("{page} ({scheme})")).await);
            checked += 1;
        }
    }
    println!(
        "axe-core: {checked} page views checked, {} serious",
        serious.len()
    );
    assert!(serious.is_empty(), "{}", serious.join("\n"));
    let errors: Vec<Value> = b
        .console_errors()
        .await
        .into_iter()
        .map(Value::String)
        .collect();
    assert!(errors.is_empty(), "no script or CSP errors: {errors:?}");
    b.quit().await;
}
