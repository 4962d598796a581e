//! The org's data: four standard objects and three with a blob field (see
//! `files`), their fields, and deterministic seed records, with the write
//! rules (required, read-only, create-only, unique) Salesforce enforces.
//! Tags such as [S-BLOB-UP] name sources in `salesforce-bulk.md`.

use crate::errors::{self, ApiError};
use crate::files;
use axum::body::Bytes;
use axum::http::StatusCode;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Id,
    Text,
    Number,
    Integer,
    Boolean,
    Date,
    DateTime,
    /// A lookup to another object, e.g. `AccountId` → `Account`.
    Reference(&'static str),
    /// A lookup that may point at any of several objects, e.g.
    /// `Attachment.ParentId`; the mock does not join through it in SOQL.
    Polymorphic(&'static [&'static str]),
    /// Binary content, shown as a URL and never inline (see `files`).
    Blob,
}

impl Kind {
    /// The describe `type` Salesforce reports.
    pub(crate) fn describe_type(self) -> &'static str {
        match self {
            Kind::Id => "id",
            Kind::Text => "string",
            Kind::Number => "currency",
            Kind::Integer => "int",
            Kind::Boolean => "boolean",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::Reference(_) | Kind::Polymorphic(_) => "reference",
            // Blob fields are `base64` in describe (SOAP API guide, "Primitive Data Types").
            Kind::Blob => "base64",
        }
    }
}

pub(crate) struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// Describe's `createable` and `updateable`.
    pub createable: bool,
    pub updateable: bool,
}

pub(crate) const fn f(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        createable: true,
        updateable: true,
    }
}

/// System-maintained: readable, never writable.
pub(crate) const fn ro(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        createable: false,
        updateable: false,
    }
}

/// Set when the record is created, read-only after (e.g. `ContentVersion.PathOnClient`).
pub(crate) const fn create_only(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        createable: true,
        updateable: false,
    }
}

pub(crate) struct SObject {
    pub name: &'static str,
    pub label: &'static str,
    pub label_plural: &'static str,
    pub prefix: &'static str,
    pub fields: &'static [Field],
    pub required: &'static [&'static str],
    pub external_ids: &'static [&'static str],
    /// Contacts and Leads derive `Name` from first and last name.
    pub compound_name: bool,
}

impl SObject {
    pub(crate) fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// `Account` on Contact resolves through `AccountId` to the Account object.
    pub(crate) fn relationship(&self, rel: &str) -> Option<(&'static Field, &'static SObject)> {
        self.fields.iter().find_map(|f| match f.kind {
            Kind::Reference(target)
                if f.name.len() > 2 && f.name[..f.name.len() - 2].eq_ignore_ascii_case(rel) =>
            {
                sobject(target).map(|t| (f, t))
            }
            _ => None,
        })
    }

    pub(crate) fn external_id(&self, name: &str) -> Option<&'static str> {
        if name.eq_ignore_ascii_case("Id") {
            return Some("Id");
        }
        self.external_ids
            .iter()
            .copied()
            .find(|f| f.eq_ignore_ascii_case(name))
    }

    pub(crate) fn record_url(&self, version: &str, id: &str) -> String {
        format!("/services/data/v{version}/sobjects/{}/{id}", self.name)
    }

    /// The field holding the object's file, e.g. `VersionData` on ContentVersion.
    pub(crate) fn blob_field(&self) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.kind == Kind::Blob)
    }
}

