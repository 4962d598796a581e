//! Plain parameters to the arguments object of the connector's tool of the
//! same name. The catalog's schema decides what is valid; this only builds
//! the object (an absent option is left out, a `-json` parameter goes in as
//! the JSON it holds).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use salesforce_adapter_kit::{Error, FieldProblem};
use serde_json::{Map, Value};

/// The arguments object being built.
#[derive(Default)]
pub struct Args(Map<String, Value>);

impl Args {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parameter the connector takes as it is.
    pub fn put(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_string(), value.into());
        self
    }

    /// An optional parameter: left out when absent.
    pub fn opt(self, key: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.put(key, v),
            None => self,
        }
    }

    /// A list of strings.
    pub fn list(self, key: &str, value: Option<Vec<String>>) -> Self {
        self.opt(key, value.map(Value::from))
    }

    /// A `-json` parameter: its text must be JSON, which goes in as it is.
    pub fn json(mut self, key: &str, text: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text).map_err(|_| {
            let param = alloc::format!("{}-json", key.replace('_', "-"));
            Error::InvalidRequest(FieldProblem {
                message: alloc::format!("`{param}` must be JSON text"),
                field: param,
            })
        })?;
        self.0.insert(key.to_string(), value);
        Ok(self)
    }

    /// The arguments as JSON text, for the connector's `invoke`.
    pub fn text(self) -> String {
        Value::Object(self.0).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_options_are_left_out_and_json_goes_in_as_json() {
        let args = Args::new()
            .put("sobject", "Account")
            .opt("max_records", None::<u32>)
            .json("fields", r#"{"Name":"Acme"}"#)
            .unwrap_or_default()
            .text();
        // Compared as JSON: key order depends on serde_json's features,
        // which the workspace unifies.
        let args: Value = serde_json::from_str(&args).unwrap_or_default();
        let want = serde_json::json!({"fields": {"Name": "Acme"}, "sobject": "Account"});
        assert_eq!(args, want);
    }

    #[test]
    fn text_that_is_not_json_names_the_parameter() {
        match Args::new().json("records", "[{").map(|_| ()) {
            Err(Error::InvalidRequest(p)) => assert_eq!(p.field, "records-json"),
            other => panic!("{other:?}"),
        }
    }
}
