//! The one place a guest's request leaves the host: TCP (+ TLS with the web
//! roots plus any extra CA, such as the mock's) and HTTP/1.1 via hyper, with
//! the guest's connect / first-byte / between-bytes timeouts, over
//! connections kept alive and reused per origin (a new TCP and TLS handshake
//! per call costs tens of milliseconds against a real org).

use bytes::Bytes;
use http::uri::Scheme;
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// Used when the guest sets no timeout of its own.
const DEFAULT_CONNECT: Duration = Duration::from_secs(30);
const DEFAULT_FIRST_BYTE: Duration = Duration::from_secs(120);
const DEFAULT_BETWEEN_BYTES: Duration = Duration::from_secs(60);

/// Idle connections kept per origin, and how long one may sit idle (below
/// the 60 s or more after which load balancers usually close them).
const MAX_IDLE_PER_ORIGIN: usize = 8;
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

pub type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
type Connection = hyper::client::conn::http1::SendRequest<WasiBody>;

#[derive(Clone)]
pub struct Sender {
    tls: tokio_rustls::TlsConnector,
    pool: Arc<Pool>,
    /// `host:port` -> address to connect to instead of resolving the name,
    /// as curl's `--resolve`: the URL, the Host header and the TLS name stay.
    resolve: Arc<HashMap<String, std::net::SocketAddr>>,
}

/// Connections whose last response was read to the end, by origin.
#[derive(Default)]
struct Pool {
    idle: Mutex<HashMap<String, Vec<(Connection, Instant)>>>,
}

impl Pool {
    fn take(&self, origin: &str) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(origin)?;
        while let Some((conn, since)) = list.pop() {
            if since.elapsed() < IDLE_TIMEOUT && !conn.is_closed() {
                return Some(conn);
            }
        }
        None
    }

    fn put(&self, origin: String, conn: Connection) {
        if conn.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.entry(origin).or_default();
        list.retain(|(c, since)| !c.is_closed() && since.elapsed() < IDLE_TIMEOUT);
        if list.len() < MAX_IDLE_PER_ORIGIN {
            list.push((conn, Instant::now()));
        }
    }

    /// Idle connections held now, over all origins.
    fn len(&self) -> usize {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.values().map(Vec::len).sum()
    }
}

impl Sender {
    /// `extra_ca_pem`: PEM certificates trusted in addition to the web roots.
    pub fn new(extra_ca_pem: Option<&str>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        if let Some(pem) = extra_ca_pem {
            use rustls::pki_types::{pem::PemObject, CertificateDer};
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| format!("CA file is not valid PEM: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("CA certificate rejected: {e}"))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            pool: Arc::default(),
            resolve: Arc::default(),
        })
    }

    /// Connects to these addresses for these `host:port` names (lower case)
    /// instead of resolving them: a private endpoint, or a test server
    /// answering for `acme.my.salesforce.com`.
    pub fn with_resolve(mut self, resolve: HashMap<String, std::net::SocketAddr>) -> Self {
        self.resolve = Arc::new(resolve);
        self
    }

    /// Idle keep-alive connections ready for reuse.
    pub fn idle_connections(&self) -> usize {
        self.pool.len()
    }

