//! Top-level items: packages, files, enums, schemas, params, lets and
//! policies, and the printed files.

use crate::model::{
    Cx, EnumDef, Field, FileInfo, Kind, LetDef, Local, ParamDef, PolicyDef, SchemaDef, Strings, Ty,
};
use crate::{Gen, Generated, pools};

/// `2026-01-01T00:00:00Z`, the usual request time.
const NOW_2026: i64 = 1_767_225_600_000_000_000;

/// Alert severities.
const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];

/// Names for policy inputs (never used for anything else).
const INPUT_NAMES: &[&str] = &["req", "call", "inp", "msg", "doc", "turn"];

/// Package paths: (library, application).
const PACKAGES: &[(&str, &str)] = &[
    ("gen.lib", "gen.app"),
    ("acme.shared", "acme.gateway"),
    ("corp.base.types", "corp.agent"),
];

impl Gen<'_, '_> {
    /// Generates the whole program and its cases.
    pub(crate) fn program(&mut self) {
        let (lib, app) = self.pick(PACKAGES);
        let two = self.chance(4, 5);
        self.m.packages.push(lib.to_string());
        let lib_files = if self.chance(1, 4) { 2 } else { 1 };
        for i in 0..lib_files {
            let name = if i == 0 {
                "lib.pol".to_string()
            } else {
                "lib_more.pol".to_string()
            };
            let file = self.file(name, 0);
            self.m.files.push(file);
        }
        if lib_files == 2 {
            self.hit("package_in_two_files");
        }
        if two {
            self.hit("two_packages");
            self.m.packages.push(app.to_string());
            let mut file = self.file("app.pol".to_string(), 1);
            let last = lib.rsplit('.').next().unwrap_or("lib").to_string();
            file.lib_alias = Some(if self.chance(1, 4) {
                self.hit("import_alias");
                ("base".to_string(), true)
            } else {
                (last, false)
            });
            self.m.files.push(file);
        }
        let packages = self.m.packages.len();

        // Types first: enums, then schemas (a schema uses earlier ones).
        for pkg in 0..packages {
            let n = if pkg == 0 {
                self.range(1, 3)
            } else {
                self.range(0, 1)
            };
            for _ in 0..n {
                self.enum_item(pkg);
            }
        }
        for pkg in 0..packages {
            let n = if pkg == 0 {
                self.range(1, 4)
            } else {
                self.range(0, 2)
            };
            for _ in 0..n {
                self.schema_item(pkg);
            }
        }
        for pkg in 0..packages {
            let n = self.range(1, 4);
            for _ in 0..n {
                self.param_item(pkg);
            }
        }
        for pkg in 0..packages {
            let n = self.range(0, 3);
            for _ in 0..n {
                self.let_item(pkg, 0);
            }
        }
        if packages == 2 && self.chance(1, 3) {
            self.param_override();
        }
        for pkg in 0..packages {
            let n = if pkg == 0 {
                self.range(1, 3)
            } else {
                self.range(1, 4)
            };
            for _ in 0..n {
                if !self.m.policies.is_empty() && self.chance(1, 4) {
                    // A let that may call the policies before it; only the
                    // policies after it may use it, so nothing recurses.
                    let before = self.m.policies.len();
                    self.let_item(pkg, before);
                }
                self.policy_item(pkg);
            }
        }

        self.now = match self.below(8) {
            0 => 0,
            1 => 1_700_000_000_123_456_789,
            2 => 9_000_000_000_000_000_000,
            3 => -1_500_000_000,
            _ => NOW_2026,
        };
        if self.chance(1, 4) {
            self.host_params();
        }
        for j in 0..self.m.policies.len() {
            let p = self.m.policies[j].clone();
            let entry = format!("{}.{}", self.m.packages[p.pkg], p.name);
            let n = self.range(1, 3);
            for _ in 0..n {
                let json = self.input_json(&p.input);
                self.cases.push((entry.clone(), json));
            }
        }
    }

