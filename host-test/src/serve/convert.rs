//! The connector's WIT types exist twice in a worker: as wasmtime generated
//! them for the component (`salesforce_host::wit`) and as wit-bindgen-wrpc
//! generated them for the wire. `Convert` moves a value from one form to
//! the other, field by field.

use salesforce_host::{ops, tools as host_tools, wit};
use sf_host::wrpc::bindings::serve::salesforce::connector::{operations, tools, types};

/// The same WIT value in the other generated form.
pub trait Convert<T> {
    fn convert(self) -> T;
}

macro_rules! same {
    ($($t:ty),*) => {$(
        impl Convert<$t> for $t {
            fn convert(self) -> $t {
                self
            }
        }
    )*};
}
same!(String, bool, u16, u32, u64);

impl<A: Convert<B>, B> Convert<Option<B>> for Option<A> {
    fn convert(self) -> Option<B> {
        self.map(Convert::convert)
    }
}

impl<A: Convert<B>, B> Convert<Vec<B>> for Vec<A> {
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Convert::convert).collect()
    }
}

impl<A: Convert<C>, B: Convert<D>, C, D> Convert<(C, D)> for (A, B) {
    fn convert(self) -> (C, D) {
        (self.0.convert(), self.1.convert())
    }
}

/// A record with the same fields in both forms.
macro_rules! record {
    ($from:path => $to:path { $($field:ident),* $(,)? }) => {
        impl Convert<$to> for $from {
            fn convert(self) -> $to {
                use $from as From;
                let From { $($field),* } = self;
                use $to as To;
                To { $($field: $field.convert()),* }
            }
        }
    };
}

// What a caller sends.
record!(types::Request => wit::Request { method, path, query, headers, body });
record!(operations::QueryOptions => ops::QueryOptions { include_deleted, batch_size, follow_children });

impl Convert<wit::Method> for types::Method {
    fn convert(self) -> wit::Method {
        match self {
            Self::Get => wit::Method::Get,
            Self::Post => wit::Method::Post,
            Self::Patch => wit::Method::Patch,
            Self::Put => wit::Method::Put,
            Self::Delete => wit::Method::Delete,
            Self::Head => wit::Method::Head,
        }
    }
}

// What a worker answers.
record!(wit::Response => types::Response { status, headers, body, limit_info });
record!(wit::LimitInfo => types::LimitInfo { api_usage, per_app_api_usage, api_bursts });
record!(wit::Usage => types::Usage { used, max });
record!(wit::AppUsage => types::AppUsage { used, max, app_name });
record!(ops::QueryPage => operations::QueryPage { records, total_size, done, next_records_url, limit_info });
record!(ops::JsonResponse => operations::JsonResponse { body, limit_info });
record!(ops::CreatedRecord => operations::CreatedRecord { id, limit_info });
record!(ops::UpsertOutcome => operations::UpsertOutcome { id, created, limit_info });
record!(host_tools::Tool => tools::Tool { name, description, input_schema });
record!(wit::FieldProblem => types::FieldProblem { field, message });
record!(wit::OauthFailure => types::OauthFailure { status, error, description, hint });
record!(wit::ApiErrorItem => types::ApiErrorItem { error_code, message, fields });
record!(wit::ApiFailure => types::ApiFailure { status, errors, limit_info });
record!(wit::RateLimit => types::RateLimit { status, code, message, retry_after_seconds });
record!(wit::Refusal => types::Refusal { status, error_code, message, hint });
record!(wit::Unexpected => types::Unexpected { status, content_type, reason, excerpt });

impl Convert<types::Error> for wit::Error {
    fn convert(self) -> types::Error {
        use types::Error as E;
        match self {
            Self::InvalidConfig(p) => E::InvalidConfig(p.convert()),
            Self::InvalidRequest(p) => E::InvalidRequest(p.convert()),
            Self::AuthenticationFailed(f) => E::AuthenticationFailed(f.convert()),
            Self::SessionExpired(m) => E::SessionExpired(m),
            Self::SessionRefused(r) => E::SessionRefused(r.convert()),
            Self::LoginRequired(m) => E::LoginRequired(m),
            Self::ApiError(f) => E::ApiError(f.convert()),
            Self::MultipleChoices(urls) => E::MultipleChoices(urls),
            Self::RateLimited(r) => E::RateLimited(r.convert()),
            Self::Transport(m) => E::Transport(m),
            Self::Timeout(m) => E::Timeout(m),
            Self::UnexpectedResponse(u) => E::UnexpectedResponse(u.convert()),
            Self::Denied(m) => E::Denied(m),
            Self::ResponseTooLarge(n) => E::ResponseTooLarge(n),
        }
    }
}
