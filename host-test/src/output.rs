//! How the CLI prints sessions, stored orgs and query results.

use crate::orgs::StoredOrg;
use salesforce_host::wit;
use serde_json::{Map, Value};

fn hidden(value: &str) -> String {
    format!(
        "<hidden, {} chars; --show-token prints it>",
        value.chars().count()
    )
}

pub fn session_json(s: &wit::Session, show_token: bool) -> Value {
    let secret = |v: &str| {
        if show_token {
            Value::from(v)
        } else {
            Value::from(hidden(v))
        }
    };
    serde_json::json!({
        "instance_url": s.instance_url,
        "identity_url": s.identity_url,
        "org_id": s.org_id,
        "user_id": s.user_id,
        "token_type": s.token_type,
        "issued_at": s.issued_at,
        "scope": s.scope,
        "api_version": s.api_version,
        "signature_verified": s.signature_verified,
        "access_token": secret(&s.access_token),
        "refresh_token": s.refresh_token.as_deref().map(secret),
    })
}

pub fn session_text(s: &wit::Session, show_token: bool) -> String {
    let v = session_json(s, show_token);
    let mut out = String::new();
    if let Value::Object(map) = v {
        for (k, v) in map {
            let shown = match v {
                Value::Null => continue,
                Value::String(s) => s,
                other => other.to_string(),
            };
            out.push_str(&format!("{k:<20} {shown}\n"));
        }
    }
    out
}

/// One stored org for `orgs`: whether a refresh token or secret is stored,
/// never its value.
pub fn org_summary(alias: &str, org: &StoredOrg) -> Value {
    serde_json::json!({
        "alias": alias,
        "username": org.username,
        "instance_url": org.instance_url,
        "login_url": org.login_url,
        "grant": org.grant,
        "refresh_token_stored": org.refresh_token.is_some(),
        "client_secret_stored": org.client_secret.is_some(),
        "private_key_file": org.private_key_file,
    })
}

/// `org_summary` rows as aligned columns.
pub fn orgs_table(rows: &[Value]) -> String {
    const COLUMNS: [(&str, &str); 6] = [
        ("ALIAS", "alias"),
        ("USERNAME", "username"),
        ("INSTANCE URL", "instance_url"),
        ("GRANT", "grant"),
        ("REFRESH TOKEN", "refresh_token_stored"),
        ("SECRET", "client_secret_stored"),
    ];
    let cell = |row: &Value, key: &str| match &row[key] {
        Value::Null => "-".to_string(),
        Value::Bool(stored) => if *stored { "stored" } else { "-" }.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut lines: Vec<Vec<String>> = vec![COLUMNS.iter().map(|(h, _)| h.to_string()).collect()];
    lines.extend(
        rows.iter()
            .map(|r| COLUMNS.iter().map(|(_, k)| cell(r, k)).collect()),
    );
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let padded: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Flattens `{"Account":{"Name":"x"}}` into `Account.Name`, dropping
/// Salesforce's `attributes` blocks.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "attributes" {
                    continue;
                }
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => out.push((prefix.to_string(), String::new())),
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Records as CSV: one column per flattened field (`Account.Name`), in the
/// order fields first appear, quoted as RFC 4180 says.
pub fn csv(records: &[Value]) -> String {
    let rows: Vec<Map<String, Value>> = records
        .iter()
        .map(|r| {
            let mut row = Vec::new();
            flatten("", r, &mut row);
            row.into_iter().map(|(k, v)| (k, Value::from(v))).collect()
        })
        .collect();
    let mut columns: Vec<&String> = Vec::new();
    for key in rows.iter().flat_map(Map::keys) {
        if !columns.contains(&key) {
            columns.push(key);
        }
    }
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = out.write_record(&columns);
    for row in &rows {
        let cells = columns
            .iter()
            .map(|c| row.get(*c).and_then(Value::as_str).unwrap_or(""));
        let _ = out.write_record(cells);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_flattens_and_quotes() {
        let recs = vec![serde_json::json!({
            "attributes": {"type": "Contact"},
            "Id": "003",
            "Account": {"attributes": {}, "Name": "O'Reilly, \"Sons\""}
        })];
        assert_eq!(
            super::csv(&recs),
            "Id,Account.Name\n003,\"O'Reilly, \"\"Sons\"\"\"\n"
        );
    }
}
