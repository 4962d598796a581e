//! What a SOSL search reaches: the objects of its RETURNING clause and the
//! field paths in their field lists. Without RETURNING a search covers every
//! searchable object, which no allowlist can vouch for.

#[allow(unused_imports)]
use crate::prelude::*;

use super::soql::{is, lex, Tok};

/// One object of a RETURNING clause.
#[derive(Debug, PartialEq)]
pub struct Returning<'a> {
    /// The object searched.
    pub object: &'a str,
    /// Dotted names in its field list, WHERE and ORDER BY.
    pub paths: Vec<&'a str>,
}

/// Clauses that end the RETURNING list.
const AFTER_RETURNING: [&str; 4] = ["WITH", "LIMIT", "OFFSET", "UPDATE"];

/// The objects a search returns, or why that cannot be read with certainty.
pub fn returning(sosl: &str) -> Result<Vec<Returning<'_>>, String> {
    let tokens = lex(sosl)?;
    let start = tokens
        .iter()
        .position(|t| is(Some(t), "RETURNING"))
        .ok_or("without RETURNING a search covers every searchable object")?;
    let mut out = Vec::new();
    let mut at = start + 1;
    loop {
        let Some(Tok::Word(object)) = tokens.get(at) else {
            return Err("RETURNING names no object".into());
        };
        if object.contains('.') {
            return Err(format!("RETURNING `{object}` is a path, not an object"));
        }
        at += 1;
        let paths = field_list(&tokens, &mut at)?;
        out.push(Returning { object, paths });
        match tokens.get(at) {
            Some(Tok::Comma) => at += 1,
            None => return Ok(out),
            Some(Tok::Word(w)) if AFTER_RETURNING.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                return Ok(out)
            }
            Some(_) => return Err("the RETURNING list goes on in a way it cannot be read".into()),
        }
    }
}

/// The dotted names of `( ... )` at `at`, if there is one; leaves `at` after it.
fn field_list<'a>(tokens: &[Tok<'a>], at: &mut usize) -> Result<Vec<&'a str>, String> {
    let mut paths = Vec::new();
    if tokens.get(*at) != Some(&Tok::Open) {
        return Ok(paths);
    }
    let mut depth = 0usize;
    while let Some(&tok) = tokens.get(*at) {
        *at += 1;
        match tok {
            Tok::Open => depth += 1,
            Tok::Close if depth == 1 => return Ok(paths),
            Tok::Close => depth -= 1,
            Tok::Word(w) if w.eq_ignore_ascii_case("SELECT") => {
                return Err("a subquery inside RETURNING".into())
            }
            Tok::Word(w) if w.contains('.') => paths.push(w),
            _ => {}
        }
    }
    Err("a RETURNING field list is not closed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_returned_object_and_its_paths() {
        let r = returning(
            "FIND {Acme RETURNING User} IN NAME FIELDS RETURNING Account(Name, Owner.Name \
             WHERE Industry = 'x' ORDER BY Name LIMIT 5), Contact, Lead(Company) WITH SNIPPET LIMIT 20",
        )
        .unwrap();
        let objects: Vec<&str> = r.iter().map(|r| r.object).collect();
        assert_eq!(objects, ["Account", "Contact", "Lead"]);
        assert_eq!(r[0].paths, ["Owner.Name"]);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for sosl in [
            "FIND {Acme}",
            "FIND {Acme} RETURNING",
            "FIND {Acme} RETURNING Account(Name",
            "FIND {Acme} RETURNING Account.Contacts",
            "FIND {Acme RETURNING Account",
            "FIND {Acme} RETURNING Account Contact",
        ] {
            assert!(returning(sosl).is_err(), "{sosl}");
        }
    }
}
