use super::*;
use crate::parse_file;

/// Parses a file and fails with its diagnostics if it does not parse cleanly.
fn parse_clean(text: &str) -> Vec<Item> {
    let parsed = parse_file(text);
    assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
    parsed
        .items
        .into_iter()
        .map(|(_, item)| (*item).clone())
        .collect()
}

/// Parses a single expression through a `let`.
fn expr(text: &str) -> Expr {
    let items = parse_clean(&format!("let x = {text}\n"));
    match items.into_iter().next().map(|i| i.kind) {
        Some(ItemKind::Let(binding)) => binding.value,
        other => panic!("not a let: {other:?}"),
    }
}

/// Renders an expression as an S-expression, to assert structure tersely.
fn sexp(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Float(f) => format!("{}f", f.0),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Duration(n) => format!("{n}ns"),
        ExprKind::Timestamp(n) => format!("@{n}"),
        ExprKind::None => "none".into(),
        ExprKind::Now => "now".into(),
        ExprKind::Name(i) => i.name.clone(),
        ExprKind::List(xs) => format!("[{}]", xs.iter().map(sexp).collect::<Vec<_>>().join(" ")),
        ExprKind::Set(xs) => format!("#{{{}}}", xs.iter().map(sexp).collect::<Vec<_>>().join(" ")),
        ExprKind::Map(es) => format!(
            "{{{}}}",
            es.iter()
                .map(|(k, v)| format!("{:?}: {}", k.value, sexp(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ExprKind::Record(es) => format!(
            "{{{}}}",
            es.iter()
                .map(|(k, v)| format!("{}: {}", k.name, sexp(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ExprKind::EmptyBraces => "{}".into(),
        ExprKind::Field {
            base,
            name,
            optional,
        } => format!(
            "({} {} {})",
            if *optional { "?." } else { "." },
            sexp(base),
            name.name
        ),
        ExprKind::Index {
            base,
            index,
            optional,
        } => format!(
            "({} {} {})",
            if *optional { "?[]" } else { "[]" },
            sexp(base),
            sexp(index)
        ),
        ExprKind::Call { callee, args } => format!(
            "(call {}{})",
            sexp(callee),
            args.iter()
                .map(|a| format!(" {}", sexp(a)))
                .collect::<String>()
        ),
        ExprKind::Unary { op, operand, .. } => format!(
            "({} {})",
            if *op == UnaryOp::Not { "not" } else { "neg" },
            sexp(operand)
        ),
        ExprKind::Binary { op, lhs, rhs, .. } => {
            format!("({} {} {})", op.symbol(), sexp(lhs), sexp(rhs))
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => format!("(if {} {} {})", sexp(cond), sexp(then), sexp(otherwise)),
        ExprKind::Quant {
            kind,
            vars,
            collection,
            body,
        } => format!(
            "({} {} {} {})",
            kind.keyword(),
            vars.iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(","),
            sexp(collection),
            sexp(body)
        ),
        ExprKind::Paren(inner) => sexp(inner),
    }
}

#[test]
fn precedence() {
    assert_eq!(
        sexp(&expr("a or b and not c == d")),
        "(or a (and b (not (== c d))))"
    );
    assert_eq!(sexp(&expr("1 + 2 * 3 - 4")), "(- (+ 1 (* 2 3)) 4)");
    assert_eq!(sexp(&expr("x ?? 0 > 5")), "(> (?? x 0) 5)");
    assert_eq!(sexp(&expr("a ?? b ?? c")), "(?? a (?? b c))");
    assert_eq!(sexp(&expr("x not in s")), "(not in x s)");
    assert_eq!(sexp(&expr("- -x")), "(neg (neg x))");
    assert_eq!(sexp(&expr("-9223372036854775808")), "-9223372036854775808");
}

#[test]
fn postfix_chains() {
    assert_eq!(
        sexp(&expr(r#"call.args["path"]?.contains("..") ?? false"#)),
        r#"(?? (call (?. ([] (. call args) "path") contains) "..") false)"#
    );
    assert_eq!(sexp(&expr("m?[k]")), "(?[] m k)");
    assert_eq!(sexp(&expr("d.allowed")), "(. d allowed)");
}

#[test]
fn quantifiers_extend_to_the_right() {
    assert_eq!(
        sexp(&expr("a and any x in xs: x > 1 and b")),
        "(and a (any x xs (and (> x 1) b)))"
    );
    assert_eq!(sexp(&expr("count k, v in m: v")), "(count k,v m v)");
    // `count` is only a quantifier when a variable and `in` follow.
    assert_eq!(sexp(&expr("m.count + count")), "(+ (. m count) count)");
}

#[test]
fn literals() {
    assert_eq!(sexp(&expr(r#""a\tb\u{41}""#)), r#""a\tbA""#);
    assert_eq!(
        sexp(&expr(r#"r"\bAKIA[0-9A-Z]{16}\b""#)),
        r#""\\bAKIA[0-9A-Z]{16}\\b""#
    );
    assert_eq!(sexp(&expr("1m30s")), "90000000000ns");
    assert_eq!(sexp(&expr("1_000")), "1000");
    assert_eq!(sexp(&expr("2.5e1")), "25f");
    assert_eq!(sexp(&expr(r#"t"1970-01-01T00:00:01Z""#)), "@1000000000");
    assert_eq!(sexp(&expr(r#"{ "a": 1 }"#)), r#"{"a": 1}"#);
    assert_eq!(sexp(&expr("{ a: 1, b: [] }")), "{a: 1 b: []}");
    assert_eq!(sexp(&expr("{a, b}")), "#{a b}");
    assert_eq!(sexp(&expr("{}")), "{}");
    assert_eq!(
        sexp(&expr("if a then 1 else if b then 2 else 3")),
        "(if a 1 (if b 2 3))"
    );
}

#[test]
fn a_whole_program() {
    let items = parse_clean(
        r#"/// Tools.
package llm.tools
import std.url
import std.guards.input as guards

/// A call.
schema ToolCall {
  /// Who calls.
  principal: Principal,
  args: map<string, string>
  note: string?
}

enum Role { guest, analyst, admin }

param allowed_hosts: set<string> = { "docs.internal" }

policy tool_call(call: ToolCall) -> Decision {
  let host = url.host(call.args["url"] ?? "")
  default deny "tool not permitted"
  allow "role may use tool" when call.principal.role in {admin, analyst}
  @id("no-traversal")
  deny "path escapes the workspace" when call.args["path"]?.contains("..") ?? false
  require_approval "high-risk tool" when call.tool.risk >= 4
  redact "email in note" of std.pii.emails(call.note ?? "")
  alert high "shell used"
}

policy tier(m: Metrics) -> Severity {
  return critical "error rate above 20%" when m.error_rate > 0.2
  default low "nominal"
}

policy visible(q: Query) -> list<Doc> {
  keep d in q.docs "same tenant" when d.tenant == q.tenant limit 10
}

test "analyst reads" {
  let d = tool_call({ principal: { role: analyst } })
  expect d.allowed
  for case in [{ role: admin }] {
    expect true
  }
  with allowed_hosts = {}, url.host = "x" {
    expect not d.denied
  }
}
"#,
    );
    assert_eq!(items.len(), 10);
    assert_eq!(items[0].doc.as_deref(), Some("Tools."));
    let ItemKind::Schema(schema) = &items[3].kind else {
        panic!("schema")
    };
    assert_eq!(items[3].doc.as_deref(), Some("A call."));
    assert_eq!(schema.fields[0].doc.as_deref(), Some("Who calls."));
    assert!(matches!(
        schema.fields[2].ty.kind,
        TypeExprKind::Optional(_)
    ));
    let ItemKind::Policy(policy) = &items[6].kind else {
        panic!("policy")
    };
    assert_eq!(policy.body.len(), 7);
    let PolicyStmt::Rule(deny) = &policy.body[3] else {
        panic!("rule")
    };
    assert_eq!(
        deny.id.as_ref().map(|i| i.value.as_str()),
        Some("no-traversal")
    );
    assert!(matches!(deny.kind, RuleKind::Deny));
    let PolicyStmt::Rule(alert) = &policy.body[6] else {
        panic!("rule")
    };
    assert!(matches!(&alert.kind, RuleKind::Alert { severity } if severity.name == "high"));
    assert!(alert.when.is_none());
    let ItemKind::Policy(filter) = &items[8].kind else {
        panic!("filter")
    };
    let PolicyStmt::Rule(keep) = &filter.body[0] else {
        panic!("rule")
    };
    assert!(matches!(&keep.kind, RuleKind::Keep { limit: Some(_), .. }));
}

#[test]
fn spans_are_relative_to_the_item() {
    let parsed = parse_file("package a\n\nlet x = 1\n");
    let (offset, item) = &parsed.items[1];
    assert_eq!(*offset, 11);
    assert_eq!(item.span, Span::new(0, 9));
}

#[test]
fn each_broken_item_reports_once_and_the_good_ones_parse() {
    let parsed = parse_file(
        "package a\nlet x = (1 +\nschema S { a int }\nlet y = 2\npolicy p(x: int) -> Decision { allow when }\n",
    );
    assert_eq!(parsed.diagnostics.len(), 3, "{:#?}", parsed.diagnostics);
    assert_eq!(parsed.items.len(), 2);
    assert_eq!(parsed.broken_names, vec!["x", "S", "p"]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!("let x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    let parsed = parse_file(&text);
    assert_eq!(parsed.diagnostics.len(), 1);
    assert_eq!(parsed.diagnostics[0].code, "pol::parse::too_deep");
}

#[test]
fn nesting_at_the_limit_parses_on_a_small_stack() {
    // Test threads have 2 MiB stacks; the limit must be safe there.
    let depth = crate::lexer::MAX_NESTING;
    let text = format!("let x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let parsed = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || parse_file(&text))
        .expect("spawn")
        .join()
        .expect("no overflow");
    assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
}

#[test]
fn long_operator_chains_are_bounded() {
    let fine = format!("let x = 1{}\n", " + 1".repeat(200));
    assert!(parse_file(&fine).diagnostics.is_empty());
    let text = format!("let x = 1{}\n", " + 1".repeat(5_000));
    let parsed = parse_file(&text);
    assert_eq!(parsed.diagnostics.len(), 1);
    assert_eq!(parsed.diagnostics[0].code, "pol::parse::too_deep");
    let nots = format!("let x = {}true\n", "not ".repeat(5_000));
    assert_eq!(parse_file(&nots).diagnostics.len(), 1);
}

#[test]
fn syntax_errors_say_what_was_expected() {
    let parsed = parse_file("schema S { a int }\n");
    let d = &parsed.diagnostics[0];
    assert_eq!(d.message, "unexpected `int`");
    assert!(
        d.labels[0].message.contains("`:`"),
        "{}",
        d.labels[0].message
    );
}

#[test]
fn quantifier_collections_take_arithmetic_and_coalesce() {
    assert_eq!(
        sexp(&expr("any t in p.topics ?? []: t in s")),
        "(any t (?? (. p topics) []) (in t s))"
    );
}

#[test]
fn param_overrides_name_an_imported_param() {
    let items = parse_clean("param input.jailbreak_threshold = 0.9\n");
    let ItemKind::ParamOverride(o) = &items[0].kind else {
        panic!("override")
    };
    assert_eq!(o.target.dotted(), "input.jailbreak_threshold");
    assert_eq!(sexp(&o.value), "0.9f");
}

#[test]
fn literal_mistakes_are_reported_without_breaking_the_item() {
    let parsed = parse_file(
        "let a = 9223372036854775808\nlet b = -9223372036854775808\nlet c = \"\\u{110000}\"\nlet d = \"\\u{+41}\"\n",
    );
    let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        vec![
            "pol::parse::int_too_large",
            "pol::parse::invalid_escape",
            "pol::parse::invalid_escape"
        ]
    );
    assert_eq!(parsed.items.len(), 4);
}

#[test]
fn an_unterminated_raw_string_stops_at_its_line() {
    let parsed = parse_file("let a = r\"\\d{16}\nlet b = 3\nlet c = \"x\"\n");
    assert_eq!(parsed.diagnostics.len(), 1, "{:#?}", parsed.diagnostics);
    assert_eq!(
        parsed.diagnostics[0].primary_span().map(|s| s.start),
        Some(9)
    );
    assert_eq!(parsed.items.len(), 2);
}

#[test]
fn runs_of_invalid_characters_are_one_error_with_help() {
    let parsed = parse_file("let a = x && y\n");
    assert_eq!(parsed.diagnostics.len(), 1);
    assert_eq!(parsed.diagnostics[0].message, "invalid characters `&&`");
    assert_eq!(parsed.diagnostics[0].help.as_deref(), Some("write `and`"));
}

#[test]
fn keywords_end_at_a_word_boundary() {
    for text in [
        "policy p(x: int) -> Decision {\n  allow \"r\" whenx\n}\n",
        "policy p(x: int) -> Decision {\n  defaultallow \"r\"\n}\n",
        "import std.text asx\n",
        "test \"t\" {\n  expectx\n}\n",
    ] {
        let parsed = parse_file(text);
        assert_eq!(
            parsed.diagnostics.len(),
            1,
            "{text}: {:#?}",
            parsed.diagnostics
        );
        assert_eq!(parsed.diagnostics[0].code, "pol::parse::syntax", "{text}");
    }
}

/// Every token pest reads must be a token logos produced: the two
/// tokenizations agree on spans (the formatter and the language server use
/// logos's; diagnostics use pest's).
#[test]
fn logos_and_pest_agree_on_token_spans() {
    use crate::lexer::lex;
    use pest::Parser as _;

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["stdlib-policies", "tests/ui/ok"] {
        collect_pol_files(&root.join(dir), &mut files);
    }
    assert!(files.len() >= 3, "no corpus found");
    let leaves = [
        Rule::ident,
        Rule::field_name,
        Rule::int,
        Rule::float,
        Rule::duration,
        Rule::string,
        Rule::raw_string,
        Rule::timestamp,
        Rule::prefix_op,
        Rule::neg_op,
        Rule::arith_op,
        Rule::quant_kw,
    ];
    let mut checked = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read corpus");
        for slice in crate::split_items(&text).items {
            let item = &text[slice.span.range()];
            let tokens = lex(item);
            let (normalized, map) = OffsetMap::normalize(item, &tokens);
            let pairs = PolParser::parse(Rule::item, &normalized).expect("corpus parses");
            for pair in pairs.flatten().filter(|p| leaves.contains(&p.as_rule())) {
                let span = span_of(&map, &pair);
                assert!(
                    tokens.iter().any(|t| t.span == span),
                    "{}: pest's {:?} `{}` at {span:?} is not a logos token",
                    path.display(),
                    pair.as_rule(),
                    &item[span.range()]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} tokens compared");
}

fn collect_pol_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_pol_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "pol") {
            out.push(path);
        }
    }
}
