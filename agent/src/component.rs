//! The component edge: the exported functions, each the connector's tool of
//! the same name, run in the adapter kit's kept session.

use crate::tools::Args;
use alloc::string::String;
use alloc::vec::Vec;
use salesforce_adapter_kit::{errors, session, Error};

struct Adapter;

crate::bindings::export!(Adapter with_types_in crate::bindings);

// The allocator, panic handler, libc's memcmp and `cabi_realloc`.
use salesforce_wasm_runtime as _;

/// Runs the connector's tool `name` in the kept session, its error as the
/// JSON text the agent world returns.
fn run_tool(name: &str, args: Result<Args, Error>) -> Result<String, String> {
    args.and_then(|a| session::invoke(name, &a.text()))
        .map_err(|e| errors::to_json(&e))
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

    fn retrieve_records(
        sobject: String,
        ids: Vec<String>,
        fields: Vec<String>,
    ) -> Result<String, String> {
        let args = Args::new()
            .put("sobject", sobject)
            .put("ids", ids)
            .put("fields", fields);
        run_tool("retrieve_records", ok(args))
    }

    fn composite(all_or_none: Option<bool>, requests_json: String) -> Result<String, String> {
        let args = Args::new().opt("all_or_none", all_or_none);
        run_tool("composite", args.json("requests", &requests_json))
    }

    fn composite_graph(graphs_json: String) -> Result<String, String> {
        run_tool("composite_graph", Args::new().json("graphs", &graphs_json))
    }

    fn create_record_tree(sobject: String, records_json: String) -> Result<String, String> {
        let args = Args::new().put("sobject", sobject);
        run_tool("create_record_tree", args.json("records", &records_json))
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

    fn bulk_query(
        soql: String,
        include_deleted: Option<bool>,
        sample_rows: Option<u32>,
        wait_seconds: Option<u32>,
    ) -> Result<String, String> {
        let args = Args::new()
            .put("soql", soql)
            .opt("include_deleted", include_deleted)
            .opt("sample_rows", sample_rows)
            .opt("wait_seconds", wait_seconds);
        run_tool("bulk_query", ok(args))
    }

    fn bulk_job_status(job_id: String, kind: Option<String>) -> Result<String, String> {
        let args = Args::new().put("job_id", job_id).opt("kind", kind);
        run_tool("bulk_job_status", ok(args))
    }
}