    pub(crate) fn finish(self) -> Generated {
        let mut files = Vec::new();
        for f in &self.m.files {
            let mut text = String::new();
            text.push_str(&format!("package {}\n\n", self.m.packages[f.pkg]));
            for (module, alias, with_as) in &f.modules {
                if *with_as {
                    text.push_str(&format!("import {module} as {alias}\n"));
                } else {
                    text.push_str(&format!("import {module}\n"));
                }
            }
            if let Some((alias, with_as)) = &f.lib_alias {
                if *with_as {
                    text.push_str(&format!("import {} as {alias}\n", self.m.packages[0]));
                } else {
                    text.push_str(&format!("import {}\n", self.m.packages[0]));
                }
            }
            for item in &f.items {
                text.push('\n');
                text.push_str(item);
                text.push('\n');
            }
            files.push((f.name.clone(), text));
        }
        Generated {
            files,
            cases: self.cases,
            now: self.now,
            params: self.params,
            coverage: self.stats,
        }
    }

    /// Param values as a host would set them at load time.
    fn host_params(&mut self) {
        let mut parts = Vec::new();
        for i in 0..self.m.params.len() {
            if !self.chance(1, 2) {
                continue;
            }
            let p = self.m.params[i].clone();
            let value = match (&p.ty, p.strings) {
                (Ty::List(_) | Ty::Set(_), Strings::Regexes | Strings::Globs | Strings::Hosts) => {
                    let pool = match p.strings {
                        Strings::Regexes => pools::REGEXES,
                        Strings::Globs => pools::GLOBS,
                        _ => pools::HOSTS,
                    };
                    let n = self.range(0, 3);
                    let items: Vec<String> = (0..n)
                        .map(|_| crate::input::json_string(self.pick(pool)))
                        .collect();
                    format!("[{}]", items.join(", "))
                }
                (Ty::Str, Strings::Regexes) => crate::input::json_string(self.pick(pools::REGEXES)),
                (ty, _) => self.json_value(ty),
            };
            let name = format!("{}.{}", self.m.packages[p.pkg], p.name);
            parts.push(format!("{}: {value}", crate::input::json_string(&name)));
        }
        self.hit("host_params");
        self.params = Some(format!("{{{}}}", parts.join(", ")));
    }

    fn file(&mut self, name: String, pkg: usize) -> FileInfo {
        let mut modules = Vec::new();
        for m in pol_ir::builtins::NATIVE_MODULES {
            let last = m.rsplit('.').next().unwrap_or(m);
            if self.chance(1, 8) {
                self.hit("module_alias");
                modules.push((*m, format!("m_{last}"), true));
            } else {
                modules.push((*m, last.to_string(), false));
            }
        }
        FileInfo {
            name,
            pkg,
            modules,
            lib_alias: None,
            items: Vec::new(),
        }
    }

    /// A file of package `pkg` to put an item into.
    fn file_of(&mut self, pkg: usize) -> usize {
        let files: Vec<usize> = (0..self.m.files.len())
            .filter(|&i| self.m.files[i].pkg == pkg)
            .collect();
        files[self.below(files.len())]
    }

    fn doc(&mut self, indent: &str) -> String {
        if self.chance(1, 5) {
            self.hit("doc_comment");
            let text = self.pick(&["Generated.", "A doc comment.", "Ünïcode doc — with `code`."]);
            format!("{indent}/// {text}\n")
        } else if self.chance(1, 10) {
            format!("{indent}// a plain comment\n")
        } else {
            String::new()
        }
    }

    fn push_item(&mut self, file: usize, text: String) {
        self.m.files[file].items.push(text);
    }

    fn base_cx(&self, file: usize, pkg: usize) -> Cx {
        Cx {
            file,
            pkg,
            locals: Vec::new(),
            now: true,
            lets_before: self.m.lets.len(),
            params: true,
            policies_before: 0,
            literal_only: false,
            paths: None,
        }
    }

    // ------------------------------------------------------------ types

