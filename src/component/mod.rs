//! The WIT edge: generated bindings, conversions, and the exported functions.

mod convert;
mod wasi_http;

wit_bindgen::generate!({
    world: "salesforce",
    path: "wit",
    with: {
        "wasi:http/types@0.2.12": wasip2::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasip2::http::outgoing_handler,
        "wasi:io/error@0.2.12": wasip2::io::error,
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:io/streams@0.2.12": wasip2::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
    },
});

use exports::salesforce::connector::connector::Guest;
use exports::salesforce::connector::types as wit;

struct Component;

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Guest for Component {
    fn authenticate(config: wit::Config) -> Result<wit::Session, wit::Error> {
        let config = convert::config_in(config);
        crate::oauth::authenticate(&config, &mut wasi_http::WasiHttp, now_secs())
            .map(convert::session_out)
            .map_err(convert::error_out)
    }

    fn call(session: wit::Session, request: wit::Request) -> Result<wit::Response, wit::Error> {
        let session = convert::session_in(session).map_err(convert::error_out)?;
        let request = convert::request_in(request);
        let mut redactor = crate::secret::Redactor::new();
        redactor.add(&session.access_token);
        if let Some(t) = &session.refresh_token {
            redactor.add(t);
        }
        let http = crate::rest::build(&session, &request).map_err(convert::error_out)?;
        let answer = crate::http::Transport::send(&mut wasi_http::WasiHttp, &http)
            .map_err(|e| convert::error_out(e.into()))?;
        crate::rest::interpret(answer, &redactor)
            .map(convert::response_out)
            .map_err(convert::error_out)
    }

    fn authorize_url(request: wit::AuthorizeRequest) -> Result<wit::AuthorizeStart, wit::Error> {
        let mut random = [0u8; crate::oauth::pkce::RANDOM_BYTES];
        let bytes =
            wasip2::random::random::get_random_bytes(crate::oauth::pkce::RANDOM_BYTES as u64);
        let n = bytes.len().min(random.len());
        random[..n].copy_from_slice(&bytes[..n]);
        crate::oauth::pkce::authorize_url(&convert::authorize_in(request), &random)
            .map(|s| wit::AuthorizeStart {
                url: s.url,
                state: s.state,
                code_verifier: s.code_verifier.into_inner(),
            })
            .map_err(convert::error_out)
    }

    fn parse_sfdx_url(url: String) -> Result<wit::Config, wit::Error> {
        crate::sfdx::parse(&url)
            .map(convert::config_out)
            .map_err(convert::error_out)
    }
}

export!(Component);
