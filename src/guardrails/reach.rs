//! Which objects a tool call reaches, decided against the allowlist before
//! anything is sent. Relationship names are resolved through the org's own
//! describe (`fields[].relationshipName` / `referenceTo`,
//! `childRelationships[].relationshipName` / `childSObject`, and describe
//! global's `keyPrefix` for bare ids), never guessed from spelling: `Owner`
//! is a User or a Group, and `Foo__r` may point anywhere.

#[allow(unused_imports)]
use crate::prelude::*;

use super::soql::{self, Select};
use super::{sosl, Allowed};
use crate::error::Error;
use serde_json::Value;

/// The org metadata the allowlist needs.
pub trait Metadata {
    /// `/sobjects/{object}/describe`.
    fn describe(&mut self, object: &str) -> Result<&Value, Error>;
    /// `/sobjects` (describe global).
    fn global(&mut self) -> Result<&Value, Error>;
}

/// A refusal for a reach that cannot be decided.
pub fn undecidable(why: &str) -> Error {
    Error::Denied(format!(
        "cannot tell which objects this reaches ({why}); the allowed-objects guardrail \
         (SF_ALLOWED_OBJECTS, sf-host --allowed-objects) refuses what it cannot decide"
    ))
}

/// Every object a SOQL query reads or filters on.
pub fn query(m: &mut dyn Metadata, allowed: &Allowed, soql: &str) -> Result<(), Error> {
    let q = soql::parse(soql).map_err(|why| undecidable(&why))?;
    select(m, allowed, &q, q.from)
}

fn select(
    m: &mut dyn Metadata,
    allowed: &Allowed,
    q: &Select<'_>,
    object: &str,
) -> Result<(), Error> {
    allowed.check(object)?;
    for path in &q.paths {
        let names = [Some(object), Some(q.from), q.alias];
        let mut segments: Vec<&str> = path.split('.').collect();
        if names
            .iter()
            .flatten()
            .any(|n| n.eq_ignore_ascii_case(segments[0]))
        {
            segments.remove(0);
        }
        // The last segment is a field of wherever the path arrives.
        segments.pop();
        relationships(m, allowed, object, &segments)?;
    }
    for child in &q.children {
        let child_object = child_object(m, object, child.from)?;
        select(m, allowed, child, &child_object)?;
    }
    for semi in &q.semi_joins {
        select(m, allowed, semi, semi.from)?;
    }
    Ok(())
}

/// Walks `Account.Owner` from `object`, checking every object it passes.
pub fn relationships(
    m: &mut dyn Metadata,
    allowed: &Allowed,
    object: &str,
    names: &[&str],
) -> Result<(), Error> {
    let mut at = object.to_string();
    for (i, name) in names.iter().enumerate() {
        let targets = targets(m, &at, name)?;
        for target in &targets {
            allowed.check(target)?;
        }
        match targets.as_slice() {
            [one] => at = one.clone(),
            _ if i + 1 == names.len() => {}
            _ => return Err(undecidable(&format!("`{name}` on {at} is polymorphic"))),
        }
    }
    Ok(())
}

/// The objects the relationship `name` of `object` points to.
fn targets(m: &mut dyn Metadata, object: &str, name: &str) -> Result<Vec<String>, Error> {
    let describe = m.describe(object)?;
    let field = describe["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| {
            f["relationshipName"]
                .as_str()
                .is_some_and(|r| r.eq_ignore_ascii_case(name))
        })
        .ok_or_else(|| undecidable(&format!("{object} has no relationship `{name}`")))?;
    let targets: Vec<String> = field["referenceTo"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    match targets.is_empty() {
        true => Err(undecidable(&format!(
            "`{name}` on {object} names no object"
        ))),
        false => Ok(targets),
    }
}

/// The object of the child relationship `name` of `parent` (`Contacts` on
/// Account is Contact).
fn child_object(m: &mut dyn Metadata, parent: &str, name: &str) -> Result<String, Error> {
    m.describe(parent)?["childRelationships"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            c["relationshipName"]
                .as_str()
                .is_some_and(|r| r.eq_ignore_ascii_case(name))
        })
        .and_then(|c| c["childSObject"].as_str())
        .map(str::to_string)
        .ok_or_else(|| undecidable(&format!("{parent} has no child relationship `{name}`")))
}

/// Every object a SOSL search returns.
pub fn search(m: &mut dyn Metadata, allowed: &Allowed, text: &str) -> Result<(), Error> {
    for r in sosl::returning(text).map_err(|why| undecidable(&why))? {
        fields(m, allowed, r.object, r.paths.iter().copied())?;
    }
    Ok(())
}

/// `object` and the relationships its field names walk.
pub fn fields<'a>(
    m: &mut dyn Metadata,
    allowed: &Allowed,
    object: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), Error> {
    allowed.check(object)?;
    for name in names {
        let mut segments: Vec<&str> = name.split('.').collect();
        segments.pop();
        relationships(m, allowed, object, &segments)?;
    }
    Ok(())
}

