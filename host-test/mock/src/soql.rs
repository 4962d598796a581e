//! The SOQL subset the mock understands:
//! `SELECT f, Rel.f | COUNT() FROM Obj [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET n]`.
//! Errors carry Salesforce's codes and its caret-under-the-column message form.

use crate::data::{sobject, Field, Kind, Record, SObject, Store};
use serde_json::Value;
use std::cmp::Ordering;

pub(crate) struct SoqlError {
    pub code: &'static str,
    pub message: String,
}

#[derive(Clone, Copy)]
pub(crate) enum FieldRef {
    Direct(&'static Field),
    /// `Account.Name` on Contact: through `lookup` (AccountId) to `field` on `target`.
    Related {
        lookup: &'static Field,
        rel: &'static str,
        target: &'static SObject,
        field: &'static Field,
    },
}

impl FieldRef {
    fn kind(&self) -> Kind {
        match self {
            FieldRef::Direct(f) | FieldRef::Related { field: f, .. } => f.kind,
        }
    }

    pub(crate) fn is_blob(&self) -> bool {
        self.kind() == Kind::Blob
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            FieldRef::Direct(f) | FieldRef::Related { field: f, .. } => f.name,
        }
    }

    pub(crate) fn value(&self, store: &Store, rec: &Record) -> Value {
        match self {
            FieldRef::Direct(f) => rec.get(f.name),
            FieldRef::Related {
                lookup,
                target,
                field,
                ..
            } => match rec.get(lookup.name) {
                Value::String(id) => store
                    .get(target, &id)
                    .map(|r| r.get(field.name))
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            },
        }
    }
}

pub(crate) enum Select {
    Count,
    Fields(Vec<FieldRef>),
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone)]
pub(crate) enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    /// Unquoted date or datetime, e.g. `2024-01-31`.
    Date(String),
}

pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(FieldRef, Op, Literal),
    Like(FieldRef, String),
    In(FieldRef, Vec<Literal>, bool),
}

pub(crate) struct OrderBy {
    pub field: FieldRef,
    pub desc: bool,
    pub nulls_last: bool,
}

pub(crate) struct Query {
    pub sobject: &'static SObject,
    pub select: Select,
    pub filter: Option<Expr>,
    pub order: Vec<OrderBy>,
    pub limit: Option<usize>,
    pub offset: usize,
    /// `(SELECT … FROM Contacts)` in the select list.
    pub children: Vec<ChildQuery>,
}

/// A child-relationship subquery, e.g. `(SELECT Id FROM Contacts)` on Account.
pub(crate) struct ChildQuery {
    /// How many plain fields precede it in the select list (its output position).
    pub position: usize,
    /// The relationship name as Salesforce spells it, e.g. `Contacts`.
    pub rel: &'static str,
    /// The child's lookup to the parent, e.g. Contact.AccountId.
    pub lookup: &'static Field,
    pub query: Query,
}

/// Child relationships: `Contacts` on Account is Contact through AccountId.
fn child_relationship(parent: &SObject, name: &str) -> Option<(&'static SObject, &'static Field)> {
    crate::data::SOBJECTS.iter().find_map(|child| {
        if !child.label_plural.eq_ignore_ascii_case(name) {
            return None;
        }
        child.fields.iter().find_map(|f| match f.kind {
            Kind::Reference(t) if t == parent.name => Some((child, f)),
            _ => None,
        })
    })
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Sym(&'static str),
    End,
}

struct Lexer {
    toks: Vec<(Tok, usize)>,
}

fn lex(q: &str) -> Result<Lexer, (String, usize)> {
    let chars: Vec<char> = q.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(("unterminated string literal".into(), start)),
                    Some('\\') => {
                        let esc = chars.get(i + 1).copied().unwrap_or('\\');
                        match esc {
                            'n' => s.push('\n'),
                            't' => s.push('\t'),
                            // LIKE wildcards stay escaped for the matcher.
                            '%' | '_' => {
                                s.push('\\');
                                s.push(esc);
                            }
                            other => s.push(other),
                        }
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            toks.push((Tok::Str(s), start));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '.' | ':' | '-' | '+'))
            {
                i += 1;
            }
            toks.push((Tok::Num(chars[start..i].iter().collect()), start));
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.')) {
                i += 1;
            }
            toks.push((Tok::Word(chars[start..i].iter().collect()), start));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                "!=" => Some("!="),
                "<>" => Some("<>"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                toks.push((Tok::Sym(s), start));
                i += 2;
                continue;
            }
            let sym = match c {
                ',' => ",",
                '(' => "(",
                ')' => ")",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                _ => return Err((format!("unexpected token: '{c}'"), start)),
            };
            toks.push((Tok::Sym(sym), start));
            i += 1;
        }
    }
    toks.push((Tok::End, chars.len()));
    Ok(Lexer { toks })
}

