//! The `select` statement, read by recursive descent into REST find parameters.

use super::lexer::{Tok, tokens};
use super::{CqlQuery, MAX_CQL_BYTES, MAX_CQL_DEPTH, SyntaxError, syntax_error};
use leancloud::LcError;
use serde_json::{Map, Value, json};

/// Compile a CQL `select` with its placeholder values (`pvalues`, in order) into the
/// find it stands for. `now_ms` is what `current_timestamp()` reads (the app's clock).
pub fn compile(cql: &str, pvalues: &[Value], now_ms: i64) -> Result<CqlQuery, LcError> {
    if cql.len() > MAX_CQL_BYTES {
        let at = super::char_floor(cql, MAX_CQL_BYTES);
        let detail = format!("A statement is at most {MAX_CQL_BYTES} bytes.");
        return Err(syntax_error(at, detail).into_error(cql));
    }
    let parse = || {
        let mut p = Parser {
            toks: tokens(cql)?,
            pos: 0,
            pvalues,
            placeholders: 0,
            now_ms,
            depth: 0,
        };
        p.select()
    };
    parse().map_err(|e| e.into_error(cql))
}

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    pvalues: &'a [Value],
    /// How many `?` were read so far.
    placeholders: usize,
    now_ms: i64,
    depth: usize,
}

/// A subquery: `select <key>|* from C [where …] [limit …]`.
struct Subquery {
    key: Option<String>,
    query: Map<String, Value>,
}