/// A record to write: its object, its own `attributes.type`, and every
/// relationship it sets by external id (`"Account": {"ExtId__c": "A-1"}`).
pub fn record(
    m: &mut dyn Metadata,
    allowed: &Allowed,
    object: &str,
    record: &Value,
) -> Result<(), Error> {
    allowed.check(object)?;
    let Some(map) = record.as_object() else {
        return Ok(());
    };
    for (key, value) in map {
        match value {
            Value::Object(inner) if key == "attributes" => {
                if let Some(ty) = inner.get("type").and_then(Value::as_str) {
                    allowed.check(ty)?;
                }
            }
            Value::Object(inner) if inner.values().any(|v| v.is_object() || v.is_array()) => {
                return Err(undecidable(&format!("`{key}` nests records")))
            }
            Value::Object(_) => relationships(m, allowed, object, &[key.as_str()])?,
            Value::Array(_) => return Err(undecidable(&format!("`{key}` holds a list"))),
            _ => {}
        }
    }
    Ok(())
}

/// The records of an sObject Tree: each record's own fields as [`record`]
/// checks them, and each child relationship (`"Contacts": {"records":
/// [...]}`) resolved through the parent's describe to its child object,
/// whose records are checked the same way, level by level.
pub fn tree(
    m: &mut dyn Metadata,
    allowed: &Allowed,
    object: &str,
    records: &Value,
) -> Result<(), Error> {
    for r in records.as_array().into_iter().flatten() {
        let Some(map) = r.as_object() else {
            continue;
        };
        let (nested, own): (Vec<_>, Vec<_>) = map
            .iter()
            .partition(|(_, v)| v.get("records").is_some_and(Value::is_array));
        let own: serde_json::Map<String, Value> = own
            .into_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        record(m, allowed, object, &Value::Object(own))?;
        for (name, children) in nested {
            let child = child_object(m, object, name)?;
            tree(m, allowed, &child, &children["records"])?;
        }
    }
    Ok(())
}