    fn enum_item(&mut self, pkg: usize) {
        let file = self.file_of(pkg);
        let name = self.fresh("E");
        let n = self.range(1, 5);
        let mut variants: Vec<String> = Vec::new();
        for _ in 0..n {
            let v = self.pick(pools::VARIANTS).to_string();
            if !variants.contains(&v) {
                variants.push(v);
            }
        }
        self.hit("enum");
        let doc = self.doc("");
        let sep = if self.chance(1, 3) { "\n  " } else { ", " };
        let body = variants.join(sep);
        let text = if sep == ", " {
            format!("{doc}enum {name} {{ {body} }}")
        } else {
            format!("{doc}enum {name} {{\n  {body}\n}}")
        };
        self.push_item(file, text);
        self.m.enums.push(EnumDef {
            name,
            pkg,
            variants,
        });
    }

    fn schema_item(&mut self, pkg: usize) {
        let file = self.file_of(pkg);
        let name = self.fresh("S");
        let n = self.range(1, 6);
        let mut fields: Vec<Field> = Vec::new();
        for _ in 0..n {
            let fname = self.pick(pools::FIELDS).to_string();
            if fields.iter().any(|f| f.name == fname) {
                continue;
            }
            let mut ty = self.menu_type(pkg, 1);
            if self.chance(1, 4) {
                ty = ty.opt();
            }
            fields.push(Field { name: fname, ty });
        }
        if self.chance(1, 4) {
            // A field of the schema's own type: recursive data.
            let me = Ty::Schema(self.m.schemas.len());
            let ty = match self.below(3) {
                0 => me.opt(),
                1 => Ty::list(me),
                _ => Ty::map(me),
            };
            let fname = self.pick(&["next", "children", "parent"]).to_string();
            self.hit("schema_recursive");
            fields.push(Field { name: fname, ty });
        }
        self.hit("schema");
        self.m.schemas.push(SchemaDef {
            name: name.clone(),
            pkg,
            fields: fields.clone(),
        });
        let doc = self.doc("");
        let mut text = format!("{doc}schema {name} {{\n");
        for f in &fields {
            text.push_str(&self.doc("  "));
            let sep = if self.chance(1, 4) { "" } else { "," };
            text.push_str(&format!(
                "  {}: {}{sep}\n",
                f.name,
                self.m.ty_src(&f.ty, file)
            ));
        }
        text.push('}');
        self.push_item(file, text);
    }

    // ------------------------------------------------------------ data

    fn param_item(&mut self, pkg: usize) {
        let file = self.file_of(pkg);
        let name = self.fresh("p_");
        let (ty, strings, value) = match self.below(8) {
            0 => self.string_collection_param(file, pools::PHRASES, Strings::Any),
            1 => self.string_collection_param(file, pools::REGEXES, Strings::Regexes),
            2 => self.string_collection_param(file, pools::GLOBS, Strings::Globs),
            3 => self.string_collection_param(file, pools::HOSTS, Strings::Hosts),
            4 => {
                let r = self.pick(pools::REGEXES);
                let v = self.string_literal(r);
                (Ty::Str, Strings::Regexes, v)
            }
            _ => {
                let ty = self.menu_type(pkg, 1);
                let mut cx = self.base_cx(file, pkg);
                cx.literal_only = true;
                cx.now = false;
                let v = self.expr_any(&mut cx, &ty, true, 2);
                (ty, Strings::Any, v)
            }
        };
        self.hit("param");
        let doc = self.doc("");
        let text = format!("{doc}param {name}: {} = {value}", self.m.ty_src(&ty, file));
        self.push_item(file, text);
        self.m.params.push(ParamDef {
            name,
            pkg,
            ty,
            strings,
        });
    }

    fn string_collection_param(
        &mut self,
        _file: usize,
        pool: &[&'static str],
        strings: Strings,
    ) -> (Ty, Strings, String) {
        let set = self.chance(1, 2);
        let n = self.range(0, 4);
        let mut items: Vec<&str> = Vec::new();
        for _ in 0..n {
            let s = self.pick(pool);
            if !items.contains(&s) {
                items.push(s);
            }
        }
        let rendered: Vec<String> = items.iter().map(|s| self.string_literal(s)).collect();
        if set {
            let v = if rendered.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", rendered.join(", "))
            };
            (Ty::set(Ty::Str), strings, v)
        } else {
            (
                Ty::list(Ty::Str),
                strings,
                format!("[{}]", rendered.join(", ")),
            )
        }
    }

