//! The one place a guest's request leaves the host: TCP (+ TLS with the web
//! roots plus any extra CA, such as the mock's) and HTTP/1.1 via hyper, with
//! the guest's connect / first-byte / between-bytes timeouts.

use bytes::Bytes;
use http::uri::Scheme;
use http_body_util::BodyExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// Used when the guest sets no timeout of its own.
const DEFAULT_CONNECT: Duration = Duration::from_secs(30);
const DEFAULT_FIRST_BYTE: Duration = Duration::from_secs(120);
const DEFAULT_BETWEEN_BYTES: Duration = Duration::from_secs(60);

pub type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;

#[derive(Clone)]
pub struct Sender {
    tls: tokio_rustls::TlsConnector,
}

impl Sender {
    /// `extra_ca_pem`: PEM certificates trusted in addition to the web roots.
    pub fn new(extra_ca_pem: Option<&str>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        if let Some(pem) = extra_ca_pem {
            for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
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
        })
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
            .trim_end_matches(']');

        let tcp = tokio::time::timeout(connect_timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| Error::ConnectionTimeout)?
            .map_err(Error::Connect)?;
        let _ = tcp.set_nodelay(true);

        let (mut sender, done_rx) = if tls {
            let name = rustls::pki_types::ServerName::try_from(host.to_string())?;
            let stream = tokio::time::timeout(connect_timeout, self.tls.connect(name, tcp))
                .await
                .map_err(|_| Error::ConnectionTimeout)?
                .map_err(Error::Tls)?;
            let (s, c) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            (s, drive(c))
        } else {
            let (s, c) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
            (s, drive(c))
        };

        // Origin-form on the wire: scheme and authority go in Host only.
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        *req.uri_mut() = path.parse().map_err(|_| Error::HttpRequestUriInvalid)?;

        let response = tokio::time::timeout(first_byte, sender.send_request(req))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(Error::from)?;
        let response = response.map(|incoming| {
            TimedBody {
                inner: incoming,
                between_bytes,
                sleep: Box::pin(tokio::time::sleep(between_bytes)),
            }
            .boxed_unsync()
        });
        let io: IoFuture = Box::new(async move {
            match done_rx.await {
                Ok(Err(e)) => Err(Error::from(e)),
                _ => Ok(()),
            }
        });
        Ok((response, io))
    }
}

/// Drives a connection in the background; the receiver learns how it ended
/// (the response body streams only while it runs).
fn drive<F>(conn: F) -> tokio::sync::oneshot::Receiver<hyper::Result<()>>
where
    F: Future<Output = hyper::Result<()>> + Send + 'static,
{
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = done_tx.send(conn.await);
    });
    done_rx
}

/// A response body that fails with `ConnectionReadTimeout` when no frame
/// arrives within the between-bytes timeout (a server dripping or stalled
/// mid-body).
struct TimedBody {
    inner: hyper::body::Incoming,
    between_bytes: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
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
            Poll::Ready(None) => Poll::Ready(None),
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