/// The objects of bare record ids, by their three-character key prefix.
pub fn ids<'a>(
    m: &mut dyn Metadata,
    allowed: &Allowed,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<(), Error> {
    let global = m.global()?;
    let object_of = |prefix: &str| {
        global["sobjects"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["keyPrefix"].as_str() == Some(prefix))
            .and_then(|o| o["name"].as_str())
    };
    let mut objects = Vec::new();
    for id in ids {
        let prefix = id.get(..3).unwrap_or(id);
        match object_of(prefix) {
            Some(name) => objects.push(name.to_string()),
            None => {
                return Err(undecidable(&format!(
                    "no object has the id prefix `{prefix}`"
                )))
            }
        }
    }
    objects.iter().try_for_each(|o| allowed.check(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An org of Account, Contact, Opportunity and Task, where `Owner` is
    /// polymorphic and `What` points at anything.
    struct Org {
        calls: usize,
        objects: Vec<(&'static str, Value)>,
        global: Value,
    }

    fn org() -> Org {
        let rel = |name: &str, to: &[&str]| json!({"relationshipName": name, "referenceTo": to});
        let child = |name: &str, of: &str| json!({"relationshipName": name, "childSObject": of});
        Org {
            calls: 0,
            objects: vec![
                (
                    "Account",
                    json!({"fields": [rel("Owner", &["User"]), rel("Parent", &["Account"])],
                                   "childRelationships": [child("Contacts", "Contact"), child("Opportunities", "Opportunity")]}),
                ),
                (
                    "Contact",
                    json!({"fields": [rel("Account", &["Account"]), {"name": "Email"}],
                                   "childRelationships": []}),
                ),
                (
                    "Opportunity",
                    json!({"fields": [rel("Account", &["Account"])]}),
                ),
                (
                    "Task",
                    json!({"fields": [rel("What", &["Account", "Opportunity"]), rel("Owner", &["User", "Group"])]}),
                ),
            ],
            global: json!({"sobjects": [{"name": "Account", "keyPrefix": "001"}, {"name": "Contact", "keyPrefix": "003"}]}),
        }
    }

    impl Metadata for Org {
        fn describe(&mut self, object: &str) -> Result<&Value, Error> {
            self.calls += 1;
            self.objects
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(object))
                .map(|(_, v)| v)
                .ok_or_else(|| Error::request("sobject", "unknown"))
        }
        fn global(&mut self) -> Result<&Value, Error> {
            Ok(&self.global)
        }
    }

    fn allowed(list: &str) -> Allowed {
        Allowed::parse(list)
    }

    fn denied_for(result: Result<(), Error>) -> String {
        match result {
            Err(Error::Denied(m)) => m,
            other => panic!("expected denied, got {other:?}"),
        }
    }

    #[test]
    fn a_query_inside_the_allowlist_passes() {
        let a = allowed("Account, contact");
        let mut m = org();
        for soql in [
            "SELECT Name FROM Account",
            "SELECT Name, Account.Name, Account.Parent.Name FROM Contact",
            "SELECT c.Account.Name FROM Contact c",
            "SELECT Contact.Email FROM Contact",
            "SELECT Name, (SELECT Email, Account.Name FROM Contacts) FROM Account",
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)",
        ] {
            query(&mut m, &a, soql).unwrap_or_else(|e| panic!("{soql}: {e}"));
        }
    }

    #[test]
    fn a_query_reaching_another_object_is_refused_naming_it() {
        let a = allowed("Account,Contact");
        let cases = [
            ("SELECT Name FROM Opportunity", "`Opportunity`"),
            ("SELECT Name, Owner.Name FROM Account", "`User`"),
            ("SELECT Name FROM Account WHERE Owner.Email LIKE '%@x.com'", "`User`"),
            ("SELECT Name, (SELECT Name FROM Opportunities) FROM Account", "`Opportunity`"),
            ("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity)", "`Opportunity`"),
            ("SELECT Id FROM Contact ORDER BY Account.Owner.Name", "`User`"),
            ("SELECT Id FROM Account WHERE Name = 'x' OR Id IN (SELECT AccountId FROM Contact WHERE Account.Owner.Name = 'y')", "`User`"),
        ];
        for (soql, names) in cases {
            let m = denied_for(query(&mut org(), &a, soql));
            assert!(m.contains(names), "{soql}: {m}");
            assert!(m.contains("SF_ALLOWED_OBJECTS"), "{m}");
        }
    }

    #[test]
    fn what_cannot_be_decided_is_refused() {
        let a = allowed("Account,Opportunity,Task,User,Group");
        for soql in [
            "SELECT What.Owner.Name FROM Task",
            "SELECT Id, Mystery__r.Name FROM Account",
            "SELECT Id, (SELECT Id FROM Cases) FROM Account",
            "SELECT TYPEOF What WHEN Account THEN Name END FROM Task",
        ] {
            let m = denied_for(query(&mut org(), &a, soql));
            assert!(m.contains("cannot tell"), "{soql}: {m}");
        }
        // One polymorphic hop whose every target is allowed is decidable.
        query(&mut org(), &a, "SELECT What.Name, Owner.Name FROM Task").unwrap();
        let m = denied_for(query(
            &mut org(),
            &allowed("Task,User"),
            "SELECT Owner.Name FROM Task",
        ));
        assert!(m.contains("`Group`"), "{m}");
    }

    #[test]
    fn a_disallowed_object_is_refused_before_it_is_described() {
        let mut m = org();
        denied_for(query(
            &mut m,
            &allowed("Contact"),
            "SELECT Owner.Name FROM Account",
        ));
        assert_eq!(m.calls, 0);
    }

    #[test]
    fn searches_records_and_ids() {
        let a = allowed("Account,Contact");
        let mut m = org();
        search(
            &mut m,
            &a,
            "FIND {x} RETURNING Account(Name), Contact(Account.Name)",
        )
        .unwrap();
        denied_for(search(&mut m, &a, "FIND {x} RETURNING Account(Owner.Name)"));
        denied_for(search(&mut m, &a, "FIND {x}"));
        record(
            &mut m,
            &a,
            "Contact",
            &json!({"LastName": "x", "Account": {"ExtId__c": "A-1"}}),
        )
        .unwrap();
        denied_for(record(&mut m, &a, "Opportunity", &json!({"Name": "x"})));
        denied_for(record(
            &mut m,
            &a,
            "Account",
            &json!({"attributes": {"type": "Lead"}}),
        ));
        denied_for(record(
            &mut m,
            &a,
            "Account",
            &json!({"Owner": {"Email": "x"}}),
        ));
        ids(&mut m, &a, ["001000000000001AAA", "003000000000001AAA"]).unwrap();
        denied_for(ids(&mut m, &a, ["006000000000001AAA"]));
    }

    #[test]
    fn a_tree_reaches_every_child_relationship_it_nests() {
        let a = allowed("Account,Contact");
        let contact =
            json!({"attributes": {"type": "Contact", "referenceId": "c"}, "LastName": "x"});
        let with = |name: &str, child: &Value| {
            json!([{"attributes": {"type": "Account", "referenceId": "a"}, "Name": "A",
                    name: {"records": [child]}}])
        };
        tree(&mut org(), &a, "Account", &with("Contacts", &contact)).unwrap();
        let opportunity = json!({"attributes": {"type": "Opportunity", "referenceId": "o"}});
        let m = denied_for(tree(
            &mut org(),
            &a,
            "Account",
            &with("Opportunities", &opportunity),
        ));
        assert!(m.contains("`Opportunity`"), "{m}");
        // The relationship decides the object, whatever the record claims.
        let m = denied_for(tree(
            &mut org(),
            &a,
            "Account",
            &with("Opportunities", &contact),
        ));
        assert!(m.contains("`Opportunity`"), "{m}");
        let m = denied_for(tree(&mut org(), &a, "Account", &with("Cases", &contact)));
        assert!(m.contains("cannot tell"), "{m}");
        denied_for(tree(&mut org(), &a, "Lead", &json!([{"LastName": "x"}])));
    }
}