    /// `param alias.name = value` in the application package.
    fn param_override(&mut self) {
        let targets: Vec<usize> = (0..self.m.params.len())
            .filter(|&i| self.m.params[i].pkg == 0)
            .collect();
        if targets.is_empty() {
            return;
        }
        let i = self.pick(&targets);
        let p = self.m.params[i].clone();
        let file = self.file_of(1);
        let target = format!("{}{}", self.m.prefix(0, file), p.name);
        let value = match (&p.ty, p.strings) {
            (Ty::List(t), _) if **t == Ty::Str && self.chance(1, 2) => {
                // Extend the library's default: the param names its default here.
                let pool = match p.strings {
                    Strings::Regexes => pools::REGEXES,
                    Strings::Globs => pools::GLOBS,
                    Strings::Hosts => pools::HOSTS,
                    Strings::Any => pools::PHRASES,
                };
                let s = self.pick(pool);
                format!("{target} + [{}]", self.string_literal(s))
            }
            (Ty::Str, Strings::Regexes) => {
                let r = self.pick(pools::REGEXES);
                self.string_literal(r)
            }
            (ty, Strings::Any) => {
                let ty = ty.clone();
                let mut cx = self.base_cx(file, 1);
                cx.literal_only = true;
                cx.now = false;
                self.expr_any(&mut cx, &ty, true, 2)
            }
            (ty, strings) => {
                let pool = match strings {
                    Strings::Regexes => pools::REGEXES,
                    Strings::Globs => pools::GLOBS,
                    _ => pools::HOSTS,
                };
                let s = self.pick(pool);
                let s = self.string_literal(s);
                match ty {
                    Ty::Set(_) => format!("{{ {s} }}"),
                    _ => format!("[{s}]"),
                }
            }
        };
        self.hit("param_override");
        self.push_item(file, format!("param {target} = {value}"));
    }

    fn let_item(&mut self, pkg: usize, policies_before: usize) {
        let file = self.file_of(pkg);
        let name = self.fresh("l_");
        let mut cx = self.base_cx(file, pkg);
        cx.policies_before = policies_before;
        if policies_before > 0 {
            self.hit("let_after_policies");
        }
        let ty = self.pick_type(&mut cx, &|t| !t.has_decision(), Ty::Int);
        let annotated = !self.can_make(&mut cx, &ty, false) || self.chance(1, 2);
        let value = self.expr_any(&mut cx, &ty, annotated, 3);
        self.hit("let");
        let doc = self.doc("");
        let text = if annotated {
            self.hit("let_annotated");
            format!("{doc}let {name}: {} = {value}", self.m.ty_src(&ty, file))
        } else {
            format!("{doc}let {name} = {value}")
        };
        self.push_item(file, text);
        self.m.lets.push(LetDef { name, pkg, ty });
    }

    // ------------------------------------------------------------ policies