    pub async fn send(
        &self,
        mut req: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<(http::Response<WasiBody>, IoFuture), Error> {
        let opts = options.unwrap_or_default();
        let connect_timeout = opts.connect_timeout.unwrap_or(DEFAULT_CONNECT);
        let first_byte = opts.first_byte_timeout.unwrap_or(DEFAULT_FIRST_BYTE);
        let between_bytes = opts
            .between_bytes_timeout
            .unwrap_or(DEFAULT_BETWEEN_BYTES)
            .max(Duration::from_millis(1));

        let uri = req.uri().clone();
        let authority = uri.authority().ok_or(Error::HttpRequestUriInvalid)?;
        let tls = uri.scheme() == Some(&Scheme::HTTPS);
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let origin = format!("{}://{host}:{port}", if tls { "https" } else { "http" });

        // Origin-form on the wire: scheme and authority go in Host only.
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        *req.uri_mut() = path.parse().map_err(|_| Error::HttpRequestUriInvalid)?;

        // A kept-alive connection first. If it closed meanwhile, hyper hands
        // the unsent request back and it goes out on a new connection; once
        // sent, it is never sent twice.
        while let Some(mut conn) = self.pool.take(&origin) {
            if !matches!(
                tokio::time::timeout(connect_timeout, conn.ready()).await,
                Ok(Ok(()))
            ) {
                continue;
            }
            match tokio::time::timeout(first_byte, conn.try_send_request(req)).await {
                Err(_) => return Err(Error::ConnectionReadTimeout),
                Ok(Ok(response)) => return Ok(self.respond(response, conn, origin, between_bytes)),
                Ok(Err(mut e)) => match e.take_message() {
                    Some(unsent) => req = unsent,
                    None => return Err(Error::from(e.into_error())),
                },
            }
        }

        let mut conn = self.connect(&host, port, tls, connect_timeout).await?;
        let response = tokio::time::timeout(first_byte, conn.send_request(req))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(Error::from)?;
        Ok(self.respond(response, conn, origin, between_bytes))
    }

    async fn connect(
        &self,
        host: &str,
        port: u16,
        tls: bool,
        connect_timeout: Duration,
    ) -> Result<Connection, Error> {
        let pinned = self
            .resolve
            .get(&format!("{}:{port}", host.to_ascii_lowercase()));
        let connecting = async {
            match pinned {
                Some(addr) => TcpStream::connect(*addr).await,
                None => TcpStream::connect((host, port)).await,
            }
        };
        let tcp = tokio::time::timeout(connect_timeout, connecting)
            .await
            .map_err(|_| Error::ConnectionTimeout)?
            .map_err(Error::Connect)?;
        let _ = tcp.set_nodelay(true);
        if tls {
            let name = rustls::pki_types::ServerName::try_from(host.to_string())?;
            let stream = tokio::time::timeout(connect_timeout, self.tls.connect(name, tcp))
                .await
                .map_err(|_| Error::ConnectionTimeout)?
                .map_err(Error::Tls)?;
            let (conn, driver) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(driver);
            Ok(conn)
        } else {
            let (conn, driver) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
            tokio::spawn(driver);
            Ok(conn)
        }
    }

    /// The response, its body timed between frames; the connection goes
    /// back to the pool once the body has been read to the end.
    fn respond(
        &self,
        response: http::Response<hyper::body::Incoming>,
        conn: Connection,
        origin: String,
        between_bytes: Duration,
    ) -> (http::Response<WasiBody>, IoFuture) {
        let pool = self.pool.clone();
        let response = response.map(|incoming| {
            TimedBody {
                inner: incoming,
                between_bytes,
                sleep: Box::pin(tokio::time::sleep(between_bytes)),
                reuse: Some((conn, pool, origin)),
            }
            .boxed_unsync()
        });
        // Connection errors surface through the body; the connection itself
        // outlives this response.
        let io: IoFuture = Box::new(async { Ok(()) });
        (response, io)
    }
}

/// A response body that fails with `ConnectionReadTimeout` when no frame
/// arrives within the between-bytes timeout (a server dripping or stalled
/// mid-body).
struct TimedBody {
    inner: hyper::body::Incoming,
    between_bytes: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// Returned to the pool at the end of the body.
    reuse: Option<(Connection, Arc<Pool>, String)>,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let deadline = tokio::time::Instant::now() + this.between_bytes;
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(None) => {
                if let Some((conn, pool, origin)) = this.reuse.take() {
                    pool.put(origin, conn);
                }
                Poll::Ready(None)
            }
            Poll::Pending => {
                ready!(this.sleep.as_mut().poll(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}