impl Parser<'_> {
    // ---- tokens -------------------------------------------------------------------------

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        let i = (self.pos + ahead).min(self.toks.len() - 1);
        &self.toks[i].0
    }

    fn offset(&self) -> usize {
        self.toks[self.pos].1
    }

    fn bump(&mut self) -> Tok {
        let tok = self.toks[self.pos].0.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        tok
    }

    fn is_kw(tok: &Tok, kw: &str) -> bool {
        matches!(tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    /// Consume keyword `kw` if it is next.
    fn kw(&mut self, kw: &str) -> bool {
        let hit = Self::is_kw(self.peek(), kw);
        if hit {
            self.bump();
        }
        hit
    }

    fn sym(&mut self, sym: &str) -> bool {
        let hit = matches!(self.peek(), Tok::Sym(s) if *s == sym);
        if hit {
            self.bump();
        }
        hit
    }

    /// What the statement could have said here, instead of what it says.
    fn expected(&self, alternatives: &[&str]) -> SyntaxError {
        SyntaxError {
            at: self.offset(),
            expected: alternatives.iter().map(|a| a.to_string()).collect(),
            reason: None,
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SyntaxError> {
        if self.kw(kw) {
            Ok(())
        } else {
            Err(self.expected(&[kw]))
        }
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), SyntaxError> {
        if self.sym(sym) {
            Ok(())
        } else {
            Err(self.expected(&[sym]))
        }
    }

    /// A class name or a key (dotted paths included).
    fn name(&mut self, what: &[&str]) -> Result<String, SyntaxError> {
        match self.peek() {
            Tok::Ident(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn deeper(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_CQL_DEPTH {
            return Err(syntax_error(
                self.offset(),
                format!("nested deeper than {MAX_CQL_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    // ---- statements ---------------------------------------------------------------------

    fn select(&mut self) -> Result<CqlQuery, SyntaxError> {
        if ["insert", "update", "delete"]
            .iter()
            .any(|kw| Self::is_kw(self.peek(), kw))
        {
            return Err(syntax_error(
                self.offset(),
                "the emulator serves select statements only",
            ));
        }
        self.expect_kw("select")?;
        let (mut star, mut count) = (false, false);
        let (mut keys, mut include) = (Vec::new(), Vec::new());
        loop {
            if self.sym("*") {
                star = true;
            } else if self.kw("include") {
                include.push(self.name(&["a key to include"])?);
            } else if Self::is_kw(self.peek(), "count") && matches!(self.peek_at(1), Tok::Sym("("))
            {
                self.bump();
                self.bump();
                if !(self.sym("*") || self.kw("objectId")) {
                    return Err(self.expected(&["*", "objectId"]));
                }
                self.expect_sym(")")?;
                count = true;
            } else {
                keys.push(self.name(&["*", "include", "count(*)", "a column"])?);
            }
            if !self.sym(",") {
                break;
            }
        }
        if !self.kw("from") {
            return Err(self.expected(&["from", ","]));
        }
        let class = self.name(&["a class name"])?;
        let mut params = Map::new();
        if self.kw("where") {
            params.insert("where".into(), self.expr()?);
        }
        self.limit(&mut params)?;
        if self.kw("order") {
            self.expect_kw("by")?;
            params.insert("order".into(), Value::String(self.order()?));
        }
        if *self.peek() != Tok::End {
            return Err(self.expected(&["where", "limit", "order by", "the end of the statement"]));
        }
        if count {
            params.insert("count".into(), Value::Bool(true));
            if !star && keys.is_empty() && include.is_empty() {
                // `select count(*) from C`: the count alone.
                params.insert("limit".into(), json!(0));
            }
        }
        if !star && !keys.is_empty() {
            params.insert("keys".into(), Value::String(keys.join(",")));
        }
        if !include.is_empty() {
            params.insert("include".into(), Value::String(include.join(",")));
        }
        Ok(CqlQuery { class, params })
    }

    /// `limit n` or `limit skip, n`, either of them a placeholder.
    fn limit(&mut self, params: &mut Map<String, Value>) -> Result<(), SyntaxError> {
        if !self.kw("limit") {
            return Ok(());
        }
        let first = self.count_value()?;
        if self.sym(",") {
            let second = self.count_value()?;
            params.insert("skip".into(), json!(first));
            params.insert("limit".into(), json!(second));
        } else {
            params.insert("limit".into(), json!(first));
        }
        Ok(())
    }

    fn count_value(&mut self) -> Result<u64, SyntaxError> {
        let at = self.offset();
        let v = self.value()?;
        v.as_u64()
            .ok_or_else(|| syntax_error(at, format!("expected a whole number, found {v}")))
    }

    /// `k1, -k2, +k3 [asc|desc]`: a key without a sign takes the final direction.
    fn order(&mut self) -> Result<String, SyntaxError> {
        let mut keys: Vec<(Option<bool>, String)> = Vec::new();
        loop {
            let descending = if self.sym("-") {
                Some(true)
            } else if self.sym("+") {
                Some(false)
            } else {
                None
            };
            keys.push((descending, self.name(&["a key to order by"])?));
            if !self.sym(",") {
                break;
            }
        }
        let default_desc = if self.kw("desc") {
            true
        } else {
            self.kw("asc");
            false
        };
        Ok(keys
            .into_iter()
            .map(|(d, k)| {
                if d.unwrap_or(default_desc) {
                    format!("-{k}")
                } else {
                    k
                }
            })
            .collect::<Vec<_>>()
            .join(","))
    }

    // ---- conditions ---------------------------------------------------------------------

    fn expr(&mut self) -> Result<Value, SyntaxError> {
        let mut parts = vec![self.conjunction()?];
        while self.kw("or") {
            parts.push(self.conjunction()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or_default()
        } else {
            json!({ "$or": parts })
        })
    }

    fn conjunction(&mut self) -> Result<Value, SyntaxError> {
        let mut parts = vec![self.unary()?];
        while self.kw("and") {
            parts.push(self.unary()?);
        }
        Ok(merge_and(parts))
    }

    fn unary(&mut self) -> Result<Value, SyntaxError> {
        if self.sym("(") {
            self.deeper()?;
            let e = self.expr()?;
            self.expect_sym(")")?;
            self.depth -= 1;
            return Ok(e);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Value, SyntaxError> {
        if self.kw("related") {
            let key = self.name(&["a relation key"])?;
            self.expect_kw("to")?;
            let object = self.value()?;
            return Ok(json!({"$relatedTo": {"object": object, "key": key}}));
        }
        if Self::is_kw(self.peek(), "size") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.bump();
            self.bump();
            let key = self.name(&["an array key"])?;
            self.expect_sym(")")?;
            self.expect_sym("=")?;
            let n = self.value()?;
            return Ok(field(key, json!({ "$size": n })));
        }
        let key = self.name(&["related", "size(", "a key"])?;
        let negated = self.kw("not");
        let cond = match self.peek().clone() {
            Tok::Sym(op @ ("=" | "!=" | "<>")) if !negated => {
                self.bump();
                let equal = op == "=";
                if self.starts_subquery() {
                    self.bump();
                    let sub = self.subquery()?;
                    self.expect_sym(")")?;
                    sub.condition(equal)
                } else {
                    let v = self.value()?;
                    if equal { v } else { json!({ "$ne": v }) }
                }
            }
            Tok::Sym(op @ ("<" | "<=" | ">" | ">=")) if !negated => {
                self.bump();
                let name = match op {
                    "<" => "$lt",
                    "<=" => "$lte",
                    ">" => "$gt",
                    _ => "$gte",
                };
                json!({ name: self.value()? })
            }
            t if Self::is_kw(&t, "like") || Self::is_kw(&t, "regexp") => {
                self.bump();
                let at = self.offset();
                let pattern = match self.value()? {
                    Value::String(s) => s,
                    other => {
                        return Err(syntax_error(
                            at,
                            format!("expected a pattern string, found {other}"),
                        ));
                    }
                };
                let regex = if Self::is_kw(&t, "like") {
                    like_to_regex(&pattern)
                } else {
                    pattern
                };
                if negated {
                    json!({"$not": {"$regex": regex}})
                } else {
                    json!({ "$regex": regex })
                }
            }
            t if Self::is_kw(&t, "in") => {
                self.bump();
                self.expect_sym("(")?;
                let cond = if Self::is_kw(self.peek(), "select") {
                    self.subquery()?.condition(!negated)
                } else {
                    let list = self.values_until(")")?;
                    json!({ if negated { "$nin" } else { "$in" }: list })
                };
                self.expect_sym(")")?;
                cond
            }
            t if Self::is_kw(&t, "is") && !negated => {
                self.bump();
                let not = self.kw("not");
                self.expect_kw("exists")?;
                json!({ "$exists": !not })
            }
            t if Self::is_kw(&t, "all") && !negated => {
                self.bump();
                self.expect_sym("(")?;
                let list = self.values_until(")")?;
                self.expect_sym(")")?;
                json!({ "$all": list })
            }
            t if Self::is_kw(&t, "near") && !negated => {
                self.bump();
                self.near()?
            }
            t if Self::is_kw(&t, "within") && !negated => {
                self.bump();
                let south_west = self.geo()?;
                self.expect_kw("and")?;
                let north_east = self.geo()?;
                json!({"$within": {"$box": [south_west, north_east]}})
            }
            _ if negated => return Err(self.expected(&["like", "regexp", "in"])),
            _ => {
                return Err(self.expected(&[
                    "=", "!=", "<>", "<", "<=", ">", ">=", "like", "regexp", "in", "not", "is",
                    "all", "near", "within",
                ]));
            }
        };
        Ok(field(key, cond))
    }

    fn starts_subquery(&self) -> bool {
        matches!(self.peek(), Tok::Sym("(")) && Self::is_kw(self.peek_at(1), "select")
    }

    /// After `(`: `select <key>|* from C [where …] [limit …]`; the caller reads `)`.
    fn subquery(&mut self) -> Result<Subquery, SyntaxError> {
        self.deeper()?;
        self.expect_kw("select")?;
        let key = if self.sym("*") {
            None
        } else {
            Some(self.name(&["*", "the key to select"])?)
        };
        self.expect_kw("from")?;
        let class = self.name(&["a class name"])?;
        let mut query = Map::new();
        query.insert("className".into(), Value::String(class));
        if self.kw("where") {
            query.insert("where".into(), self.expr()?);
        }
        self.limit(&mut query)?;
        self.depth -= 1;
        Ok(Subquery { key, query })
    }

    /// After `near`: a point, then `min d [unit]` and `max d [unit]` in that order.
    fn near(&mut self) -> Result<Value, SyntaxError> {
        let mut cond = Map::new();
        cond.insert("$nearSphere".into(), self.geo()?);
        for bound in ["min", "max"] {
            if self.kw(bound) {
                let d = self.number()?;
                let unit = if self.kw("km") {
                    "Kilometers"
                } else if self.kw("miles") {
                    "Miles"
                } else {
                    // No unit is radians (the CQL guide).
                    self.kw("radians");
                    "Radians"
                };
                cond.insert(format!("${bound}DistanceIn{unit}"), d);
            }
        }
        Ok(Value::Object(cond))
    }

    // ---- values -------------------------------------------------------------------------

    fn values_until(&mut self, close: &str) -> Result<Vec<Value>, SyntaxError> {
        let mut list = Vec::new();
        if matches!(self.peek(), Tok::Sym(s) if *s == close) {
            return Ok(list);
        }
        loop {
            list.push(self.value()?);
            if !self.sym(",") {
                return Ok(list);
            }
        }
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let at = self.offset();
        let v = self.value()?;
        if v.is_number() {
            Ok(v)
        } else {
            Err(syntax_error(at, format!("expected a number, found {v}")))
        }
    }

    /// A point: `[lng, lat]`, `geopoint(lng, lat)` or a placeholder holding a GeoPoint.
    fn geo(&mut self) -> Result<Value, SyntaxError> {
        let at = self.offset();
        if self.sym("[") {
            let lng = self.number()?;
            self.expect_sym(",")?;
            let lat = self.number()?;
            self.expect_sym("]")?;
            return Ok(geopoint(lat, lng));
        }
        let v = self.value()?;
        if v.get("__type").and_then(Value::as_str) == Some("GeoPoint") {
            Ok(v)
        } else {
            Err(syntax_error(at, format!("expected a geopoint, found {v}")))
        }
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        let at = self.offset();
        match self.bump() {
            Tok::Str(s) => Ok(Value::String(s)),
            Tok::Num(n) => number(&n, false, at),
            Tok::Sym("-") => match self.bump() {
                Tok::Num(n) => number(&n, true, at),
                _ => Err(syntax_error(at, "expected a number after '-'")),
            },
            Tok::Sym("+") => match self.bump() {
                Tok::Num(n) => number(&n, false, at),
                _ => Err(syntax_error(at, "expected a number after '+'")),
            },
            Tok::Sym("?") => self.placeholder(at),
            Tok::Sym("[") => {
                self.deeper()?;
                let list = self.values_until("]")?;
                self.expect_sym("]")?;
                self.depth -= 1;
                Ok(Value::Array(list))
            }
            Tok::Sym("{") => {
                self.deeper()?;
                let obj = self.object()?;
                self.depth -= 1;
                Ok(obj)
            }
            Tok::Ident(word) => self.word(&word, at),
            other => Err(syntax_error(
                at,
                format!("expected a value, found {}", other.describe()),
            )),
        }
    }

    fn placeholder(&mut self, at: usize) -> Result<Value, SyntaxError> {
        let n = self.placeholders;
        self.placeholders += 1;
        self.pvalues.get(n).cloned().ok_or_else(|| {
            syntax_error(
                at,
                format!(
                    "placeholder {} has no value (pvalues holds {})",
                    n + 1,
                    self.pvalues.len()
                ),
            )
        })
    }

    /// `true`, `false`, `null`, or a function call.
    fn word(&mut self, word: &str, at: usize) -> Result<Value, SyntaxError> {
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            "null" => return Ok(Value::Null),
            _ => {}
        }
        if !self.sym("(") {
            return Err(syntax_error(
                at,
                format!("expected a value, found '{word}'"),
            ));
        }
        let args = self.values_until(")")?;
        self.expect_sym(")")?;
        let string = |i: usize| args.get(i).and_then(Value::as_str);
        let bad = |usage: &str| syntax_error(at, format!("{word}() takes {usage}"));
        match (lower.as_str(), args.len()) {
            ("date", 1) => {
                let iso = string(0).ok_or_else(|| bad("a date string"))?;
                let date = leancloud::value::Date::from_iso(iso)
                    .ok_or_else(|| bad("a date as YYYY-MM-DDTHH:MM:SS.MMMZ"))?;
                Ok(date.to_json())
            }
            ("pointer", 2) => match (string(0), string(1)) {
                (Some(class), Some(id)) => Ok(leancloud::value::Pointer::new(class, id).to_json()),
                _ => Err(bad("a class name and an objectId")),
            },
            ("geopoint", 2) if args.iter().all(Value::is_number) => {
                Ok(geopoint(args[1].clone(), args[0].clone()))
            }
            ("geopoint", _) => Err(bad("a longitude and a latitude")),
            ("file", 1) => {
                let id = string(0).ok_or_else(|| bad("a file's objectId"))?;
                Ok(leancloud::value::File::reference(id).to_json())
            }
            ("base64", 1) => {
                let text = string(0).ok_or_else(|| bad("a base64 string"))?;
                Ok(leancloud::value::Bytes::new(text).to_json())
            }
            ("current_timestamp", 0) => Ok(leancloud::value::Date::from_ms(self.now_ms).to_json()),
            ("date" | "pointer" | "file" | "base64" | "current_timestamp", _) => {
                Err(bad("other arguments"))
            }
            _ => Err(syntax_error(at, format!("unknown function '{word}'"))),
        }
    }

    /// After `{`: a JSON object whose keys may be bare names and strings in either quote.
    fn object(&mut self) -> Result<Value, SyntaxError> {
        let mut map = Map::new();
        if self.sym("}") {
            return Ok(Value::Object(map));
        }
        loop {
            let key = match self.bump() {
                Tok::Ident(k) | Tok::Str(k) => k,
                other => {
                    self.pos -= 1;
                    return Err(syntax_error(
                        self.offset(),
                        format!("expected a key, found {}", other.describe()),
                    ));
                }
            };
            self.expect_sym(":")?;
            map.insert(key, self.value()?);
            if !self.sym(",") {
                break;
            }
        }
        self.expect_sym("}")?;
        Ok(Value::Object(map))
    }
}

impl Subquery {
    /// `in`/`=` a subquery (or `not in`/`!=`, when `inside` is false): with a key, the
    /// values of that key (`$select`); with `*`, pointers to the rows (`$inQuery`).
    fn condition(self, inside: bool) -> Value {
        match self.key {
            Some(key) => {
                let op = if inside { "$select" } else { "$dontSelect" };
                json!({ op: {"query": Value::Object(self.query), "key": key} })
            }
            None => {
                let op = if inside { "$inQuery" } else { "$notInQuery" };
                json!({ op: Value::Object(self.query) })
            }
        }
    }
}

fn field(key: String, cond: Value) -> Value {
    if key.starts_with('$') {
        return cond;
    }
    let mut m = Map::new();
    m.insert(key, cond);
    Value::Object(m)
}

fn geopoint(lat: Value, lng: Value) -> Value {
    json!({"__type": "GeoPoint", "latitude": lat, "longitude": lng})
}

fn number(text: &str, negative: bool, at: usize) -> Result<Value, SyntaxError> {
    let signed = if negative {
        format!("-{text}")
    } else {
        text.to_string()
    };
    if let Ok(i) = signed.parse::<i64>() {
        return Ok(json!(i));
    }
    signed
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| syntax_error(at, format!("'{signed}' is not a number")))
}

/// SQL's `like`: `%` any run, `_` any one character, the rest literal, the whole value.
fn like_to_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    for ch in pattern.chars() {
        match ch {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            c if "\\.+*?()|[]{}^$#&-~".contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('$');
    out
}

/// The conditions of an `and` as one `where` object when their keys and operators do
/// not collide (as a client would write it), else `{"$and": [...]}`.
fn merge_and(mut parts: Vec<Value>) -> Value {
    if parts.len() == 1 {
        return parts.pop().unwrap_or_default();
    }
    let operators = |v: &Value| {
        v.as_object()
            .is_some_and(|m| !m.is_empty() && m.keys().all(|k| k.starts_with('$')))
    };
    let mut merged = Map::new();
    for part in &parts {
        let Some(conds) = part.as_object() else {
            return json!({ "$and": parts });
        };
        for (key, cond) in conds {
            match merged.get_mut(key) {
                None => {
                    merged.insert(key.clone(), cond.clone());
                }
                Some(Value::Object(existing))
                    if !key.starts_with('$')
                        && operators(cond)
                        && cond
                            .as_object()
                            .is_some_and(|c| c.keys().all(|k| !existing.contains_key(k)))
                        && existing.keys().all(|k| k.starts_with('$')) =>
                {
                    if let Some(c) = cond.as_object() {
                        existing.extend(c.clone());
                    }
                }
                Some(_) => return json!({ "$and": parts }),
            }
        }
    }
    Value::Object(merged)
}