    fn policy_item(&mut self, pkg: usize) {
        let file = self.file_of(pkg);
        let index = self.m.policies.len();
        let name = self.fresh("check_");
        let schemas: Vec<usize> = (0..self.m.schemas.len())
            .filter(|&i| self.m.visible(self.m.schemas[i].pkg, pkg))
            .collect();
        let input = if !schemas.is_empty() && self.chance(4, 5) {
            Ty::Schema(self.pick(&schemas))
        } else {
            self.hit("policy_non_schema_input");
            self.menu_type(pkg, 1)
        };
        let input_name = self.pick(INPUT_NAMES).to_string();
        let mut cx = self.base_cx(file, pkg);
        cx.policies_before = index;
        cx.push(Local {
            name: input_name.clone(),
            ty: input.clone(),
            origin: None,
            role: "input",
        });
        let mut body: Vec<String> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();

        // Locals.
        let n = self.range(0, 3);
        for _ in 0..n {
            self.local_let(&mut cx, &mut body);
        }

        let kind_pick = self.below(10);
        let kind = if kind_pick < 5 {
            self.hit("policy_decision");
            self.decision_rules(&mut cx, &mut body, &mut reasons);
            Kind::Decision
        } else if kind_pick < 8 {
            self.hit("policy_value");
            let ty = self.pick_type(&mut cx, &|t| !t.has_decision(), Ty::Int);
            self.value_rules(&mut cx, &ty, &mut body, &mut reasons);
            Kind::Value(ty)
        } else {
            match self.filter_rule(&mut cx, &mut body, &mut reasons) {
                Some(t) => {
                    self.hit("policy_filter");
                    Kind::Filter(t)
                }
                None => {
                    self.hit("policy_decision");
                    self.decision_rules(&mut cx, &mut body, &mut reasons);
                    Kind::Decision
                }
            }
        };
        let ret = match &kind {
            Kind::Decision => "Decision".to_string(),
            Kind::Value(t) => self.m.ty_src(t, file),
            Kind::Filter(t) => format!("list<{}>", self.m.ty_src(t, file)),
        };
        let doc = self.doc("");
        let mut text = format!(
            "{doc}policy {name}({input_name}: {}) -> {ret} {{\n",
            self.m.ty_src(&input, file)
        );
        for line in body {
            text.push_str(&line);
            text.push('\n');
        }
        text.push('}');
        self.push_item(file, text);
        self.m.policies.push(PolicyDef {
            name,
            pkg,
            input,
            kind,
            reasons,
        });
    }

    fn local_let(&mut self, cx: &mut Cx, body: &mut Vec<String>) {
        let doc = self.doc("  ");
        let callable: Vec<usize> = (0..cx.policies_before)
            .filter(|&j| self.m.visible(self.m.policies[j].pkg, cx.pkg))
            .collect();
        if !callable.is_empty() && self.chance(1, 3) {
            let j = self.pick(&callable);
            let name = self.fresh("d");
            let call = self.call(cx, j, 2);
            let ty = self.m.policies[j].call_ty();
            let annotation = if ty == Ty::Decision && self.chance(1, 3) {
                ": Decision"
            } else {
                ""
            };
            body.push(format!("{doc}  let {name}{annotation} = {call}"));
            self.hit("local_decision");
            self.hit("local_let");
            cx.push(Local {
                name,
                ty,
                origin: Some(j),
                role: "local",
            });
            return;
        }
        let name = if self.chance(1, 8) {
            self.fresh("_v")
        } else {
            self.local_name(cx, "v")
        };
        let ty = self.pick_type(cx, &|t| !t.has_decision(), Ty::Int);
        let annotated = !self.can_make(cx, &ty, false) || self.chance(1, 3);
        let value = self.expr_any(cx, &ty, annotated, 3);
        self.hit("local_let");
        let line = if annotated {
            self.hit("local_let_annotated");
            format!(
                "{doc}  let {name}: {} = {value}",
                self.m.ty_src(&ty, cx.file)
            )
        } else {
            format!("{doc}  let {name} = {value}")
        };
        body.push(line);
        cx.push(Local {
            name,
            ty,
            origin: None,
            role: "local",
        });
    }

    /// A unique reason (its slug is unique: the number is).
    fn reason(&mut self, reasons: &mut Vec<String>) -> String {
        let word = self.pick(pools::REASON_WORDS);
        let tail = self.pick(pools::REASON_TAILS);
        let r = format!("{word} {}{tail}", reasons.len() + 1);
        reasons.push(r.clone());
        r
    }

