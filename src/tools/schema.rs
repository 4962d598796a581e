//! Checks tool arguments against the tools' own JSON Schemas. It covers the
//! subset of draft 2020-12 the catalog uses (type, properties, required,
//! additionalProperties, enum, items, minItems/maxItems, minLength,
//! minimum/maximum), and names the offending argument in every error.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use serde_json::Value;

fn type_ok(kind: &str, v: &Value) -> bool {
    match kind {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn fail(path: &str, message: String) -> Error {
    let field = if path.is_empty() {
        "arguments".to_string()
    } else {
        format!("arguments.{path}")
    };
    Error::InvalidRequest { field, message }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Checks `value` against `schema`; `path` names `value` in the error
/// (empty for the arguments object itself).
pub fn validate(schema: &Value, value: &Value, path: &str) -> Result<(), Error> {
    check_type(schema, value, path)?;
    check_enum(schema, value, path)?;
    check_min_length(schema, value, path)?;
    check_bounds(schema, value, path)?;
    if let Some(items) = value.as_array() {
        check_items(schema, items, path)?;
    }
    if let Some(obj) = value.as_object() {
        check_required(schema, obj, path)?;
        check_properties(schema, obj, path)?;
    }
    Ok(())
}

fn check_type(schema: &Value, value: &Value, path: &str) -> Result<(), Error> {
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        if !type_ok(kind, value) {
            let what = if path.is_empty() {
                "the arguments"
            } else {
                path
            };
            return Err(fail(path, format!("{what} must be {}", article(kind))));
        }
    }
    Ok(())
}

fn check_enum(schema: &Value, value: &Value, path: &str) -> Result<(), Error> {
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            let list: Vec<String> = options.iter().map(Value::to_string).collect();
            return Err(fail(path, format!("must be one of {}", list.join(", "))));
        }
    }
    Ok(())
}

fn check_min_length(schema: &Value, value: &Value, path: &str) -> Result<(), Error> {
    if let (Some(s), Some(min)) = (
        value.as_str(),
        schema.get("minLength").and_then(Value::as_u64),
    ) {
        if (s.chars().count() as u64) < min {
            return Err(fail(path, format!("must be at least {min} characters")));
        }
    }
    Ok(())
}

/// `minimum` and `maximum`, for a number.
fn check_bounds(schema: &Value, value: &Value, path: &str) -> Result<(), Error> {
    let Some(n) = value.as_f64() else {
        return Ok(());
    };
    // The bound is quoted as the schema writes it: formatting an f64 with
    // core::fmt would pull ~20 KB of float printing into the component for
    // one message.
    if let Some(min) = schema
        .get("minimum")
        .filter(|m| m.as_f64().is_some_and(|m| n < m))
    {
        return Err(fail(path, format!("must be at least {min}")));
    }
    if let Some(max) = schema
        .get("maximum")
        .filter(|m| m.as_f64().is_some_and(|m| n > m))
    {
        return Err(fail(path, format!("must be at most {max}")));
    }
    Ok(())
}

/// `minItems`, `maxItems`, and `items` for each element.
fn check_items(schema: &Value, items: &[Value], path: &str) -> Result<(), Error> {
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
        if (items.len() as u64) < min {
            return Err(fail(path, format!("needs at least {min} items")));
        }
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
        if items.len() as u64 > max {
            return Err(fail(path, format!("takes at most {max} items")));
        }
    }
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            validate(item_schema, item, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

type Object = serde_json::Map<String, Value>;

fn check_required(schema: &Value, obj: &Object, path: &str) -> Result<(), Error> {
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !obj.contains_key(name) {
            return Err(fail(&join(path, name), "is required".into()));
        }
    }
    Ok(())
}

/// Each property against its schema; an unknown one is refused when
/// `additionalProperties` is false.
fn check_properties(schema: &Value, obj: &Object, path: &str) -> Result<(), Error> {
    let props = schema.get("properties").and_then(Value::as_object);
    for (key, v) in obj {
        match props.and_then(|p| p.get(key)) {
            Some(s) => validate(s, v, &join(path, key))?,
            None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                let known: Vec<&String> = props.map(|p| p.keys().collect()).unwrap_or_default();
                let known: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
                return Err(fail(
                    &join(path, key),
                    format!(
                        "is not an argument of this tool (expected: {})",
                        known.join(", ")
                    ),
                ));
            }
            None => {}
        }
    }
    Ok(())
}

fn article(kind: &str) -> String {
    match kind {
        "object" | "array" | "integer" => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_bad_field() {
        let schema = json!({"type":"object","additionalProperties":false,"required":["soql"],
            "properties":{"soql":{"type":"string","minLength":1},"max_records":{"type":"integer","minimum":1},
            "records":{"type":"array","items":{"type":"object"}}}});
        assert!(validate(&schema, &json!({"soql":"SELECT Id FROM Account"}), "").is_ok());
        let field = |v: Value| match validate(&schema, &v, "") {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!({})), "arguments.soql");
        assert_eq!(field(json!({"soql": 5})), "arguments.soql");
        assert_eq!(
            field(json!({"soql": "x", "max_records": 0})),
            "arguments.max_records"
        );
        assert_eq!(field(json!({"soql": "x", "extra": 1})), "arguments.extra");
        assert_eq!(
            field(json!({"soql": "x", "records": [{}, 3]})),
            "arguments.records[1]"
        );
        assert_eq!(field(json!([1])), "arguments");
    }
}
