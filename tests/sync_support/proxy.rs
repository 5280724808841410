//! A fault-injecting HTTPS proxy the test controls, between a site and head
//! office. It terminates TLS (with a certificate of the test CA, so the
//! site's trust check still runs for real), reads each HTTP request whole,
//! and with the configured probability drops the connection before the
//! request reaches head office, resets it, delays it, or forwards it and
//! then loses or truncates head office's answer (head office has committed;
//! the site never hears of it).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::Pki;

#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub drop_before: AtomicU64,
    pub reset_before: AtomicU64,
    pub drop_after_commit: AtomicU64,
    pub truncate: AtomicU64,
    pub delay: AtomicU64,
    pub upstream_down: AtomicU64,
}

impl Counters {
    /// Faults that cost the site a request.
    pub fn faults(&self) -> u64 {
        self.drop_before.load(Ordering::Relaxed)
            + self.reset_before.load(Ordering::Relaxed)
            + self.drop_after_commit.load(Ordering::Relaxed)
            + self.truncate.load(Ordering::Relaxed)
            + self.delay.load(Ordering::Relaxed)
    }

    pub fn summary(&self) -> String {
        format!(
            "requests {}, dropped before {}, reset before {}, lost after commit {}, truncated {}, delayed {}, head office down {}",
            self.requests.load(Ordering::Relaxed),
            self.drop_before.load(Ordering::Relaxed),
            self.reset_before.load(Ordering::Relaxed),
            self.drop_after_commit.load(Ordering::Relaxed),
            self.truncate.load(Ordering::Relaxed),
            self.delay.load(Ordering::Relaxed),
            self.upstream_down.load(Ordering::Relaxed),
        )
    }
}

pub struct Proxy {
    pub port: u16,
    /// Fault probability in per mille.
    pub per_mille: Arc<AtomicU32>,
    pub upstream: Arc<AtomicU16>,
    pub counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    pub fn start(pki: &Pki, upstream_port: u16, per_mille: u32, seed: u64) -> Proxy {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&pki.cert)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(&pki.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(&pki.ca).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let per_mille = Arc::new(AtomicU32::new(per_mille));
        let upstream = Arc::new(AtomicU16::new(upstream_port));
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Shared {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
            per_mille: per_mille.clone(),
            upstream: upstream.clone(),
            counters: counters.clone(),
            rng: Arc::new(AtomicU64::new(seed | 1)),
        };
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                while !stop2.load(Ordering::Relaxed) {
                    let accepted =
                        tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
                    if let Ok(Ok((tcp, _))) = accepted {
                        let shared = shared.clone();
                        tokio::spawn(async move { shared.serve(tcp).await });
                    }
                }
            });
        });
        Proxy {
            port,
            per_mille,
            upstream,
            counters,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Where head office listens now (a restarted head office gets a new
    /// port from the OS; the sites keep the proxy's).
    pub fn set_upstream(&self, port: u16) {
        self.upstream.store(port, Ordering::Relaxed);
    }

    pub fn set_faults(&self, per_mille: u32) {
        self.per_mille.store(per_mille, Ordering::Relaxed);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(Clone)]
struct Shared {
    acceptor: tokio_rustls::TlsAcceptor,
    connector: tokio_rustls::TlsConnector,
    per_mille: Arc<AtomicU32>,
    upstream: Arc<AtomicU16>,
    counters: Arc<Counters>,
    rng: Arc<AtomicU64>,
}

enum Fault {
    None,
    DropBefore,
    ResetBefore,
    DropAfterCommit,
    Truncate,
    Delay(Duration),
}

/// Reads one HTTP message (headers, then Content-Length bytes).
async fn read_message<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let total = end + 4 + len;
            while buf.len() < total {
                let mut chunk = vec![0u8; 65536];
                let n = s.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let msg = buf[..total].to_vec();
            buf.drain(..total);
            return Some(msg);
        }
        let mut chunk = vec![0u8; 65536];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

impl Shared {
    fn random(&self) -> u64 {
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        x
    }

    fn choose(&self) -> Fault {
        let p = u64::from(self.per_mille.load(Ordering::Relaxed));
        if self.random() % 1000 >= p {
            return Fault::None;
        }
        match self.random() % 5 {
            0 => Fault::DropBefore,
            1 => Fault::ResetBefore,
            2 => Fault::DropAfterCommit,
            3 => Fault::Truncate,
            _ => Fault::Delay(Duration::from_millis(100 + self.random() % 900)),
        }
    }

    async fn upstream_exchange(&self, request: &[u8]) -> Option<Vec<u8>> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.upstream.load(Ordering::Relaxed)));
        let tcp = TcpStream::connect(addr).await.ok()?;
        let name = ServerName::try_from("127.0.0.1").ok()?;
        let mut tls = self.connector.connect(name, tcp).await.ok()?;
        tls.write_all(request).await.ok()?;
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(60), read_message(&mut tls, &mut buf))
            .await
            .ok()
            .flatten()
    }

    async fn serve(self, tcp: TcpStream) {
        let Ok(mut tls) = self.acceptor.accept(tcp).await else {
            return;
        };
        let mut buf = Vec::new();
        while let Some(request) = read_message(&mut tls, &mut buf).await {
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            match self.choose() {
                Fault::DropBefore => {
                    self.counters.drop_before.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Fault::ResetBefore => {
                    self.counters.reset_before.fetch_add(1, Ordering::Relaxed);
                    // Linger 0: close sends RST at once (nothing to block on).
                    #[allow(deprecated)]
                    let _ = tls.get_ref().0.set_linger(Some(Duration::ZERO));
                    return;
                }
                Fault::Delay(d) => {
                    self.counters.delay.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(d).await;
                    if !self.forward(&mut tls, &request).await {
                        return;
                    }
                }
                Fault::DropAfterCommit => {
                    self.counters
                        .drop_after_commit
                        .fetch_add(1, Ordering::Relaxed);
                    let _ = self.upstream_exchange(&request).await;
                    return;
                }
                Fault::Truncate => {
                    self.counters.truncate.fetch_add(1, Ordering::Relaxed);
                    if let Some(response) = self.upstream_exchange(&request).await {
                        let cut = response.len() / 2;
                        let _ = tls.write_all(&response[..cut]).await;
                        let _ = tls.flush().await;
                    }
                    return;
                }
                Fault::None => {
                    if !self.forward(&mut tls, &request).await {
                        return;
                    }
                }
            }
        }
    }

    async fn forward<S: AsyncWrite + Unpin>(&self, client: &mut S, request: &[u8]) -> bool {
        match self.upstream_exchange(request).await {
            Some(response) => {
                client.write_all(&response).await.is_ok() && client.flush().await.is_ok()
            }
            None => {
                self.counters.upstream_down.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }
}