static ACCOUNT_FIELDS: [Field; 11] = [
    ro("Id", Kind::Id),
    f("Name", Kind::Text),
    f("Industry", Kind::Text),
    f("BillingCity", Kind::Text),
    f("AnnualRevenue", Kind::Number),
    f("NumberOfEmployees", Kind::Integer),
    f("Phone", Kind::Text),
    f("ExtId__c", Kind::Text),
    ro("CreatedDate", Kind::DateTime),
    ro("LastModifiedDate", Kind::DateTime),
    ro("IsDeleted", Kind::Boolean),
];
static CONTACT_FIELDS: [Field; 10] = [
    ro("Id", Kind::Id),
    ro("Name", Kind::Text),
    f("FirstName", Kind::Text),
    f("LastName", Kind::Text),
    f("Email", Kind::Text),
    f("Phone", Kind::Text),
    f("AccountId", Kind::Reference("Account")),
    ro("CreatedDate", Kind::DateTime),
    ro("LastModifiedDate", Kind::DateTime),
    ro("IsDeleted", Kind::Boolean),
];
static LEAD_FIELDS: [Field; 10] = [
    ro("Id", Kind::Id),
    ro("Name", Kind::Text),
    f("FirstName", Kind::Text),
    f("LastName", Kind::Text),
    f("Company", Kind::Text),
    f("Status", Kind::Text),
    f("Email", Kind::Text),
    ro("CreatedDate", Kind::DateTime),
    ro("LastModifiedDate", Kind::DateTime),
    ro("IsDeleted", Kind::Boolean),
];
static OPPORTUNITY_FIELDS: [Field; 9] = [
    ro("Id", Kind::Id),
    f("Name", Kind::Text),
    f("StageName", Kind::Text),
    f("Amount", Kind::Number),
    f("CloseDate", Kind::Date),
    f("AccountId", Kind::Reference("Account")),
    ro("CreatedDate", Kind::DateTime),
    ro("LastModifiedDate", Kind::DateTime),
    ro("IsDeleted", Kind::Boolean),
];

pub(crate) static SOBJECTS: [SObject; 7] = [
    SObject {
        name: "Account",
        label: "Account",
        label_plural: "Accounts",
        prefix: "001",
        fields: &ACCOUNT_FIELDS,
        required: &["Name"],
        external_ids: &["ExtId__c"],
        compound_name: false,
    },
    SObject {
        name: "Contact",
        label: "Contact",
        label_plural: "Contacts",
        prefix: "003",
        fields: &CONTACT_FIELDS,
        required: &["LastName"],
        external_ids: &[],
        compound_name: true,
    },
    SObject {
        name: "Lead",
        label: "Lead",
        label_plural: "Leads",
        prefix: "00Q",
        fields: &LEAD_FIELDS,
        required: &["LastName", "Company"],
        external_ids: &[],
        compound_name: true,
    },
    SObject {
        name: "Opportunity",
        label: "Opportunity",
        label_plural: "Opportunities",
        prefix: "006",
        fields: &OPPORTUNITY_FIELDS,
        required: &["Name", "StageName", "CloseDate"],
        external_ids: &[],
        compound_name: false,
    },
    SObject {
        name: "ContentVersion",
        label: "Content Version",
        label_plural: "Content Versions",
        prefix: "068",
        fields: &files::schema::CONTENT_VERSION_FIELDS,
        required: files::schema::CONTENT_VERSION_REQUIRED,
        external_ids: &[],
        compound_name: false,
    },
    SObject {
        name: "Attachment",
        label: "Attachment",
        label_plural: "Attachments",
        prefix: "00P",
        fields: &files::schema::ATTACHMENT_FIELDS,
        required: files::schema::ATTACHMENT_REQUIRED,
        external_ids: &[],
        compound_name: false,
    },
    SObject {
        name: "Document",
        label: "Document",
        label_plural: "Documents",
        prefix: "015",
        fields: &files::schema::DOCUMENT_FIELDS,
        required: files::schema::DOCUMENT_REQUIRED,
        external_ids: &[],
        compound_name: false,
    },
];

/// Object names are case-insensitive in URLs and SOQL.
pub(crate) fn sobject(name: &str) -> Option<&'static SObject> {
    SOBJECTS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// The key prefix of `name`'s ids, for the objects the mock serves and the
/// few others its lookups point at (User `005`, Folder `00l`,
/// ContentDocument `069`: the standard key prefixes).
pub(crate) fn key_prefix(name: &str) -> Option<&'static str> {
    match name {
        "User" => Some("005"),
        "Folder" => Some("00l"),
        "ContentDocument" => Some("069"),
        _ => sobject(name).map(|s| s.prefix),
    }
}

