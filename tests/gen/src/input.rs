//! Inputs: JSON text for a policy's input type.

use crate::model::Ty;
use crate::{Gen, pools};

impl Gen<'_, '_> {
    /// JSON for a value of `ty`: mostly valid, with edge values; now and
    /// then malformed (which must give a deny carrying the problem).
    pub(crate) fn input_json(&mut self, ty: &Ty) -> String {
        if self.chance(1, 25) {
            self.hit("input_invalid");
            return self
                .pick(&[
                    "{}",
                    "null",
                    "[1]",
                    "\"text\"",
                    "{",
                    "{\"unknown\": 1}",
                    "1e999",
                    "",
                ])
                .to_string();
        }
        self.json(ty, 0)
    }

    /// Valid JSON for a value of `ty`.
    pub(crate) fn json_value(&mut self, ty: &Ty) -> String {
        self.json(ty, 0)
    }

    fn json(&mut self, ty: &Ty, depth: u32) -> String {
        match ty {
            Ty::Bool => if self.chance(1, 2) { "true" } else { "false" }.into(),
            Ty::Int => {
                let n = if self.chance(1, 3) {
                    self.range(0, 200) as i64 - 100
                } else {
                    self.pick(pools::INTS)
                };
                if n == i64::MAX || n == i64::MIN {
                    self.hit("input_extreme_int");
                }
                n.to_string()
            }
            Ty::Float => {
                if self.chance(1, 5) {
                    // An integer where a float is expected.
                    self.pick(pools::INTS).to_string()
                } else {
                    format!("{:?}", self.pick(pools::FLOATS))
                }
            }
            Ty::Str => {
                let s = match self.below(4) {
                    0 => self.pick(pools::URLS),
                    1 => self.pick(pools::KEYS),
                    _ => self.pick(pools::STRINGS),
                };
                if !s.is_ascii() {
                    self.hit("input_unicode");
                }
                json_string(s)
            }
            Ty::Duration => {
                let d = self.pick(pools::DURATIONS);
                if d == "0s" {
                    self.hit("input_zero_duration");
                }
                json_string(d)
            }
            Ty::Timestamp => json_string(self.pick(pools::TIMESTAMPS)),
            Ty::Enum(e) => {
                let v = self.pick(&self.m.enums[*e].variants.clone());
                json_string(&v)
            }
            Ty::Finding => {
                let kind = self.pick(&["email", "match", "", "jwt"]);
                let start = self.pick(&[0i64, 1, 5, -1, i64::MAX, i64::MIN]);
                let end = self.pick(&[0i64, 3, 11, 100, i64::MAX]);
                let text = self.pick(pools::STRINGS);
                format!(
                    "{{\"kind\": {}, \"start\": {start}, \"end\": {end}, \"text\": {}}}",
                    json_string(kind),
                    json_string(text)
                )
            }
            Ty::Schema(s) => {
                let fields = self.m.schemas[*s].fields.clone();
                let mut parts = Vec::new();
                for f in &fields {
                    if let Ty::Opt(inner) = &f.ty {
                        match if depth > 2 { 0 } else { self.below(4) } {
                            0 => {
                                self.hit("input_absent_optional");
                                continue;
                            }
                            1 => {
                                self.hit("input_null_optional");
                                parts.push(format!("{}: null", json_string(&f.name)));
                                continue;
                            }
                            _ => {
                                let v = self.json(inner, depth + 1);
                                parts.push(format!("{}: {v}", json_string(&f.name)));
                                continue;
                            }
                        }
                    }
                    let v = self.json(&f.ty, depth + 1);
                    parts.push(format!("{}: {v}", json_string(&f.name)));
                }
                if self.chance(1, 10) {
                    parts.push("\"not_a_field\": [1, {\"x\": null}]".to_string());
                }
                format!("{{{}}}", parts.join(", "))
            }
            Ty::List(t) | Ty::Set(t) => {
                let n = if depth > 3 { 0 } else { self.range(0, 4) };
                if n == 0 {
                    self.hit("input_empty_collection");
                }
                let items: Vec<String> = (0..n).map(|_| self.json(t, depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            Ty::Map(t) => {
                let n = if depth > 3 { 0 } else { self.range(0, 3) };
                if n == 0 {
                    self.hit("input_empty_collection");
                }
                let mut keys: Vec<&str> = Vec::new();
                let mut parts = Vec::new();
                for _ in 0..n {
                    let k = self.pick(pools::KEYS);
                    if keys.contains(&k) {
                        continue;
                    }
                    keys.push(k);
                    let v = self.json(t, depth + 1);
                    parts.push(format!("{}: {v}", json_string(k)));
                }
                format!("{{{}}}", parts.join(", "))
            }
            Ty::Opt(t) => {
                if depth > 2 || self.chance(1, 3) {
                    self.hit("input_null_optional");
                    "null".into()
                } else {
                    self.json(t, depth)
                }
            }
            // Never an input.
            Ty::Decision | Ty::ValueDecision(_) => "null".into(),
        }
    }
}

/// A JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
