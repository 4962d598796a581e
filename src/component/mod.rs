//! The WIT edge: generated bindings, conversions, and the exported functions.

#[allow(unused_imports)]
use crate::prelude::*;

mod bulk;
mod convert;
mod files;
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
        "wasi:clocks/wall-clock@0.2.12": wasip2::clocks::wall_clock,
        "wasi:random/random@0.2.12": wasip2::random::random,
    },
});

use crate::guardrails::Guardrails;
use exports::salesforce::connector::connector::Guest;
use exports::salesforce::connector::types as wit;

struct Component;

// The allocator, panic handler, libc's memcmp and `cabi_realloc`.
use salesforce_wasm_runtime as _;

/// The deadline a config asks for (its own check reports a bad value).
fn deadline_of(config: &crate::config::Config) -> u32 {
    let range = crate::config::DEADLINE_MS_RANGE;
    config
        .deadline_ms
        .unwrap_or(crate::config::DEFAULT_DEADLINE_MS)
        .clamp(*range.start(), *range.end())
}

fn now_secs() -> u64 {
    wasip2::clocks::wall_clock::now().seconds
}

impl Guest for Component {
    fn authenticate(config: wit::Config) -> Result<wit::Session, wit::Error> {
        let config = convert::config_in(config);
        let mut http = wasi_http::WasiHttp::within(deadline_of(&config));
        crate::oauth::authenticate(&config, &mut http, now_secs())
            .map(convert::session_out)
            .map_err(|e| convert::error_out(e.redacted(&config.redactor())))
    }

    fn renew(config: wit::Config, session: wit::Session) -> Result<wit::Session, wit::Error> {
        let config = convert::config_in(config);
        let session = convert::session_in(session).map_err(convert::error_out)?;
        let redactor = config.redactor().with_session(&session);
        let mut http = wasi_http::WasiHttp::within(deadline_of(&config));
        crate::oauth::renew::renew(&config, &session, &mut http, now_secs())
            .map(convert::session_out)
            .map_err(|e| convert::error_out(e.redacted(&redactor)))
    }

    fn revoke(config: wit::Config, session: wit::Session) -> Result<(), wit::Error> {
        let config = convert::config_in(config);
        let session = convert::session_in(session).map_err(convert::error_out)?;
        let redactor = config.redactor().with_session(&session);
        let mut http = wasi_http::WasiHttp::within(deadline_of(&config));
        crate::oauth::revoke::revoke(&config, &session, &mut http)
            .map_err(|e| convert::error_out(e.redacted(&redactor)))
    }

    fn device_start(
        config: wit::Config,
        scope: Option<String>,
    ) -> Result<wit::DeviceAuthorization, wit::Error> {
        let config = convert::config_in(config);
        let mut http = wasi_http::WasiHttp::within(deadline_of(&config));
        crate::oauth::device::start(&config, scope.as_deref(), &mut http)
            .map(|a| wit::DeviceAuthorization {
                device_code: a.device_code.into_inner(),
                user_code: a.user_code,
                verification_uri: a.verification_uri,
                interval_seconds: a.interval_secs,
            })
            .map_err(|e| convert::error_out(e.redacted(&config.redactor())))
    }

    fn device_poll(
        config: wit::Config,
        device: wit::DeviceAuthorization,
    ) -> Result<wit::DeviceStatus, wit::Error> {
        use crate::oauth::device::Poll;
        let config = convert::config_in(config);
        let code = crate::secret::Secret::new(device.device_code);
        let interval = device.interval_seconds;
        let mut http = wasi_http::WasiHttp::within(deadline_of(&config));
        let poll = crate::oauth::device::poll(&config, &code, interval, &mut http);
        let mut redactor = config.redactor();
        redactor.add(&code);
        match poll.map_err(|e| convert::error_out(e.redacted(&redactor)))? {
            Poll::Pending(i) => Ok(wit::DeviceStatus::Pending(i)),
            Poll::SlowDown(i) => Ok(wit::DeviceStatus::SlowDown(i)),
            Poll::Authorized(s) => Ok(wit::DeviceStatus::Authorized(convert::session_out(*s))),
        }
    }

