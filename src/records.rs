//! sObject records: read, create, update, delete, upsert by external id.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::http::{Method, Transport};
use crate::limits::LimitInfo;
use crate::rest::{self, CallRequest, Json};
use crate::session::Session;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

/// Everything but RFC 3986 unreserved characters is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `Account`, `My_Object__c`, `ns__Thing__c`: API names, never paths.
pub fn api_name<'a>(field: &str, name: &'a str) -> Result<&'a str, Error> {
    let name = name.trim();
    let valid = name.len() <= 120
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(name)
    } else {
        Err(Error::request(field, format!("`{name}` is not an API name (letters, digits and _ only, e.g. Account or Invoice__c)")))
    }
}

/// A 15- or 18-character record id.
pub fn record_id(id: &str) -> Result<&str, Error> {
    let id = id.trim();
    if (id.len() == 15 || id.len() == 18) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(Error::request(
            "id",
            format!("`{id}` is not a 15 or 18 character Salesforce id"),
        ))
    }
}

fn fields_object(json: &str) -> Result<String, Error> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(_)) => Ok(json.to_string()),
        Ok(_) => Err(Error::request(
            "fields-json",
            "must be a JSON object of field names to values",
        )),
        Err(e) => Err(Error::request(
            "fields-json",
            format!("is not valid JSON ({e})"),
        )),
    }
}

fn field_list(req: &mut CallRequest, fields: &[String]) -> Result<(), Error> {
    if !fields.is_empty() {
        let names = fields
            .iter()
            .map(|f| api_name("fields", f))
            .collect::<Result<Vec<_>, _>>()?;
        req.query.push(("fields".into(), names.join(",")));
    }
    Ok(())
}

fn sobjects(s: &Session, sobject: &str) -> Result<String, Error> {
    Ok(format!(
        "{}/sobjects/{}",
        s.data_path(),
        api_name("sobject", sobject)?
    ))
}

/// Reads one record as JSON; `fields` empty means all fields.
pub fn get(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    id: &str,
    fields: &[String],
) -> Result<Json, Error> {
    let mut req = CallRequest::new(
        Method::Get,
        format!("{}/{}", sobjects(s, sobject)?, record_id(id)?),
    );
    field_list(&mut req, fields)?;
    Ok(rest::execute(t, s, &req)?.into())
}

fn by_external_id(s: &Session, sobject: &str, field: &str, value: &str) -> Result<String, Error> {
    if value.is_empty() {
        return Err(Error::request("external-id", "is empty"));
    }
    Ok(format!(
        "{}/{}/{}",
        sobjects(s, sobject)?,
        api_name("external-id-field", field)?,
        utf8_percent_encode(value, SEGMENT)
    ))
}

/// Reads one record by the external id `field` = `value`; `fields` empty
/// means all fields.
pub fn get_by_external_id(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    field: &str,
    value: &str,
    fields: &[String],
) -> Result<Json, Error> {
    let mut req = CallRequest::new(Method::Get, by_external_id(s, sobject, field, value)?);
    field_list(&mut req, fields)?;
    Ok(rest::execute(t, s, &req)?.into())
}

/// Creates a record from a JSON object of fields.
pub fn create(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    fields_json: &str,
) -> Result<Created, Error> {
    let mut req = CallRequest::new(Method::Post, sobjects(s, sobject)?);
    req.body = Some(fields_object(fields_json)?);
    let resp = rest::execute(t, s, &req)?;
    let body = resp.json()?;
    let id = body["id"].as_str().map(str::to_string).ok_or_else(|| {
        Error::unexpected(
            resp.status,
            None,
            "create answered without an `id`",
            resp.body.as_bytes(),
        )
    })?;
    Ok(Created {
        id,
        limit_info: resp.limit_info,
    })
}

/// A record that [`create`] created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The new record's id.
    pub id: String,
    /// The API usage reported.
    pub limit_info: Option<LimitInfo>,
}

/// Updates fields of a record from a JSON object; returns the API usage
/// reported.
pub fn update(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    id: &str,
    fields_json: &str,
) -> Result<Option<LimitInfo>, Error> {
    let mut req = CallRequest::new(
        Method::Patch,
        format!("{}/{}", sobjects(s, sobject)?, record_id(id)?),
    );
    req.body = Some(fields_object(fields_json)?);
    Ok(rest::execute(t, s, &req)?.limit_info)
}

/// Deletes a record (to the recycle bin); returns the API usage reported.
pub fn delete(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    id: &str,
) -> Result<Option<LimitInfo>, Error> {
    let req = CallRequest::new(
        Method::Delete,
        format!("{}/{}", sobjects(s, sobject)?, record_id(id)?),
    );
    Ok(rest::execute(t, s, &req)?.limit_info)
}

/// The result of an [`upsert`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsertOutcome {
    /// The record's id (absent on a 204 from API versions before 46.0).
    pub id: Option<String>,
    /// True when the upsert created the record, false when it updated one.
    pub created: bool,
    /// The API usage reported.
    pub limit_info: Option<LimitInfo>,
}

/// Creates or updates the record whose external id `field` is `value`.
/// Several matches fail with [`Error::MultipleChoices`].
pub fn upsert(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    field: &str,
    value: &str,
    fields_json: &str,
) -> Result<UpsertOutcome, Error> {
    let mut req = CallRequest::new(Method::Patch, by_external_id(s, sobject, field, value)?);
    req.body = Some(fields_object(fields_json)?);
    let resp = rest::execute(t, s, &req)?;
    if resp.status == 204 || resp.body.trim().is_empty() {
        // Before API 46.0 an update answers 204 with no body.
        return Ok(UpsertOutcome {
            id: None,
            created: resp.status == 201,
            limit_info: resp.limit_info,
        });
    }
    let body = resp.json()?;
    Ok(UpsertOutcome {
        id: body["id"].as_str().map(str::to_string),
        created: body["created"].as_bool().unwrap_or(resp.status == 201),
        limit_info: resp.limit_info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert!(api_name("sobject", "Invoice__c").is_ok());
        for bad in ["", "../x", "Account/1", "1Account", "Acc ount"] {
            assert!(api_name("sobject", bad).is_err(), "{bad}");
        }
        assert!(record_id("001000000000001AAA").is_ok());
        assert!(record_id("001/../x").is_err());
        assert_eq!(
            utf8_percent_encode("a/b c?é", SEGMENT).to_string(),
            "a%2Fb%20c%3F%C3%A9"
        );
    }
}