/// 15- or 18-character alphanumeric, the two forms of a Salesforce id.
pub(crate) fn looks_like_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[derive(Clone)]
pub(crate) struct Record {
    pub id: String,
    values: HashMap<&'static str, Value>,
    pub deleted: bool,
    /// The file of a ContentVersion, Attachment or Document; cheap to clone.
    pub blob: Option<Bytes>,
}

impl Record {
    /// A field's value by canonical name; absent fields are null.
    pub(crate) fn get(&self, name: &str) -> Value {
        match name {
            "Id" => Value::String(self.id.clone()),
            "IsDeleted" => Value::Bool(self.deleted),
            _ => self.values.get(name).cloned().unwrap_or(Value::Null),
        }
    }

    /// A field as an answer shows it: a blob field is the relative URL its
    /// bytes are served at, never the bytes [S-BLOB-GET][S-NETCORE].
    pub(crate) fn shown(&self, sobject: &SObject, field: &Field, version: &str) -> Value {
        match (field.kind, &self.blob) {
            (Kind::Blob, Some(_)) => Value::String(format!(
                "{}/{}",
                sobject.record_url(version, &self.id),
                field.name
            )),
            (Kind::Blob, None) => Value::Null,
            _ => self.get(field.name),
        }
    }
}

#[derive(Clone)]
struct Table {
    sobject: &'static SObject,
    records: Vec<Record>,
    by_id: HashMap<String, usize>,
    /// Ids issued so far: rows can be purged, so not `records.len()`.
    issued: usize,
}

/// Cloneable so allOrNone requests can snapshot it and roll back.
#[derive(Clone)]
pub(crate) struct Store {
    tables: Vec<Table>,
    /// Ids issued for objects without a table, by key prefix (ContentDocument).
    issued_elsewhere: HashMap<&'static str, usize>,
}

/// Ordered JSON: Salesforce puts `attributes` first and fields in select order,
/// which `serde_json::Map` (sorted) cannot express.
pub(crate) enum Out {
    Value(Value),
    Object(Vec<(String, Out)>),
    Array(Vec<Out>),
}

impl Serialize for Out {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::Value(v) => v.serialize(s),
            Out::Object(entries) => {
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Out::Array(items) => items.serialize(s),
        }
    }
}

pub(crate) fn attributes(sobject: &SObject, version: &str, id: &str) -> Out {
    Out::Object(vec![
        (
            "type".into(),
            Out::Value(Value::String(sobject.name.into())),
        ),
        (
            "url".into(),
            Out::Value(Value::String(sobject.record_url(version, id))),
        ),
    ])
}

