//! What a SOQL query reaches, read from its text: the object of each FROM,
//! the field paths that walk relationships, the child-relationship
//! subqueries of a SELECT list and the semi-join subqueries of a WHERE.
//!
//! Only the structure that decides which objects a query touches is read;
//! everything else (operators, literals, functions) is skipped. What cannot
//! be read with certainty is an error, so the caller refuses it.

#[allow(unused_imports)]
use crate::prelude::*;

/// One SELECT, with its nested SELECTs.
#[derive(Debug, Default, PartialEq)]
pub struct Select<'a> {
    /// The FROM name: an object, or in a child subquery a relationship of
    /// the parent object (`Contacts` on Account).
    pub from: &'a str,
    /// `FROM Contact c`: paths may start with `c.`.
    pub alias: Option<&'a str>,
    /// Every dotted name (`Account.Owner.Name`), anywhere in this SELECT.
    pub paths: Vec<&'a str>,
    /// `(SELECT ... FROM Contacts)` in the SELECT list.
    pub children: Vec<Select<'a>>,
    /// `Id IN (SELECT AccountId FROM Opportunity)` after the FROM.
    pub semi_joins: Vec<Select<'a>>,
}

/// A token of SOQL or SOSL, as far as reach is concerned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Tok<'a> {
    /// An identifier, possibly dotted: `Name`, `Account.Name`.
    Word(&'a str),
    Open,
    Close,
    Comma,
    /// Anything else: operators, numbers, literals.
    Other,
}

/// Words that may follow `FROM object` and so are not an alias.
const AFTER_FROM: [&str; 9] = [
    "WHERE", "WITH", "USING", "ORDER", "GROUP", "LIMIT", "OFFSET", "FOR", "UPDATE",
];

/// The query's structure, or why it cannot be read with certainty.
pub fn parse(soql: &str) -> Result<Select<'_>, String> {
    let tokens = lex(soql)?;
    let mut at = 0;
    let select = select(&tokens, &mut at)?;
    match tokens.get(at) {
        None => Ok(select),
        Some(_) => Err("the query goes on after its end".into()),
    }
}

/// The tokens of `text`; string literals and SOSL's `{search term}` become
/// one `Other` each, so nothing inside them reads as a name.
pub(super) fn lex(text: &str) -> Result<Vec<Tok<'_>>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        i += 1;
        match b {
            b if b.is_ascii_whitespace() => {}
            b'(' => out.push(Tok::Open),
            b')' => out.push(Tok::Close),
            b',' => out.push(Tok::Comma),
            b'\'' | b'{' => {
                let close = if b == b'{' { b'}' } else { b'\'' };
                i = literal_end(bytes, i, close).ok_or("a literal is not closed")?;
                out.push(Tok::Other);
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while bytes
                    .get(i)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
                {
                    i += 1;
                }
                let word = &text[start..i];
                if word.ends_with('.') || word.contains("..") {
                    return Err(format!("`{word}` is not a field path"));
                }
                out.push(Tok::Word(word));
            }
            // Numbers and date literals (`2026-01-01T00:00:00Z`) hold no names.
            b if b.is_ascii_digit() => {
                while bytes
                    .get(i)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || b".:+-".contains(&c))
                {
                    i += 1;
                }
                out.push(Tok::Other);
            }
            b'.' => return Err("a `.` stands apart from a name".into()),
            _ => out.push(Tok::Other),
        }
    }
    Ok(out)
}

/// The index just past the `close` that ends a literal opened before `i`
/// (a backslash escapes the next byte).
fn literal_end(bytes: &[u8], mut i: usize, close: u8) -> Option<usize> {
    loop {
        match *bytes.get(i)? {
            b'\\' => i += 2,
            b if b == close => return Some(i + 1),
            _ => i += 1,
        }
    }
}

pub(super) fn is(tok: Option<&Tok<'_>>, keyword: &str) -> bool {
    matches!(tok, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(keyword))
}

