//! `/services/data/vNN.N/limits`: the org's allowances, with API usage live.

use crate::errors;
use crate::state::{Shared, API_MAX};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

pub(crate) async fn limits(State(st): State<Arc<Shared>>) -> Response {
    let used = st.api_usage();
    let entry = |max: u64| json!({ "Max": max, "Remaining": max });
    errors::json(
        StatusCode::OK,
        &json!({
            "DailyApiRequests": { "Max": API_MAX, "Remaining": API_MAX.saturating_sub(used) },
            "DailyAsyncApexExecutions": entry(250_000),
            "DailyBulkApiBatches": entry(15_000),
            "DailyBulkV2QueryJobs": entry(10_000),
            "DataStorageMB": entry(5),
            "FileStorageMB": entry(20),
            "SingleEmail": entry(5_000),
        }),
    )
}
