//! The HTTP server loop. axum's own `serve` sets no timeout at all, so a peer could hold a
//! connection for ever with headers trickled a byte at a time, a body that never comes, or a
//! response it never reads. Here each connection is served by hyper's HTTP/1 with:
//!
//! - a cap on open connections (beyond it the listener is not polled: new peers wait in the
//!   kernel's backlog rather than cost memory);
//! - a header timeout, which also closes idle keep-alive connections (hyper starts it whenever
//!   the connection waits for a request head);
//! - a write timeout: a write that makes no progress for that long closes the connection (a
//!   stream client that stopped reading);
//! - the request body timeout is a layer on the routes ([`crate::gateway`]);
//! - over HTTPS, the TLS handshake must finish within the header timeout, so a peer that says
//!   nothing cannot hold a place either.
//!
//! Each request carries what the server knows of its connection: the peer's address as axum's
//! `ConnectInfo`, for per-address limits, and its [`Transport`] (plain or TLS), for `Secure`
//! cookies.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::ServerLimits;

/// Largest request head hyper buffers; the routes answer an overlong URI or header block with
/// a JSON error well below this ([`crate::api::json_errors`]).
const MAX_HEAD_BYTES: usize = 256 * 1024;
/// Headers hyper parses at most; the routes refuse more than [`crate::api::MAX_HEADERS`].
const MAX_HEADERS: usize = 256;

/// How a request reached the server, set on every request as an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Plain,
    Tls,
}

/// A stream whose writes fail with `TimedOut` when they make no progress for `limit`.
struct WriteTimeout<T> {
    inner: T,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteTimeout<T> {
    fn new(inner: T, limit: Duration) -> WriteTimeout<T> {
        WriteTimeout {
            inner,
            limit,
            stalled: None,
        }
    }

    /// Turns a pending write into an error once it has been pending for the limit.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer read nothing for the write timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

/// Serves `routes` on `listener` (over TLS when `tls` is given) until `stop` resolves, then
/// lets open connections finish their requests (the caller bounds how long it waits for that).
pub async fn serve(
    listener: TcpListener,
    routes: Router,
    limits: ServerLimits,
    tls: Option<TlsAcceptor>,
    stop: impl Future<Output = ()> + Send,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout())
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let (socket, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = socket.set_nodelay(true);
        let socket = WriteTimeout::new(socket, limits.write_timeout());
        // Taken now: a shutdown waits for a connection still in its handshake.
        let watcher = graceful.watcher();
        let http = http.clone();
        let routes = routes.clone();
        let tls = tls.clone();
        let handshake_limit = limits.header_timeout();
        tokio::spawn(async move {
            match tls {
                None => {
                    serve_connection(&http, socket, routes, remote, Transport::Plain, watcher).await
                }
                Some(acceptor) => {
                    match tokio::time::timeout(handshake_limit, acceptor.accept(socket)).await {
                        Ok(Ok(stream)) => {
                            serve_connection(
                                &http,
                                stream,
                                routes,
                                remote,
                                Transport::Tls,
                                watcher,
                            )
                            .await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %remote, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves the requests of one connection, each with its peer's address and transport.
async fn serve_connection<IO>(
    http: &hyper::server::conn::http1::Builder,
    io: IO,
    routes: Router,
    remote: SocketAddr,
    transport: Transport,
    watcher: hyper_util::server::graceful::Watcher,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut req = req.map(axum::body::Body::new);
        req.extensions_mut()
            .insert(ConnectInfo::<SocketAddr>(remote));
        req.extensions_mut().insert(transport);
        routes.clone().oneshot(req)
    });
    let connection = watcher.watch(http.serve_connection(TokioIo::new(io), service));
    if let Err(e) = connection.await {
        tracing::debug!(error = %e, %remote, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_write_nobody_reads_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        // The peer connects and never reads.
        let _peer = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (socket, _) = listener.accept().await.expect("accept");
        let mut stream = WriteTimeout::new(socket, Duration::from_millis(300));
        let chunk = vec![0u8; 64 * 1024];
        let started = std::time::Instant::now();
        let err = loop {
            if let Err(e) = stream.write_all(&chunk).await {
                break e;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the socket buffers never filled"
            );
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    /// A peer that opens a connection and never starts its TLS handshake holds its place only
    /// for the header timeout: with one place, the next client is served after it.
    #[tokio::test]
    async fn a_silent_peer_loses_its_place_at_the_handshake_timeout() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("certificate");
        let files = crate::tls::TlsFiles {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        };
        std::fs::write(&files.cert, cert.pem()).expect("write");
        std::fs::write(&files.key, key.serialize_pem()).expect("write");
        let live = crate::tls::LiveCertificate::open(files)
            .await
            .expect("loads");
        let acceptor = TlsAcceptor::from(live.server_config().expect("config"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let limits = ServerLimits {
            max_connections: 1,
            header_timeout_s: 1,
            ..ServerLimits::default()
        };
        let routes = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, routes, limits, Some(acceptor), async {
            let _ = stopped.await;
        }));

        let _silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(cert.pem().as_bytes()).expect("pem")])
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let answer = client
            .get(format!("https://{addr}/"))
            .send()
            .await
            .expect("served once the silent peer is gone");
        assert_eq!(answer.status(), 200);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(500) && waited < Duration::from_secs(5),
            "{waited:?}"
        );
        let _ = stop.send(());
        drop(client);
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server stops")
            .expect("the server task ends");
    }
}