    fn reason_lit(&mut self, reasons: &mut Vec<String>) -> String {
        let r = self.reason(reasons);
        let mut out = String::from("\"");
        for c in r.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn when(&mut self, cx: &mut Cx, always: bool) -> String {
        if !always && self.chance(1, 6) {
            self.hit("rule_without_when");
            return String::new();
        }
        let c = self.expr_any(cx, &Ty::Bool, false, 4);
        format!(" when {c}")
    }

    fn attribute(&mut self) -> String {
        if self.chance(1, 8) {
            self.hit("rule_id_attribute");
            let id = self.fresh("custom-");
            if self.chance(1, 2) {
                format!("@id(\"{id}\") ")
            } else {
                format!("@id(\"{id}\")\n  ")
            }
        } else {
            String::new()
        }
    }

    fn decision_rules(&mut self, cx: &mut Cx, body: &mut Vec<String>, reasons: &mut Vec<String>) {
        let n = self.range(1, 5);
        let default_at = if self.chance(2, 3) {
            Some(self.range(0, n))
        } else {
            None
        };
        for i in 0..=n {
            if default_at == Some(i) {
                let effect = if self.chance(1, 2) { "allow" } else { "deny" };
                self.hit(&format!("rule_default_{effect}"));
                let r = self.reason_lit(reasons);
                body.push(format!("  default {effect} {r}"));
            }
            if i == n {
                break;
            }
            let doc = self.doc("  ");
            let attr = self.attribute();
            let line = match self.below(8) {
                0 | 1 => {
                    self.hit("rule_allow");
                    let r = self.reason_lit(reasons);
                    let w = self.when(cx, false);
                    format!("allow {r}{w}")
                }
                2 | 3 => {
                    self.hit("rule_deny");
                    let r = self.reason_lit(reasons);
                    let w = self.when(cx, false);
                    format!("deny {r}{w}")
                }
                4 => {
                    self.hit("rule_require_approval");
                    let r = self.reason_lit(reasons);
                    let w = self.when(cx, false);
                    format!("require_approval {r}{w}")
                }
                5 => {
                    self.hit("rule_redact");
                    let r = self.reason_lit(reasons);
                    let findings = self.expr_any(cx, &Ty::list(Ty::Finding), false, 3);
                    let w = self.when(cx, false);
                    format!("redact {r} of {findings}{w}")
                }
                _ => {
                    self.hit("rule_alert");
                    let sev = self.pick(SEVERITIES);
                    let r = self.reason_lit(reasons);
                    let w = self.when(cx, false);
                    format!("alert {sev} {r}{w}")
                }
            };
            body.push(format!("{doc}  {attr}{line}"));
        }
    }

    fn value_rules(
        &mut self,
        cx: &mut Cx,
        ty: &Ty,
        body: &mut Vec<String>,
        reasons: &mut Vec<String>,
    ) {
        let n = self.range(0, 3);
        for _ in 0..n {
            self.hit("rule_return");
            let doc = self.doc("  ");
            let attr = self.attribute();
            let v = self.expr_any(cx, ty, true, 3);
            let r = self.reason_lit(reasons);
            let always = self.chance(5, 6);
            let w = self.when(cx, always);
            body.push(format!("{doc}  {attr}return {v} {r}{w}"));
        }
        self.hit("rule_value_default");
        let v = self.expr_any(cx, ty, true, 3);
        let r = self.reason_lit(reasons);
        body.push(format!("  default {v} {r}"));
    }

    /// The `keep` rule of a filter policy; the element type, or `None`
    /// when no collection can be made.
    fn filter_rule(
        &mut self,
        cx: &mut Cx,
        body: &mut Vec<String>,
        reasons: &mut Vec<String>,
    ) -> Option<Ty> {
        let elem = self.pick_type(
            cx,
            &|t| matches!(t, Ty::List(e) | Ty::Set(e) if !e.has_decision()),
            Ty::list(Ty::Str),
        );
        let elem = elem.elem()?.clone();
        let coll = if self.chance(1, 3) {
            Ty::set(elem.clone())
        } else {
            Ty::list(elem.clone())
        };
        if !self.can_make(cx, &coll, false) {
            return None;
        }
        let src = self.expr_min(cx, &coll, false, 3, crate::expr::COALESCE);
        let var = self.local_name(cx, "e");
        let r = self.reason_lit(reasons);
        let mark = cx.locals.len();
        cx.push(Local {
            name: var.clone(),
            ty: elem.clone(),
            origin: None,
            role: "keep",
        });
        let w = self.when(cx, false);
        cx.truncate(mark);
        let limit = if self.chance(1, 2) {
            self.hit("keep_limit");
            format!(" limit {}", self.expr_any(cx, &Ty::Int, false, 2))
        } else {
            String::new()
        };
        self.hit("rule_keep");
        body.push(format!("  keep {var} in {src} {r}{w}{limit}"));
        Some(elem)
    }
}