/// A record with `attributes` and the given fields, in that order.
pub(crate) fn record_out(
    sobject: &SObject,
    version: &str,
    rec: &Record,
    fields: &[&'static Field],
) -> Out {
    let mut entries = vec![(
        "attributes".to_string(),
        attributes(sobject, version, &rec.id),
    )];
    for f in fields {
        entries.push((
            f.name.to_string(),
            Out::Value(rec.shown(sobject, f, version)),
        ));
    }
    Out::Object(entries)
}

impl Store {
    pub(crate) fn records(&self, sobject: &SObject) -> &[Record] {
        self.tables
            .iter()
            .find(|t| t.sobject.name == sobject.name)
            .map(|t| t.records.as_slice())
            .unwrap_or(&[])
    }

    fn table_mut(&mut self, sobject: &SObject) -> Option<&mut Table> {
        self.tables
            .iter_mut()
            .find(|t| t.sobject.name == sobject.name)
    }

    /// By id, accepting the 15-character form too; deleted records included.
    pub(crate) fn get(&self, sobject: &SObject, id: &str) -> Option<&Record> {
        let table = self
            .tables
            .iter()
            .find(|t| t.sobject.name == sobject.name)?;
        let key = id.get(..15)?;
        let i = *table.by_id.get(key)?;
        let rec = table.records.get(i)?;
        (id.len() == 15 || rec.id == id).then_some(rec)
    }

    /// Live records whose `field` equals `value` (case-insensitive, as external ids are).
    pub(crate) fn find_by(&self, sobject: &SObject, field: &str, value: &str) -> Vec<String> {
        if field == "Id" {
            return self
                .get(sobject, value)
                .filter(|r| !r.deleted)
                .map(|r| vec![r.id.clone()])
                .unwrap_or_default();
        }
        self.records(sobject)
            .iter()
            .filter(|r| !r.deleted)
            .filter(|r| matches!(r.get(field), Value::String(s) if s.eq_ignore_ascii_case(value)))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Insert a record from a request body; returns its id.
    pub(crate) fn create(
        &mut self,
        sobject: &'static SObject,
        body: &Map<String, Value>,
    ) -> Result<String, ApiError> {
        self.create_with_blob(sobject, body, None)
    }

    /// Insert a record whose file came apart from `body` (a multipart
    /// upload) or, with `None`, inside it as base64 [S-BLOB-UP].
    pub(crate) fn create_with_blob(
        &mut self,
        sobject: &'static SObject,
        body: &Map<String, Value>,
        blob: Option<Bytes>,
    ) -> Result<String, ApiError> {
        let mut values = writable_values(sobject, body, None)?;
        let blob = files::take_blob(sobject, &mut values, blob, false)?;
        check_required(sobject, &values, blob.is_some())?;
        self.check_unique(sobject, &values, None)?;
        files::derive_on_insert(self, sobject, &mut values, blob.as_ref())?;
        let now = Value::String(datetime_string(now_secs()));
        values.insert("CreatedDate", now.clone());
        values.insert("LastModifiedDate", now);
        Ok(self.insert(sobject, values, blob))
    }

    pub(crate) fn update(
        &mut self,
        sobject: &'static SObject,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        self.update_with_blob(sobject, id, body, None)
    }

    /// `update`, with a new file from a multipart upload [S-BLOB-UP].
    pub(crate) fn update_with_blob(
        &mut self,
        sobject: &'static SObject,
        id: &str,
        body: &Map<String, Value>,
        blob: Option<Bytes>,
    ) -> Result<(), ApiError> {
        let mut changes = writable_values(sobject, body, Some(id))?;
        let blob = files::take_blob(sobject, &mut changes, blob, true)?;
        let (full_id, mut merged, had_blob) = match self.get(sobject, id) {
            None => return Err(errors::not_found()),
            Some(r) if r.deleted => return Err(entity_deleted()),
            Some(r) => (r.id.clone(), r.values.clone(), r.blob.is_some()),
        };
        merged.extend(changes);
        check_required(sobject, &merged, had_blob || blob.is_some())?;
        self.check_unique(sobject, &merged, Some(&full_id))?;
        if let Some(b) = &blob {
            files::derive_sizes(sobject, &mut merged, b);
        }
        merged.insert(
            "LastModifiedDate",
            Value::String(datetime_string(now_secs())),
        );
        derive_name(sobject, &mut merged);
        if let Some(r) = self.record_mut(sobject, &full_id) {
            r.values = merged;
            r.blob = blob.or(r.blob.take());
        }
        Ok(())
    }

    fn record_mut(&mut self, sobject: &SObject, full_id: &str) -> Option<&mut Record> {
        let t = self.table_mut(sobject)?;
        t.records.iter_mut().find(|r| r.id == full_id)
    }

    /// Set one field of a stored record, as the platform does for derived
    /// fields (a ContentVersion stops being `IsLatest`).
    pub(crate) fn set_field(
        &mut self,
        sobject: &SObject,
        full_id: &str,
        field: &'static str,
        v: Value,
    ) {
        if let Some(r) = self.record_mut(sobject, full_id) {
            r.values.insert(field, v);
        }
    }

    /// A new id of an object the mock keeps no table for, e.g. a ContentDocument.
    pub(crate) fn issue_id(&mut self, prefix: &'static str) -> String {
        let n = self.issued_elsewhere.entry(prefix).or_default();
        *n += 1;
        format!("{prefix}{:0>12}AAA", *n)
    }

    /// Soft delete: the row stays for `queryAll`.
    pub(crate) fn delete(&mut self, sobject: &SObject, id: &str) -> Result<(), ApiError> {
        let full_id = match self.get(sobject, id) {
            None => return Err(errors::not_found()),
            Some(r) if r.deleted => return Err(entity_deleted()),
            Some(r) => r.id.clone(),
        };
        if let Some(t) = self.table_mut(sobject) {
            if let Some(r) = t.records.iter_mut().find(|r| r.id == full_id) {
                r.deleted = true;
            }
        }
        Ok(())
    }

    /// Hard delete: the row is gone, for `queryAll` too (Bulk API 2.0
    /// `hardDelete` "bypasses the Recycle Bin" [S-CREATE]).
    pub(crate) fn purge(&mut self, sobject: &SObject, id: &str) -> Result<(), ApiError> {
        let full_id = match self.get(sobject, id) {
            None => return Err(errors::not_found()),
            Some(r) if r.deleted => return Err(entity_deleted()),
            Some(r) => r.id.clone(),
        };
        if let Some(t) = self.table_mut(sobject) {
            t.records.retain(|r| r.id != full_id);
            t.by_id = t
                .records
                .iter()
                .enumerate()
                .map(|(i, r)| (r.id[..15].to_string(), i))
                .collect();
        }
        Ok(())
    }

    fn check_unique(
        &self,
        sobject: &SObject,
        values: &HashMap<&'static str, Value>,
        own_id: Option<&str>,
    ) -> Result<(), ApiError> {
        for field in sobject.external_ids {
            let Some(Value::String(v)) = values.get(field) else {
                continue;
            };
            let clash = self
                .find_by(sobject, field, v)
                .into_iter()
                .find(|other| Some(other.as_str()) != own_id);
            if let Some(other) = clash {
                return Err(errors::rest_fields(
                    StatusCode::BAD_REQUEST,
                    "DUPLICATE_VALUE",
                    format!("duplicate value found: {field} duplicates value on record with id: {other}"),
                    &[],
                ));
            }
        }
        Ok(())
    }

    fn insert(
        &mut self,
        sobject: &'static SObject,
        mut values: HashMap<&'static str, Value>,
        blob: Option<Bytes>,
    ) -> String {
        derive_name(sobject, &mut values);
        let Some(table) = self.table_mut(sobject) else {
            return String::new();
        };
        table.issued += 1;
        let id = make_id(sobject, table.issued);
        table
            .by_id
            .insert(id[..15].to_string(), table.records.len());
        table.records.push(Record {
            id: id.clone(),
            values,
            deleted: false,
            blob,
        });
        id
    }

    /// The deterministic org every mock starts with, plus `extra_accounts`
    /// "Bulk NNNNN" Accounts after the standard 2,500.
    pub(crate) fn seeded(extra_accounts: usize) -> Store {
        let mut store = Store {
            tables: SOBJECTS
                .iter()
                .map(|s| Table {
                    sobject: s,
                    records: Vec::new(),
                    by_id: HashMap::new(),
                    issued: 0,
                })
                .collect(),
            issued_elsewhere: HashMap::new(),
        };
        seed(&mut store);
        seed_extra_accounts(&mut store, extra_accounts);
        store
    }
}

fn entity_deleted() -> ApiError {
    errors::rest_fields(
        StatusCode::NOT_FOUND,
        "ENTITY_IS_DELETED",
        "entity is deleted",
        &[],
    )
}

/// `001` + 12 digits + `AAA`: 18 characters with the object's key prefix.
fn make_id(sobject: &SObject, n: usize) -> String {
    format!("{}{:0>12}AAA", sobject.prefix, n)
}

fn derive_name(sobject: &SObject, values: &mut HashMap<&'static str, Value>) {
    if !sobject.compound_name {
        return;
    }
    let part = |k: &str| match values.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let name = [part("FirstName"), part("LastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    values.insert("Name", Value::String(name));
}

/// Validate a request body against the object's fields and coerce the values.
fn writable_values(
    sobject: &SObject,
    body: &Map<String, Value>,
    own_id: Option<&str>,
) -> Result<HashMap<&'static str, Value>, ApiError> {
    let mut out = HashMap::new();
    let mut read_only = Vec::new();
    for (key, value) in body {
        if key == "attributes" {
            continue;
        }
        let Some(field) = sobject.field(key) else {
            return Err(errors::rest_fields(
                StatusCode::BAD_REQUEST,
                "INVALID_FIELD",
                format!("No such column '{key}' on sobject of type {}", sobject.name),
                &[],
            ));
        };
        // Clients may echo the record's own Id in an update body.
        if field.name == "Id" && own_id.is_some() && value.as_str() == own_id {
            continue;
        }
        let allowed = match own_id {
            None => field.createable,
            Some(_) => field.updateable,
        };
        if !allowed {
            read_only.push(field.name.to_string());
            continue;
        }
        out.insert(field.name, coerce(field, value)?);
    }
    if !read_only.is_empty() {
        return Err(not_writable(&read_only));
    }
    Ok(out)
}

/// Salesforce's answer to writing a field it will not take in this call.
pub(crate) fn not_writable(fields: &[String]) -> ApiError {
    errors::rest_fields(
        StatusCode::BAD_REQUEST,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        format!(
            "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
            fields.join(", ")
        ),
        fields,
    )
}

/// The required fields `values` lacks; a blob field lives apart from the
/// values, so `has_blob` says whether the record has its file.
fn check_required(
    sobject: &SObject,
    values: &HashMap<&'static str, Value>,
    has_blob: bool,
) -> Result<(), ApiError> {
    let blob = sobject.blob_field().map(|f| f.name);
    let missing: Vec<String> = sobject
        .required
        .iter()
        .filter(|f| match values.get(*f) {
            _ if Some(**f) == blob => !has_blob,
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        })
        .map(|f| f.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(errors::rest_fields(
        StatusCode::BAD_REQUEST,
        "REQUIRED_FIELD_MISSING",
        format!("Required fields are missing: [{}]", missing.join(", ")),
        &missing,
    ))
}

/// Accept what Salesforce's JSON reader accepts: numbers as numbers or numeric strings.
fn coerce(field: &Field, value: &Value) -> Result<Value, ApiError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let bad = |expected: &str| {
        errors::rest(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            format!(
                "Cannot deserialize instance of {expected} from {} value {value} or request may be missing a required field",
                value_token(value)
            ),
        )
    };
    match field.kind {
        Kind::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
                .ok_or_else(|| bad("currency")),
            _ => Err(bad("currency")),
        },
        Kind::Integer => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(|n| Value::Number(n.into()))
                .map_err(|_| bad("int")),
            _ => Err(bad("int")),
        },
        Kind::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(bad("boolean")),
        },
        Kind::Reference(target) => match value {
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            Value::String(s) if looks_like_id(s) => Ok(value.clone()),
            _ => Err(malformed_reference(target, field, value)),
        },
        // Of the objects it may point at: the docs' Document example
        // answers a User id as FolderId with "Folder ID: id value of
        // incorrect type: 005D0000001GiU7" (REST guide v23, "Insert or Update Blob Data").
        Kind::Polymorphic(targets) => match value {
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            Value::String(s)
                if looks_like_id(s)
                    && targets
                        .iter()
                        .filter_map(|t| key_prefix(t))
                        .any(|p| s.starts_with(p)) =>
            {
                Ok(value.clone())
            }
            _ => Err(malformed_reference(
                field.name.strip_suffix("Id").unwrap_or(field.name),
                field,
                value,
            )),
        },
        // Decoded by `files::take_blob`, which knows the size limits.
        Kind::Blob => match value {
            Value::String(_) => Ok(value.clone()),
            _ => Err(bad("base64")),
        },
        Kind::Text | Kind::Id | Kind::Date | Kind::DateTime => match value {
            Value::String(_) => Ok(value.clone()),
            Value::Number(_) | Value::Bool(_) => Ok(Value::String(plain(value))),
            _ => Err(bad("string")),
        },
    }
}

