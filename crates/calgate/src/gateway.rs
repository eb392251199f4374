//! Starting and stopping the gateway: bind, build the state, serve until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use calgate_engine::{CalendarSource, Engine, EngineOptions};

use crate::app::{AppState, router};

/// How to start a gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    pub engine: EngineOptions,
}

/// A running gateway. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningGateway {
    pub addr: SocketAddr,
    pub app: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningGateway {
    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until the server ends (after [`RunningGateway::stop`] or a fatal error).
    pub async fn wait(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }

    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        self.stop();
        self.task.abort();
    }
}

/// Starts the gateway with an optional calendar source.
pub async fn start(
    config: GatewayConfig,
    source: Option<Arc<dyn CalendarSource>>,
) -> anyhow::Result<RunningGateway> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let engine = Engine::start(source, config.engine.clone());
    let app = Arc::new(AppState::new(engine, config.engine));
    let routes = router(app.clone());
    let (tx, rx) = oneshot::channel::<()>();
    app.set_ready(true);
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, routes).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "the HTTP server stopped");
        }
    });
    Ok(RunningGateway {
        addr,
        app,
        stop: Some(tx),
        task,
    })
}
