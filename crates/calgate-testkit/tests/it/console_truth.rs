//! The operator console tells the truth about its data, in Chromium against the demo: during an
//! outage of the calendar server every row says it is not current (not only the detail pane),
//! and when the gateway's end of the stream goes away with the sign-in (as after a restart) the
//! badge stops saying "live" and the console goes back to the sign-in page instead of sitting
//! on old rows.

use std::time::Duration;

use serde_json::json;

use crate::drills_throttle::set_policy;
use crate::pages::{Browser, admin_client, demo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_marks_stale_rows_and_signs_out_after_a_restart() {
    let (demo, _dir) = demo(9).await;
    let base = demo.gateway.url();
    let app = demo.gateway.app.clone();
    // The shortest refresh interval: data is stale after two missed refreshes (20 s).
    let put = admin_client(&demo.admin_token)
        .put(format!("{base}/api/v1/settings/calendar"))
        .json(&json!({"refresh_interval_s": 10}))
        .send()
        .await
        .expect("settings PUT");
    assert!(put.status().is_success(), "{}", put.status());
    let mut b = Browser::launch(&base).await;
    b.sign_in().await;
    b.goto("/console").await;
    b.wait("#results li[data-email]").await;
    b.cmd(json!({"op": "waitText", "sel": "#live", "text": "live"}))
        .await;
    let rows = b
        .cmd(json!({"op": "count", "sel": "#results li.not-current"}))
        .await;
    assert_eq!(rows, 0, "nothing is stale yet");
    // Dark mode follows the system setting.
    let light = b
        .cmd(json!({"op": "style", "sel": "body", "name": "background-color"}))
        .await;
    b.cmd(json!({"op": "colorScheme", "value": "dark"})).await;
    let dark = b
        .cmd(json!({"op": "style", "sel": "body", "name": "background-color"}))
        .await;
    assert_eq!(light, "rgb(245, 246, 248)");
    assert_eq!(dark, "rgb(18, 22, 29)", "the dark palette");
    b.screenshot("console-dark.png").await;

    // The on-premises server refuses every request: its people's data ages past the limit.
    let sim_http = calgate_testkit::sim_http_client(&demo.sim);
    set_policy(
        &sim_http,
        &demo.sim.urls.control_url,
        json!({"error_rate": 1.0}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        // Typing re-reads the list, as the console also does every minute by itself.
        b.fill("#search", "a").await;
        b.fill("#search", "").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let stale = b
            .cmd(json!({"op": "count", "sel": "#results li.not-current"}))
            .await
            .as_u64()
            .unwrap_or(0);
        if stale > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no row said it was not current"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let age = b.text("#results li.not-current .age").await;
    assert!(age.contains("not current"), "{age}");
    b.screenshot("console-stale.png").await;

    // The gateway goes away with everyone's sign-in, as in a restart: the stream ends, the
    // badge says so, and the console sends the operator to sign in again.
    app.store
        .set_admin_password("admin", &secrecy::SecretString::from("another-password-1"))
        .await
        .expect("password");
    app.shutdown.cancel();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let url = b.url().await;
        if url.contains("/portal/login") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still on {url}: {}",
            b.text("#live").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let errors = b.console_errors().await;
    assert!(
        errors
            .iter()
            .all(|e| e.contains("401") || e.contains("EventSource")),
        "no script errors but the refused requests: {errors:?}"
    );
    b.quit().await;
}