/// One SELECT starting at `at`; stops at its end or at the `)` closing it
/// (left for the caller).
fn select<'a>(tokens: &[Tok<'a>], at: &mut usize) -> Result<Select<'a>, String> {
    if !is(tokens.get(*at), "SELECT") {
        return Err("it does not start with SELECT".into());
    }
    *at += 1;
    let mut out = Select::default();
    let mut seen_from = false;
    let mut depth = 0usize;
    while let Some(&tok) = tokens.get(*at) {
        match tok {
            Tok::Open if is(tokens.get(*at + 1), "SELECT") => {
                *at += 1;
                let inner = select(tokens, at)?;
                if tokens.get(*at) != Some(&Tok::Close) {
                    return Err("a subquery is not closed".into());
                }
                match seen_from {
                    false => out.children.push(inner),
                    true => out.semi_joins.push(inner),
                }
            }
            Tok::Open => depth += 1,
            Tok::Close if depth == 0 => break,
            Tok::Close => depth -= 1,
            Tok::Word(w) if w.eq_ignore_ascii_case("FROM") && depth == 0 && !seen_from => {
                seen_from = true;
                (out.from, out.alias) = from_clause(tokens, at)?;
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("TYPEOF") => {
                return Err("TYPEOF picks fields by the type of a polymorphic record".into())
            }
            Tok::Word(w) if w.contains('.') => out.paths.push(w),
            Tok::Word(_) | Tok::Comma | Tok::Other => {}
        }
        *at += 1;
    }
    if !seen_from {
        return Err("a SELECT has no FROM".into());
    }
    Ok(out)
}

/// `FROM name [alias]`, with `at` on the FROM; leaves `at` on its last token.
fn from_clause<'a>(
    tokens: &[Tok<'a>],
    at: &mut usize,
) -> Result<(&'a str, Option<&'a str>), String> {
    let Some(Tok::Word(name)) = tokens.get(*at + 1) else {
        return Err("FROM names no object".into());
    };
    if name.contains('.') {
        return Err(format!("FROM `{name}` is a path, not an object"));
    }
    *at += 1;
    match tokens.get(*at + 1) {
        Some(Tok::Word(w))
            if !w.contains('.') && !AFTER_FROM.iter().any(|k| w.eq_ignore_ascii_case(k)) =>
        {
            *at += 1;
            Ok((name, Some(w)))
        }
        _ => Ok((name, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_paths_children_and_semi_joins() {
        let q = parse(
            "SELECT Name, Account.Owner.Name, (SELECT LastName FROM Contacts WHERE Email != null) \
             FROM Account a WHERE a.Parent.Name LIKE 'x.y%' AND Id IN \
             (SELECT AccountId FROM Opportunity WHERE Amount > 1.5) ORDER BY toLabel(a.Industry)",
        )
        .unwrap();
        assert_eq!(q.from, "Account");
        assert_eq!(q.alias, Some("a"));
        assert_eq!(
            q.paths,
            ["Account.Owner.Name", "a.Parent.Name", "a.Industry"]
        );
        assert_eq!(q.children.len(), 1);
        assert_eq!(q.children[0].from, "Contacts");
        assert_eq!(q.semi_joins.len(), 1);
        assert_eq!(q.semi_joins[0].from, "Opportunity");
    }

    #[test]
    fn literals_hide_nothing_and_keywords_are_not_aliases() {
        let q = parse(
            "select Id from Lead where Name = 'a\\' FROM User' and CreatedDate > \
             2026-01-01T00:00:00Z and LastModifiedDate = LAST_N_DAYS:3 limit 5",
        )
        .unwrap();
        assert_eq!((q.from, q.alias), ("Lead", None));
        assert!(q.paths.is_empty() && q.semi_joins.is_empty());
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for soql in [
            "SELECT Id FROM Contact WHERE Name = 'open",
            "SELECT TYPEOF What WHEN Account THEN Name END FROM Event",
            "SELECT Id FROM Account.Contacts",
            "SELECT Id, (SELECT Id FROM Contacts FROM Account",
            "SELECT Id",
            "DELETE FROM Account",
            "SELECT Id FROM Account) FROM User",
            "SELECT Account . Name FROM Contact",
            "SELECT Account..Name FROM Contact",
        ] {
            assert!(parse(soql).is_err(), "{soql}");
        }
    }
}