struct Parser<'q> {
    text: &'q str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
    sobject: Option<&'static SObject>,
    /// Nesting of `(` and `NOT`, bounded so a hostile query cannot overflow the stack.
    depth: usize,
    /// Set when parsing a child subquery: its FROM names a relationship of this object.
    parent: Option<&'static SObject>,
    /// The child's lookup to the parent, found while resolving that FROM.
    child_lookup: Option<&'static Field>,
}

const MAX_DEPTH: usize = 64;

/// Salesforce's message form: the query, a caret under the column, then the reason.
fn located(query: &str, col: usize, reason: &str) -> String {
    format!(
        "\n{query}\n{}^\nERROR at Row:1:Column:{}\n{reason}",
        " ".repeat(col),
        col + 1
    )
}

impl<'q> Parser<'q> {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map(|(t, _)| t).unwrap_or(&Tok::End)
    }

    fn col(&self) -> usize {
        self.toks
            .get(self.pos)
            .map(|(_, c)| *c)
            .unwrap_or(self.text.chars().count())
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn err(&self, code: &'static str, col: usize, reason: &str) -> SoqlError {
        SoqlError {
            code,
            message: located(self.text, col, reason),
        }
    }

    fn unexpected(&self) -> SoqlError {
        let shown = match self.peek() {
            Tok::Word(w) | Tok::Num(w) => w.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Sym(s) => s.to_string(),
            Tok::End => "<EOF>".to_string(),
        };
        self.err(
            "MALFORMED_QUERY",
            self.col(),
            &format!("unexpected token: '{shown}'"),
        )
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.is_kw(kw) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), SoqlError> {
        if matches!(self.peek(), Tok::Sym(s) if *s == sym) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn word(&mut self) -> Result<(String, usize), SoqlError> {
        let col = self.col();
        match self.peek().clone() {
            Tok::Word(w) if !is_reserved(&w) => {
                self.pos += 1;
                Ok((w, col))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn resolve(&self, name: &str, col: usize) -> Result<FieldRef, SoqlError> {
        let Some(obj) = self.sobject else {
            return Err(self.err("MALFORMED_QUERY", col, "unexpected token"));
        };
        let no_such = || {
            self.err(
                "INVALID_FIELD",
                col,
                &format!(
                    "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                    obj.name
                ),
            )
        };
        // `Contact.Name` on Contact is the object's own field.
        let name = match name.split_once('.') {
            Some((head, rest)) if head.eq_ignore_ascii_case(obj.name) => rest,
            _ => name,
        };
        match name.split_once('.') {
            None => obj.field(name).map(FieldRef::Direct).ok_or_else(no_such),
            Some((rel, rest)) => {
                let Some((lookup, target)) = obj.relationship(rel) else {
                    return Err(self.err(
                        "INVALID_FIELD",
                        col,
                        &format!(
                            "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                        ),
                    ));
                };
                let field = target.field(rest).ok_or_else(no_such)?;
                Ok(FieldRef::Related {
                    lookup,
                    rel: target.name,
                    target,
                    field,
                })
            }
        }
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let mut count = false;
        let mut names = Vec::new();
        let mut subs: Vec<(usize, usize, usize)> = Vec::new();
        if self.is_kw("COUNT") && matches!(self.toks.get(self.pos + 1), Some((Tok::Sym("("), _))) {
            self.pos += 1;
            self.expect_sym("(")?;
            self.expect_sym(")")?;
            count = true;
        } else {
            loop {
                if matches!(self.peek(), Tok::Sym("("))
                    && matches!(self.toks.get(self.pos + 1), Some((Tok::Word(w), _)) if w.eq_ignore_ascii_case("SELECT"))
                {
                    if self.parent.is_some() {
                        return Err(self.err(
                            "MALFORMED_QUERY",
                            self.col(),
                            "nesting of semi join sub-selects is not supported",
                        ));
                    }
                    let open = self.pos;
                    let close = self.matching_paren(open)?;
                    subs.push((names.len(), open, close));
                    self.pos = close + 1;
                } else {
                    names.push(self.word()?);
                }
                if matches!(self.peek(), Tok::Sym(",")) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        self.expect_kw("FROM")?;
        let (obj_name, obj_col) = self.word()?;
        let found = match self.parent {
            Some(parent) => child_relationship(parent, &obj_name).map(|(child, lookup)| {
                self.child_lookup = Some(lookup);
                child
            }),
            None => sobject(&obj_name),
        };
        let obj = found.ok_or_else(|| {
            if self.parent.is_some() {
                return self.err(
                    "INVALID_TYPE",
                    obj_col,
                    &format!("Didn't understand relationship '{obj_name}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."),
                );
            }
            self.err(
                "INVALID_TYPE",
                obj_col,
                &format!(
                    "sObject type '{obj_name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
                ),
            )
        })?;
        self.sobject = Some(obj);
        let mut children = Vec::new();
        for (position, open, close) in subs {
            children.push(self.child(obj, position, open, close)?);
        }
        let select = if count {
            Select::Count
        } else {
            let mut fields: Vec<FieldRef> = Vec::new();
            for (name, col) in &names {
                let f = self.resolve(name, *col)?;
                let dup = fields.iter().any(|g| same_field(g, &f));
                if dup {
                    return Err(self.err(
                        "MALFORMED_QUERY",
                        *col,
                        &format!("duplicate field selected: {name}"),
                    ));
                }
                fields.push(f);
            }
            Select::Fields(fields)
        };
        let filter = if self.is_kw("WHERE") {
            self.pos += 1;
            Some(self.or_expr()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.is_kw("ORDER") {
            self.pos += 1;
            self.expect_kw("BY")?;
            loop {
                let (name, col) = self.word()?;
                let field = self.resolve(&name, col)?;
                self.not_blob(&field, &name, col, "can not be sorted in a query call")?;
                let mut desc = false;
                if self.is_kw("ASC") {
                    self.pos += 1;
                } else if self.is_kw("DESC") {
                    self.pos += 1;
                    desc = true;
                }
                // Salesforce's default: nulls first ascending, last descending.
                let mut nulls_last = desc;
                if self.is_kw("NULLS") {
                    self.pos += 1;
                    if self.is_kw("FIRST") {
                        nulls_last = false;
                    } else if self.is_kw("LAST") {
                        nulls_last = true;
                    } else {
                        return Err(self.unexpected());
                    }
                    self.pos += 1;
                }
                order.push(OrderBy {
                    field,
                    desc,
                    nulls_last,
                });
                if matches!(self.peek(), Tok::Sym(",")) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        let mut limit = None;
        if self.is_kw("LIMIT") {
            self.pos += 1;
            limit = Some(self.count_arg()?);
        }
        let mut offset = 0;
        if self.is_kw("OFFSET") {
            self.pos += 1;
            let col = self.col();
            offset = self.count_arg()?;
            if offset > 2000 {
                return Err(SoqlError {
                    code: "NUMBER_OUTSIDE_VALID_RANGE",
                    message: located(self.text, col, "Maximum SOQL offset allowed is 2000"),
                });
            }
        }
        if *self.peek() != Tok::End {
            return Err(self.unexpected());
        }
        Ok(Query {
            sobject: obj,
            select,
            filter,
            order,
            limit,
            offset,
            children,
        })
    }

    /// The token index of the `)` that closes the `(` at `open`.
    fn matching_paren(&self, open: usize) -> Result<usize, SoqlError> {
        let mut depth = 0usize;
        for (i, (t, _)) in self.toks.iter().enumerate().skip(open) {
            match t {
                Tok::Sym("(") => depth += 1,
                Tok::Sym(")") => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i);
                    }
                }
                Tok::End => break,
                _ => {}
            }
        }
        self.pos_err(self.toks.len().saturating_sub(1))
    }

    fn pos_err<T>(&self, at: usize) -> Result<T, SoqlError> {
        let col = self.toks.get(at).map(|(_, c)| *c).unwrap_or(0);
        Err(self.err("MALFORMED_QUERY", col, "unexpected token: '<EOF>'"))
    }

    /// Parse the subquery between tokens `open` and `close` against `parent`.
    fn child(
        &self,
        parent: &'static SObject,
        position: usize,
        open: usize,
        close: usize,
    ) -> Result<ChildQuery, SoqlError> {
        let mut toks: Vec<(Tok, usize)> = self.toks[open + 1..close].to_vec();
        toks.push((Tok::End, self.toks[close].1));
        let mut p = Parser {
            text: self.text,
            toks,
            pos: 0,
            sobject: None,
            depth: self.depth + 1,
            parent: Some(parent),
            child_lookup: None,
        };
        let query = p.query()?;
        if matches!(query.select, Select::Count) {
            return Err(self.err(
                "MALFORMED_QUERY",
                self.toks[open].1,
                "COUNT() is not supported in a subquery",
            ));
        }
        let Some(lookup) = p.child_lookup else {
            return self.pos_err(open);
        };
        Ok(ChildQuery {
            position,
            rel: query.sobject.label_plural,
            lookup,
            query,
        })
    }

    fn count_arg(&mut self) -> Result<usize, SoqlError> {
        match self.peek().clone() {
            Tok::Num(n) => match n.parse::<usize>() {
                Ok(v) => {
                    self.pos += 1;
                    Ok(v)
                }
                Err(_) => Err(self.unexpected()),
            },
            _ => Err(self.unexpected()),
        }
    }

    fn or_expr(&mut self) -> Result<Expr, SoqlError> {
        let mut left = self.and_expr()?;
        while self.is_kw("OR") {
            self.pos += 1;
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, SoqlError> {
        let mut left = self.unary()?;
        while self.is_kw("AND") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SoqlError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(
                "MALFORMED_QUERY",
                self.col(),
                "expression nested too deeply",
            ));
        }
        self.depth += 1;
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr, SoqlError> {
        if self.is_kw("NOT") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if matches!(self.peek(), Tok::Sym("(")) {
            self.pos += 1;
            let e = self.or_expr()?;
            self.expect_sym(")")?;
            return Ok(e);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, SoqlError> {
        let (name, col) = self.word()?;
        let field = self.resolve(&name, col)?;
        self.not_blob(&field, &name, col, "can not be filtered in query call")?;
        if self.is_kw("LIKE") {
            self.pos += 1;
            return match self.next() {
                Tok::Str(p) => Ok(Expr::Like(field, p)),
                _ => {
                    self.pos -= 1;
                    Err(self.unexpected())
                }
            };
        }
        let negated = self.is_kw("NOT");
        if negated {
            self.pos += 1;
        }
        if self.is_kw("IN") {
            self.pos += 1;
            self.expect_sym("(")?;
            let mut items = Vec::new();
            loop {
                items.push(self.literal(&field, col)?);
                if matches!(self.peek(), Tok::Sym(",")) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            self.expect_sym(")")?;
            return Ok(Expr::In(field, items, negated));
        }
        if negated {
            return Err(self.unexpected());
        }
        let op = match self.peek() {
            Tok::Sym("=") => Op::Eq,
            Tok::Sym("!=") | Tok::Sym("<>") => Op::Ne,
            Tok::Sym("<") => Op::Lt,
            Tok::Sym("<=") => Op::Le,
            Tok::Sym(">") => Op::Gt,
            Tok::Sym(">=") => Op::Ge,
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        let lit = self.literal(&field, col)?;
        Ok(Expr::Cmp(field, op, lit))
    }

    /// Blob fields are neither filterable nor sortable. Unverified for
    /// blobs: the wording is Salesforce's for other such fields (long
    /// text areas); the reference does not cover it.
    fn not_blob(
        &self,
        field: &FieldRef,
        name: &str,
        col: usize,
        what: &str,
    ) -> Result<(), SoqlError> {
        if field.kind() == Kind::Blob {
            return Err(self.err("INVALID_FIELD", col, &format!("field '{name}' {what}")));
        }
        Ok(())
    }

    /// A literal, type-checked against the field as Salesforce does.
    fn literal(&mut self, field: &FieldRef, field_col: usize) -> Result<Literal, SoqlError> {
        let lit = match self.peek().clone() {
            Tok::Str(s) => Literal::Str(s),
            Tok::Num(n) => match n.parse::<f64>() {
                Ok(v) => Literal::Num(v),
                Err(_) => Literal::Date(n),
            },
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => Literal::Null,
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            _ => return Err(self.unexpected()),
        };
        let wrong = |expected: &str, quoted: bool| {
            self.err(
                "INVALID_FIELD",
                field_col,
                &format!(
                    "value of filter criterion for field '{}' must be of type {expected} and should {}be enclosed in quotes",
                    field.name(),
                    if quoted { "" } else { "not " }
                ),
            )
        };
        let ok = match (field.kind(), &lit) {
            (_, Literal::Null) => true,
            (Kind::Number | Kind::Integer, Literal::Num(_)) => true,
            (Kind::Number, _) => return Err(wrong("double", false)),
            (Kind::Integer, _) => return Err(wrong("int", false)),
            (Kind::Boolean, Literal::Bool(_)) => true,
            (Kind::Boolean, _) => return Err(wrong("boolean", false)),
            (Kind::Date | Kind::DateTime, Literal::Date(_) | Literal::Num(_)) => true,
            (Kind::Date, _) => return Err(wrong("date", false)),
            (Kind::DateTime, _) => return Err(wrong("dateTime", false)),
            (_, Literal::Str(_)) => true,
            _ => return Err(wrong("string", true)),
        };
        debug_assert!(ok);
        self.pos += 1;
        Ok(lit)
    }
}

fn same_field(a: &FieldRef, b: &FieldRef) -> bool {
    match (a, b) {
        (FieldRef::Direct(x), FieldRef::Direct(y)) => x.name == y.name,
        (
            FieldRef::Related {
                rel: r1, field: f1, ..
            },
            FieldRef::Related {
                rel: r2, field: f2, ..
            },
        ) => r1 == r2 && f1.name == f2.name,
        _ => false,
    }
}

fn is_reserved(w: &str) -> bool {
    const RESERVED: [&str; 14] = [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "ORDER", "BY", "LIMIT", "OFFSET", "LIKE",
        "IN", "NULLS", "GROUP",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w))
}

pub(crate) fn parse(q: &str) -> Result<Query, SoqlError> {
    let trimmed = q.trim();
    let lexer = lex(trimmed).map_err(|(reason, col)| SoqlError {
        code: "MALFORMED_QUERY",
        message: located(trimmed, col, &reason),
    })?;
    let mut p = Parser {
        text: trimmed,
        toks: lexer.toks,
        pos: 0,
        sobject: None,
        depth: 0,
        parent: None,
        child_lookup: None,
    };
    p.query()
}

impl Expr {
    pub(crate) fn matches(&self, store: &Store, rec: &Record) -> bool {
        match self {
            Expr::And(a, b) => a.matches(store, rec) && b.matches(store, rec),
            Expr::Or(a, b) => a.matches(store, rec) || b.matches(store, rec),
            Expr::Not(e) => !e.matches(store, rec),
            Expr::Cmp(f, op, lit) => compare_lit(&f.value(store, rec), *op, lit),
            Expr::Like(f, pattern) => match f.value(store, rec) {
                Value::String(s) => like(&s, pattern),
                _ => false,
            },
            Expr::In(f, items, negated) => {
                let v = f.value(store, rec);
                items.iter().any(|l| compare_lit(&v, Op::Eq, l)) != *negated
            }
        }
    }
}

fn compare_lit(v: &Value, op: Op, lit: &Literal) -> bool {
    let ord = match (v, lit) {
        (Value::Null, Literal::Null) => Some(Ordering::Equal),
        (_, Literal::Null) | (Value::Null, _) => None,
        (Value::Number(n), Literal::Num(l)) => n.as_f64().and_then(|x| x.partial_cmp(l)),
        (Value::Bool(b), Literal::Bool(l)) => Some(b.cmp(l)),
        (Value::String(s), Literal::Str(l)) => Some(s.to_lowercase().cmp(&l.to_lowercase())),
        (Value::String(s), Literal::Date(l)) => Some(date_key(s).cmp(date_key(l))),
        _ => None,
    };
    match (op, ord) {
        (Op::Eq, Some(o)) => o == Ordering::Equal,
        // A null field is "not equal" to any non-null value, as in SOQL.
        (Op::Ne, Some(o)) => o != Ordering::Equal,
        (Op::Ne, None) => true,
        (Op::Lt, Some(o)) => o == Ordering::Less,
        (Op::Le, Some(o)) => o != Ordering::Greater,
        (Op::Gt, Some(o)) => o == Ordering::Greater,
        (Op::Ge, Some(o)) => o != Ordering::Less,
        _ => false,
    }
}

/// Dates and datetimes compare on `YYYY-MM-DDTHH:MM:SS`, ignoring zone suffixes.
fn date_key(s: &str) -> &str {
    s.get(..19).unwrap_or(s)
}

/// SOQL LIKE: `%` any run, `_` one character, backslash escapes, case-insensitive.
pub(crate) fn like(value: &str, pattern: &str) -> bool {
    enum P {
        Any,
        One,
        Ch(char),
    }
    let mut pat = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        pat.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Ch(it.next().unwrap_or('\\')),
            c => P::Ch(c),
        });
    }
    let text: Vec<char> = value.to_lowercase().chars().collect();
    let lower = |c: char| c.to_lowercase().next().unwrap_or(c);
    // Classic wildcard matching with one backtrack point.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(P::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(P::One) => {
                t += 1;
                p += 1;
            }
            Some(P::Ch(c)) if lower(*c) == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|x| matches!(x, P::Any))
}

/// Ordering for ORDER BY: strings case-insensitively, numbers numerically.
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards() {
        assert!(like("Acme 0001", "acme%"));
        assert!(like("Acme 0001", "%00_1"));
        assert!(!like("Acme 0001", "acme"));
        assert!(like("100%", "100\\%"));
        assert!(!like("1000", "100\\%"));
    }

    #[test]
    fn errors_point_at_the_column() {
        let e = parse("SELECT Id FRM Account").err().map(|e| e.message);
        assert!(e.is_some_and(|m| m.contains("Column:11") && m.contains("unexpected token: 'FRM'")));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let q = format!(
            "SELECT Id FROM Account WHERE {}Name = 'x'{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert!(parse(&q).err().is_some_and(|e| e.code == "MALFORMED_QUERY"));
    }
}