fn malformed_reference(what: &str, field: &Field, value: &Value) -> ApiError {
    errors::rest_fields(
        StatusCode::BAD_REQUEST,
        "MALFORMED_ID",
        format!("{what} ID: id value of incorrect type: {}", plain(value)),
        &[field.name.to_string()],
    )
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn value_token(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "VALUE_STRING",
        Value::Number(_) => "VALUE_NUMBER",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
        Value::Null => "VALUE_NULL",
    }
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 → (year, month, day); Howard Hinnant's civil_from_days.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Salesforce's datetime format: `2024-01-01T00:00:00.000+0000`.
pub(crate) fn datetime_string(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000+0000",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

fn date_string(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// 2024-01-01T00:00:00Z: seed records are created from here on.
const SEED_EPOCH: i64 = 1_704_067_200;

const INDUSTRIES: [&str; 7] = [
    "Technology",
    "Banking",
    "Retail",
    "Media",
    "Healthcare",
    "Manufacturing",
    "Energy",
];
const CITIES: [&str; 8] = [
    "San Francisco",
    "New York",
    "London",
    "Paris",
    "Berlin",
    "Tokyo",
    "Sydney",
    "Toronto",
];
const FIRST: [&str; 12] = [
    "Ada", "Grace", "Alan", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "John",
    "Radia", "Edsger",
];
const LAST: [&str; 15] = [
    "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
    "Allen", "Backus", "Perlman", "Dijkstra", "O'Brien", "Müller", "García",
];
const LEAD_STATUS: [&str; 4] = [
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
];
const STAGES: [&str; 5] = [
    "Prospecting",
    "Qualification",
    "Proposal/Price Quote",
    "Closed Won",
    "Closed Lost",
];

/// Accounts: 2,500 in all, so the default 2,000-row page gives two pages.
pub(crate) const SEED_ACCOUNTS: usize = 2500;

fn seed(store: &mut Store) {
    let s = |v: &str| Value::String(v.to_string());
    let stamp = |values: &mut HashMap<&'static str, Value>, n: usize| {
        let created = SEED_EPOCH + n as i64 * 3600;
        values.insert("CreatedDate", Value::String(datetime_string(created)));
        values.insert(
            "LastModifiedDate",
            Value::String(datetime_string(created + 86_400)),
        );
    };
    let (account, contact, lead, opportunity) =
        (&SOBJECTS[0], &SOBJECTS[1], &SOBJECTS[2], &SOBJECTS[3]);

    let specials = [
        ("Acme Corp", "EXT-ACME"),
        ("Global Media", "EXT-GLOBAL"),
        ("O'Reilly & Sons", "EXT-OREILLY"),
        ("Duplicate Holdings A", "DUP-1"),
        ("Duplicate Holdings B", "DUP-1"),
    ];
    let numbered = SEED_ACCOUNTS - specials.len();
    for n in 1..=SEED_ACCOUNTS {
        let (name, ext) = if n <= numbered {
            (format!("Acme {n:04}"), format!("EXT-{n:04}"))
        } else {
            let (name, ext) = specials[n - numbered - 1];
            (name.to_string(), ext.to_string())
        };
        let mut v = HashMap::new();
        v.insert("Name", Value::String(name));
        v.insert("Industry", s(INDUSTRIES[n % INDUSTRIES.len()]));
        v.insert("BillingCity", s(CITIES[n % CITIES.len()]));
        v.insert("AnnualRevenue", Value::from(100_000.0 + n as f64 * 250.0));
        v.insert("NumberOfEmployees", Value::from(10 + (n * 37) % 5000));
        v.insert(
            "Phone",
            Value::String(format!("+1 415 555 {:04}", n % 10_000)),
        );
        v.insert("ExtId__c", Value::String(ext));
        stamp(&mut v, n);
        store.insert(account, v, None);
    }

    let account_id = |n: usize| make_id(account, n);
    for n in 1..=300 {
        let (first, last) = (FIRST[n % FIRST.len()], LAST[n % LAST.len()]);
        let mut v = HashMap::new();
        v.insert("FirstName", s(first));
        v.insert("LastName", s(last));
        let mail = format!("{}.{}{n}@example.com", first, last.replace('\'', ""));
        v.insert("Email", Value::String(mail.to_lowercase()));
        // Every 25th contact is private (no account), to exercise null lookups.
        let acct = if n % 25 == 0 {
            Value::Null
        } else if n <= 3 {
            Value::String(account_id(numbered + 1)) // Acme Corp
        } else {
            Value::String(account_id(n * 7 % numbered + 1))
        };
        v.insert("AccountId", acct);
        stamp(&mut v, n);
        store.insert(contact, v, None);
    }

    for n in 1..=50 {
        let mut v = HashMap::new();
        v.insert("FirstName", s(FIRST[(n + 3) % FIRST.len()]));
        v.insert("LastName", s(LAST[(n + 5) % LAST.len()]));
        v.insert("Company", Value::String(format!("Lead Co {n:02}")));
        v.insert("Status", s(LEAD_STATUS[n % LEAD_STATUS.len()]));
        v.insert("Email", Value::String(format!("lead{n}@example.org")));
        stamp(&mut v, n);
        store.insert(lead, v, None);
    }

    for n in 1..=100 {
        let mut v = HashMap::new();
        v.insert("Name", Value::String(format!("Opportunity {n:03}")));
        v.insert("StageName", s(STAGES[n % STAGES.len()]));
        v.insert("Amount", Value::from(n as f64 * 1000.0));
        v.insert(
            "CloseDate",
            Value::String(date_string(SEED_EPOCH + n as i64 * 3 * 86_400)),
        );
        v.insert(
            "AccountId",
            Value::String(account_id(n * 11 % numbered + 1)),
        );
        stamp(&mut v, n);
        store.insert(opportunity, v, None);
    }
}

/// `Bulk 00001`, `BULK-00001` …: more Accounts for large-result tests, after
/// the standard ones so every default id stays where it is.
fn seed_extra_accounts(store: &mut Store, extra: usize) {
    let account = &SOBJECTS[0];
    for i in 1..=extra {
        let n = SEED_ACCOUNTS + i;
        let mut v = HashMap::new();
        v.insert("Name", Value::String(format!("Bulk {i:05}")));
        v.insert(
            "Industry",
            Value::String(INDUSTRIES[n % INDUSTRIES.len()].into()),
        );
        v.insert(
            "BillingCity",
            Value::String(CITIES[n % CITIES.len()].into()),
        );
        v.insert("AnnualRevenue", Value::from(100_000.0 + n as f64 * 250.0));
        v.insert("NumberOfEmployees", Value::from(10 + (n * 37) % 5000));
        v.insert(
            "Phone",
            Value::String(format!("+1 415 555 {:04}", n % 10_000)),
        );
        v.insert("ExtId__c", Value::String(format!("BULK-{i:05}")));
        let created = SEED_EPOCH + n as i64 * 3600;
        v.insert("CreatedDate", Value::String(datetime_string(created)));
        v.insert(
            "LastModifiedDate",
            Value::String(datetime_string(created + 86_400)),
        );
        store.insert(account, v, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_like_salesforce() {
        assert_eq!(datetime_string(SEED_EPOCH), "2024-01-01T00:00:00.000+0000");
        assert_eq!(date_string(951_782_400), "2000-02-29");
    }
}