    fn call(session: wit::Session, request: wit::Request) -> Result<wit::Response, wit::Error> {
        let session = convert::session_in(session).map_err(convert::error_out)?;
        let request = convert::request_in(request);
        // One redactor for the call: it scrubs the server text the call
        // quotes and then the error that leaves the component.
        let redactor = crate::secret::Redactor::new().with_session(&session);
        let mut http = wasi_http::WasiHttp::within(session.limits.deadline_ms);
        crate::rest::execute_redacted(&mut http, &session, &request, &redactor)
            .map(convert::response_out)
            .map_err(|e| convert::error_out(e.redacted(&redactor)))
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

mod operations {
    use super::convert::{error_out, limits_out};
    use super::exports::salesforce::connector::operations as wit_ops;
    use super::exports::salesforce::connector::types as wit;
    use super::wasi_http::WasiHttp;
    use crate::error::Error;
    use crate::prelude::*;
    use crate::query::{QueryOptions, QueryPage};
    use crate::session::Session;

    fn session(s: wit::Session) -> Result<Session, wit::Error> {
        super::convert::session_in(s).map_err(error_out)
    }

    fn options(o: wit_ops::QueryOptions) -> QueryOptions {
        QueryOptions {
            include_deleted: o.include_deleted,
            batch_size: o.batch_size,
            follow_children: o.follow_children,
        }
    }

    fn results_out(batch: crate::collections::Batch) -> wit_ops::BatchResult {
        let results = batch
            .results
            .into_iter()
            .map(|r| wit_ops::RecordResult {
                id: r.id,
                success: r.success,
                created: r.created,
                errors: r
                    .errors
                    .into_iter()
                    .map(super::convert::api_error_item_out)
                    .collect(),
            })
            .collect();
        wit_ops::BatchResult {
            results,
            limit_info: batch.limit_info.map(limits_out),
        }
    }

    fn json_out(j: crate::rest::Json) -> wit_ops::JsonResponse {
        wit_ops::JsonResponse {
            body: j.body,
            limit_info: j.limit_info.map(limits_out),
        }
    }

    fn page_out(p: QueryPage) -> wit_ops::QueryPage {
        wit_ops::QueryPage {
            records: p.records.into_json(),
            total_size: p.total_size,
            done: p.done,
            next_records_url: p.next_records_url,
            limit_info: p.limit_info.map(limits_out),
        }
    }

    fn subrequest_in(r: wit_ops::Subrequest) -> crate::composite::Subrequest {
        crate::composite::Subrequest {
            method: super::convert::method_in(r.method),
            url: r.url,
            reference_id: r.reference_id,
            body: r.body,
            http_headers: r.http_headers,
        }
    }

    fn subresponse_out(r: crate::composite::Subresponse) -> wit_ops::Subresponse {
        wit_ops::Subresponse {
            reference_id: r.reference_id,
            status: r.status,
            headers: r.headers,
            body: r.body,
        }
    }

    /// Runs `op` with a validated session over wasi:http.
    pub(super) fn with<T>(
        s: wit::Session,
        op: impl FnOnce(&mut WasiHttp, &Session) -> Result<T, Error>,
    ) -> Result<T, wit::Error> {
        let s = session(s)?;
        let redactor = crate::secret::Redactor::new().with_session(&s);
        let mut http = WasiHttp::within(s.limits.deadline_ms);
        op(&mut http, &s).map_err(|e| error_out(e.redacted(&redactor)))
    }

    impl wit_ops::Guest for super::Component {
        fn query(
            s: wit::Session,
            soql: String,
            o: wit_ops::QueryOptions,
        ) -> Result<wit_ops::QueryPage, wit::Error> {
            with(s, |t, s| crate::query::query(t, s, &soql, &options(o))).map(page_out)
        }

        fn query_more(
            s: wit::Session,
            next: String,
            o: wit_ops::QueryOptions,
        ) -> Result<wit_ops::QueryPage, wit::Error> {
            with(s, |t, s| crate::query::query_more(t, s, &next, &options(o))).map(page_out)
        }

        fn query_all_pages(
            s: wit::Session,
            soql: String,
            o: wit_ops::QueryOptions,
            max_records: Option<u64>,
        ) -> Result<wit_ops::QueryResult, wit::Error> {
            with(s, |t, s| {
                crate::query::query_all_pages(t, s, &soql, &options(o), max_records)
            })
            .map(|r| wit_ops::QueryResult {
                fetched: r.records.len() as u64,
                records: r.records.into_json(),
                total_size: r.total_size,
                pages: r.pages,
                truncated: r.truncated,
                next_records_url: r.next_records_url,
                limit_info: r.limit_info.map(limits_out),
            })
        }

        fn search(s: wit::Session, sosl: String) -> Result<wit_ops::JsonResponse, wit::Error> {
            with(s, |t, s| crate::org::search(t, s, &sosl)).map(json_out)
        }

        fn get_record(
            s: wit::Session,
            sobject: String,
            id: String,
            fields: Vec<String>,
        ) -> Result<wit_ops::JsonResponse, wit::Error> {
            with(s, |t, s| crate::records::get(t, s, &sobject, &id, &fields)).map(json_out)
        }

        fn get_record_by_external_id(
            s: wit::Session,
            sobject: String,
            field: String,
            value: String,
            fields: Vec<String>,
        ) -> Result<wit_ops::JsonResponse, wit::Error> {
            with(s, |t, s| {
                crate::records::get_by_external_id(t, s, &sobject, &field, &value, &fields)
            })
            .map(json_out)
        }

        fn create_record(
            s: wit::Session,
            sobject: String,
            fields_json: String,
        ) -> Result<wit_ops::CreatedRecord, wit::Error> {
            with(s, |t, s| {
                crate::records::create(t, s, &sobject, &fields_json)
            })
            .map(|c| wit_ops::CreatedRecord {
                id: c.id,
                limit_info: c.limit_info.map(limits_out),
            })
        }

        fn update_record(
            s: wit::Session,
            sobject: String,
            id: String,
            fields_json: String,
        ) -> Result<Option<wit::LimitInfo>, wit::Error> {
            with(s, |t, s| {
                crate::records::update(t, s, &sobject, &id, &fields_json)
            })
            .map(|l| l.map(limits_out))
        }

        fn delete_record(
            s: wit::Session,
            sobject: String,
            id: String,
        ) -> Result<Option<wit::LimitInfo>, wit::Error> {
            with(s, |t, s| crate::records::delete(t, s, &sobject, &id)).map(|l| l.map(limits_out))
        }

        fn upsert_record(
            s: wit::Session,
            sobject: String,
            field: String,
            value: String,
            fields_json: String,
        ) -> Result<wit_ops::UpsertOutcome, wit::Error> {
            with(s, |t, s| {
                crate::records::upsert(t, s, &sobject, &field, &value, &fields_json)
            })
            .map(|o| wit_ops::UpsertOutcome {
                id: o.id,
                created: o.created,
                limit_info: o.limit_info.map(limits_out),
            })
        }

        fn describe_global(s: wit::Session) -> Result<wit_ops::JsonResponse, wit::Error> {
            with(s, |t, s| crate::org::describe_global(t, s)).map(json_out)
        }

        fn describe_sobject(
            s: wit::Session,
            sobject: String,
        ) -> Result<wit_ops::JsonResponse, wit::Error> {
            with(s, |t, s| crate::org::describe_sobject(t, s, &sobject)).map(json_out)
        }

        fn limits(s: wit::Session) -> Result<wit_ops::JsonResponse, wit::Error> {
            with(s, |t, s| crate::org::limits(t, s)).map(json_out)
        }

        fn userinfo(s: wit::Session) -> Result<wit_ops::JsonResponse, wit::Error> {
            with(s, |t, s| crate::org::userinfo(t, s)).map(json_out)
        }

        fn create_records(
            s: wit::Session,
            sobject: String,
            records: String,
            all_or_none: bool,
        ) -> Result<wit_ops::BatchResult, wit::Error> {
            with(s, |t, s| {
                crate::collections::write(t, s, &sobject, None, &records, all_or_none)
            })
            .map(results_out)
        }

        fn update_records(
            s: wit::Session,
            sobject: String,
            records: String,
            all_or_none: bool,
        ) -> Result<wit_ops::BatchResult, wit::Error> {
            with(s, |t, s| {
                crate::collections::update(t, s, &sobject, &records, all_or_none)
            })
            .map(results_out)
        }

        fn upsert_records(
            s: wit::Session,
            sobject: String,
            field: String,
            records: String,
            all_or_none: bool,
        ) -> Result<wit_ops::BatchResult, wit::Error> {
            with(s, |t, s| {
                crate::collections::write(t, s, &sobject, Some(&field), &records, all_or_none)
            })
            .map(results_out)
        }

        fn delete_records(
            s: wit::Session,
            ids: Vec<String>,
            all_or_none: bool,
        ) -> Result<wit_ops::BatchResult, wit::Error> {
            with(s, |t, s| {
                crate::collections::delete(t, s, &ids, all_or_none)
            })
            .map(results_out)
        }

        fn composite(
            s: wit::Session,
            all_or_none: bool,
            requests: Vec<wit_ops::Subrequest>,
        ) -> Result<wit_ops::CompositeResult, wit::Error> {
            let subs: Vec<crate::composite::Subrequest> =
                requests.into_iter().map(subrequest_in).collect();
            with(s, |t, s| {
                crate::composite::composite(t, s, all_or_none, &subs)
            })
            .map(|c| wit_ops::CompositeResult {
                responses: c.responses.into_iter().map(subresponse_out).collect(),
                limit_info: c.limit_info.map(limits_out),
            })
        }

        fn retrieve_records(
            s: wit::Session,
            sobject: String,
            ids: Vec<String>,
            fields: Vec<String>,
        ) -> Result<wit_ops::RetrievedRecords, wit::Error> {
            with(s, |t, s| {
                crate::retrieve::retrieve(t, s, &sobject, &ids, &fields)
            })
            .map(|r| wit_ops::RetrievedRecords {
                records: r.records,
                limit_info: r.limit_info.map(limits_out),
            })
        }

        fn composite_graph(
            s: wit::Session,
            graphs: Vec<wit_ops::Graph>,
        ) -> Result<wit_ops::GraphResult, wit::Error> {
            let graphs: Vec<crate::graph::Graph> = graphs
                .into_iter()
                .map(|g| crate::graph::Graph {
                    graph_id: g.graph_id,
                    requests: g.requests.into_iter().map(subrequest_in).collect(),
                })
                .collect();
            with(s, |t, s| crate::graph::composite_graph(t, s, &graphs)).map(|r| {
                wit_ops::GraphResult {
                    graphs: r
                        .graphs
                        .into_iter()
                        .map(|g| wit_ops::GraphOutcome {
                            graph_id: g.graph_id,
                            is_successful: g.is_successful,
                            responses: g.responses.into_iter().map(subresponse_out).collect(),
                        })
                        .collect(),
                    limit_info: r.limit_info.map(limits_out),
                }
            })
        }

        fn create_record_tree(
            s: wit::Session,
            sobject: String,
            records: String,
        ) -> Result<wit_ops::TreeResult, wit::Error> {
            with(s, |t, s| crate::tree::create_tree(t, s, &sobject, &records)).map(|r| {
                wit_ops::TreeResult {
                    has_errors: r.has_errors,
                    results: r
                        .results
                        .into_iter()
                        .map(|x| wit_ops::TreeRecordResult {
                            reference_id: x.reference_id,
                            id: x.id,
                            errors: x
                                .errors
                                .into_iter()
                                .map(super::convert::api_error_item_out)
                                .collect(),
                        })
                        .collect(),
                    limit_info: r.limit_info.map(limits_out),
                }
            })
        }

        fn use_newest_api_version(s: wit::Session) -> Result<wit::Session, wit::Error> {
            with(s, |t, s| {
                let newest = crate::org::api_versions(t, s)?.pop().ok_or_else(|| {
                    Error::unexpected(200, None, "the org lists no API versions", b"")
                })?;
                let mut session = s.clone();
                session.api_version = crate::config::normalize_api_version(&newest.version)?;
                Ok(session)
            })
            .map(super::convert::session_out)
        }

        fn api_versions(s: wit::Session) -> Result<Vec<wit_ops::ApiVersion>, wit::Error> {
            with(s, |t, s| crate::org::api_versions(t, s)).map(|list| {
                list.into_iter()
                    .map(|v| wit_ops::ApiVersion {
                        version: v.version,
                        label: v.label,
                        url: v.url,
                    })
                    .collect()
            })
        }
    }
}

impl exports::salesforce::connector::tools::Guest for Component {
    fn tools() -> Vec<exports::salesforce::connector::tools::Tool> {
        crate::tools::catalog()
            .into_iter()
            .map(|t| exports::salesforce::connector::tools::Tool {
                name: t.name,
                description: t.description,
                input_schema: t.input_schema.to_string(),
            })
            .collect()
    }

    fn invoke(
        session: wit::Session,
        name: String,
        arguments: String,
    ) -> Result<String, wit::Error> {
        invoke(session, &Guardrails::default(), &name, &arguments)
    }

    fn invoke_within(
        session: wit::Session,
        guardrails: exports::salesforce::connector::tools::Guardrails,
        name: String,
        arguments: String,
    ) -> Result<String, wit::Error> {
        invoke(
            session,
            &convert::guardrails_in(guardrails),
            &name,
            &arguments,
        )
    }
}

fn invoke(
    session: wit::Session,
    guardrails: &Guardrails,
    name: &str,
    arguments: &str,
) -> Result<String, wit::Error> {
    let session = convert::session_in(session).map_err(convert::error_out)?;
    // A tool result goes to a language model: scrubbed like an error.
    let redactor = crate::secret::Redactor::new().with_session(&session);
    let mut http = wasi_http::WasiHttp::within(session.limits.deadline_ms);
    crate::tools::invoke_within(&mut http, &session, guardrails, name, arguments)
        .map(|out| redactor.scrub(&out))
        .map_err(|e| convert::error_out(e.redacted(&redactor)))
}
