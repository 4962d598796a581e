//! The component edge: the exported functions, the kept session, and the
//! calls into the connector.

use crate::bindings::salesforce::connector::connector::{authenticate, parse_sfdx_url, renew};
use crate::bindings::salesforce::connector::tools::invoke;
use crate::bindings::salesforce::connector::types::{Config, Error, Session};
use crate::settings::{self, Env};
use crate::tools::Args;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

struct Adapter;

crate::bindings::export!(Adapter with_types_in crate::bindings);

// The allocator, panic handler, libc's memcmp and `cabi_realloc`.
use salesforce_wasm_runtime as _;

/// The session of this instance. A component instance runs one call at a
/// time on one thread, so a `RefCell` is enough.
struct Kept(RefCell<Option<Session>>);
// SAFETY: wasm32 components are single-threaded; no reference escapes a call.
unsafe impl Sync for Kept {}
static SESSION: Kept = Kept(RefCell::new(None));

/// The config from this call's environment (a host may change it between
/// calls; reading it is cheap).
fn config() -> Result<Config, Error> {
    let env = Env::new(crate::bindings::wasi::cli::environment::get_environment());
    let sfdx = match (settings::grant_kind(&env)?, env.get("SF_AUTH_URL")) {
        ("sfdx-url", Some(url)) => Some(parse_sfdx_url(&url).map_err(|e| named(e, "SF_AUTH_URL"))?),
        _ => None,
    };
    settings::config(&env, sfdx)
}

/// An `invalid-config` from the connector, naming the variable the user sets.
fn named(e: Error, default: &str) -> Error {
    match e {
        Error::InvalidConfig(mut p) => {
            p.field = settings::variable_of(&p.field).unwrap_or(default).into();
            Error::InvalidConfig(p)
        }
        other => other,
    }
}

/// The kept session, or a new one.
fn session(config: &Config) -> Result<Session, Error> {
    if let Some(s) = SESSION.0.borrow().as_ref() {
        return Ok(s.clone());
    }
    let fresh = authenticate(config).map_err(|e| named(e, "SF_LOGIN_URL"))?;
    *SESSION.0.borrow_mut() = Some(fresh.clone());
    Ok(fresh)
}

/// Runs the connector's tool `name`; an expired session is renewed once and
/// the call made again. A refused session is not renewed (the org said no).
fn run(name: &str, args: Result<Args, Error>) -> Result<String, Error> {
    let args = args?.text();
    let config = config()?;
    let current = session(&config)?;
    match invoke(&current, name, &args) {
        Err(Error::SessionExpired(_)) => {
            *SESSION.0.borrow_mut() = None;
            let renewed = renew(&config, &current)?;
            *SESSION.0.borrow_mut() = Some(renewed.clone());
            invoke(&renewed, name, &args)
        }
        other => other,
    }
}

/// `run`, its error as the JSON text the agent world returns.
fn run_tool(name: &str, args: Result<Args, Error>) -> Result<String, String> {
    run(name, args).map_err(|e| crate::errors::to_json(&e))
}

fn ok(args: Args) -> Result<Args, Error> {
    Ok(args)
}

impl crate::bindings::Guest for Adapter {
    fn soql_query(
        soql: String,
        max_records: Option<u32>,
        include_deleted: Option<bool>,
    ) -> Result<String, String> {
        let args = Args::new()
            .put("soql", soql)
            .opt("max_records", max_records)
            .opt("include_deleted", include_deleted);
        run_tool("soql_query", ok(args))
    }

    fn soql_query_more(next_records_url: String) -> Result<String, String> {
        run_tool(
            "soql_query_more",
            ok(Args::new().put("next_records_url", next_records_url)),
        )
    }

    fn sosl_search(sosl: String) -> Result<String, String> {
        run_tool("sosl_search", ok(Args::new().put("sosl", sosl)))
    }

    fn get_record(
        sobject: String,
        id: String,
        fields: Option<Vec<String>>,
    ) -> Result<String, String> {
        let args = Args::new()
            .put("sobject", sobject)
            .put("id", id)
            .list("fields", fields);
        run_tool("get_record", ok(args))
    }

    fn get_record_by_external_id(
        sobject: String,
        external_id_field: String,
        external_id: String,
        fields: Option<Vec<String>>,
    ) -> Result<String, String> {
        let args = Args::new()
            .put("sobject", sobject)
            .put("external_id_field", external_id_field)
            .put("external_id", external_id)
            .list("fields", fields);
        run_tool("get_record_by_external_id", ok(args))
    }

    fn create_record(sobject: String, fields_json: String) -> Result<String, String> {
        let args = Args::new()
            .put("sobject", sobject)
            .json("fields", &fields_json);
        run_tool("create_record", args)
    }

    fn update_record(sobject: String, id: String, fields_json: String) -> Result<String, String> {
        let args = Args::new()
            .put("sobject", sobject)
            .put("id", id)
            .json("fields", &fields_json);
        run_tool("update_record", args)
    }

    fn upsert_record(
        sobject: String,
        external_id_field: String,
        external_id: String,
        fields_json: String,
    ) -> Result<String, String> {
        let args = Args::new()
            .put("sobject", sobject)
            .put("external_id_field", external_id_field)
            .put("external_id", external_id)
            .json("fields", &fields_json);
        run_tool("upsert_record", args)
    }

    fn delete_record(sobject: String, id: String) -> Result<String, String> {
        run_tool(
            "delete_record",
            ok(Args::new().put("sobject", sobject).put("id", id)),
        )
    }

    fn create_records(
        sobject: String,
        records_json: String,
        all_or_none: Option<bool>,
    ) -> Result<String, String> {
        let args = Args::new()
            .put("sobject", sobject)
            .opt("all_or_none", all_or_none);
        run_tool("create_records", args.json("records", &records_json))
    }

    fn update_records(
        sobject: String,
        records_json: String,
        all_or_none: Option<bool>,
    ) -> Result<String, String> {
        let args = Args::new()
            .put("sobject", sobject)
            .opt("all_or_none", all_or_none);
        run_tool("update_records", args.json("records", &records_json))
    }

    fn upsert_records(
        sobject: String,
        external_id_field: String,
        records_json: String,
        all_or_none: Option<bool>,
    ) -> Result<String, String> {
        let args = Args::new()
            .put("sobject", sobject)
            .put("external_id_field", external_id_field)
            .opt("all_or_none", all_or_none);
        run_tool("upsert_records", args.json("records", &records_json))
    }

    fn delete_records(ids: Vec<String>, all_or_none: Option<bool>) -> Result<String, String> {
        let args = Args::new().put("ids", ids).opt("all_or_none", all_or_none);
        run_tool("delete_records", ok(args))
    }

    fn composite(all_or_none: Option<bool>, requests_json: String) -> Result<String, String> {
        let args = Args::new().opt("all_or_none", all_or_none);
        run_tool("composite", args.json("requests", &requests_json))
    }

    fn describe_global() -> Result<String, String> {
        run_tool("describe_global", ok(Args::new()))
    }

    fn describe_sobject(sobject: String) -> Result<String, String> {
        run_tool("describe_sobject", ok(Args::new().put("sobject", sobject)))
    }

    fn org_limits() -> Result<String, String> {
        run_tool("org_limits", ok(Args::new()))
    }

    fn current_user() -> Result<String, String> {
        run_tool("current_user", ok(Args::new()))
    }

    fn api_versions() -> Result<String, String> {
        run_tool("api_versions", ok(Args::new()))
    }
}
