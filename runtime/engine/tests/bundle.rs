//! Bundles through the runtime: loading, every refusal with its cause,
//! signatures, the IR verifier on tampered programs, and hot swap. (Memory
//! across many loads is in `memory.rs`, alone in its test binary.)

use std::sync::Arc;

use pol_ir::bundle::{self, BuildInfo, BundleError, SecretKey, SignatureStatus, Trust};
use pol_ir::ir::{
    Action, BinaryOp, Body, Const, DefaultRule, Effect, Field, Loc, Node, NodeId, Op, Policy,
    PolicyKind, Program, Rule, Schema, SchemaId, Slot, Type,
};
use pol_runtime::{Engine, EngineKind, LiveEngine, LoadError};

const LOC: Loc = Loc {
    file: 0,
    start: 0,
    end: 1,
    line: 1,
    column: 1,
};

/// `policy call(c: Call) -> Decision { default deny "not permitted"; allow REASON when c.tool == "search" }`,
/// written out as IR so the bundle stays small (compiling from source
/// brings the whole embedded standard library).
fn tiny_program(reason: &str) -> Program {
    let node = |ty: Type, op: Op| Node { ty, op };
    Program {
        format_version: pol_ir::ir::FORMAT_VERSION,
        schemas: vec![Schema {
            name: "demo.Call".into(),
            fields: vec![Field {
                name: "tool".into(),
                ty: Type::String,
            }],
        }],
        enums: vec![],
        params: vec![],
        lets: vec![],
        policies: vec![Policy {
            name: "demo.call".into(),
            input: Type::Schema(SchemaId(0)),
            body: Body {
                nodes: vec![
                    node(Type::Schema(SchemaId(0)), Op::Local(Slot(0))),
                    node(
                        Type::String,
                        Op::Field {
                            base: NodeId(0),
                            index: 0,
                        },
                    ),
                    node(Type::String, Op::Const(Const::String("search".into()))),
                    node(
                        Type::Bool,
                        Op::Binary {
                            op: BinaryOp::Eq,
                            lhs: NodeId(1),
                            rhs: NodeId(2),
                        },
                    ),
                ],
                slots: vec![Type::Schema(SchemaId(0))],
                root: None,
            },
            locals: vec![],
            rules: vec![Rule {
                id: "demo.call.search".into(),
                reason: reason.into(),
                action: Action::Allow,
                when: Some(NodeId(3)),
                loc: LOC,
            }],
            kind: PolicyKind::Decision {
                default: Some(DefaultRule {
                    effect: Effect::Deny,
                    id: "demo.call.default".into(),
                    reason: "not permitted".into(),
                    loc: LOC,
                }),
            },
            loc: LOC,
        }],
        sources: vec!["demo.pol".into()],
        revision: None,
    }
}

/// Writes a bundle; every program here is writable.
fn write(program: &Program, info: &BuildInfo, signer: Option<&SecretKey>) -> Vec<u8> {
    bundle::write(program, info, signer).expect("writes")
}

fn info(revision: &str) -> BuildInfo {
    BuildInfo {
        revision: revision.into(),
        compiler: "polc test".into(),
        built_at: None,
    }
}

fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed([seed; 32])
}

fn bundle_error(result: Result<Engine, LoadError>) -> BundleError {
    match result {
        Err(LoadError::Bundle(e)) => e,
        Err(other) => panic!("expected a bundle refusal, got {other}"),
        Ok(_) => panic!("expected a bundle refusal, the bundle loaded"),
    }
}

fn tool(engine: &Engine, name: &str) -> (bool, Vec<String>) {
    let entry = engine.entrypoint("demo.call").expect("entrypoint");
    let json = format!(r#"{{"tool": "{name}"}}"#);
    let decision = engine.evaluate_json(entry, json.as_bytes(), 0);
    (decision.is_allowed(), decision.reasons(engine.program()))
}

#[test]
fn a_bundle_loads_and_evaluates_like_the_program() {
    let program = tiny_program("search is read-only");
    let bytes = write(&program, &info("r7"), None);
    let engine = Engine::from_bundle(&bytes, &Trust::any()).expect("loads");
    assert_eq!(engine.revision(), Some("r7"));
    assert_eq!(engine.signature(), Some(&SignatureStatus::Unsigned));
    let manifest = engine.manifest().expect("manifest");
    assert_eq!(manifest.entrypoints.len(), 1);
    assert_eq!(manifest.entrypoints[0].name, "demo.call");
    assert_eq!(
        manifest.entrypoints[0].input_schema["$defs"]["demo.Call"]["required"],
        serde_json::json!(["tool"])
    );
    assert_eq!(manifest.packages, ["demo"]);
    assert_eq!(
        tool(&engine, "search"),
        (true, vec!["search is read-only".to_string()])
    );
    assert_eq!(
        tool(&engine, "shell"),
        (false, vec!["not permitted".to_string()])
    );
    // Decisions carry the revision.
    let entry = engine.entrypoint("demo.call").unwrap();
    let decision = engine.evaluate_json(entry, br#"{"tool": "x"}"#, 0);
    assert_eq!(engine.decision_json(&decision)["revision"], "r7");
}

#[test]
fn the_same_program_and_revision_give_the_same_bytes() {
    let a = write(&tiny_program("x"), &info("r1"), Some(&key(1)));
    let b = write(&tiny_program("x"), &info("r1"), Some(&key(1)));
    assert_eq!(a, b);
    // The content hash names the policies, not the revision.
    let c = write(&tiny_program("x"), &info("r2"), None);
    let hash = |bytes: &[u8]| {
        bundle::read_manifest(bytes, &Trust::any())
            .unwrap()
            .0
            .content_hash
    };
    assert_eq!(hash(&a), hash(&c));
    assert_ne!(a, c);
}

#[test]
fn every_truncation_is_refused() {
    let bytes = write(&tiny_program("x"), &info("r1"), Some(&key(1)));
    for len in 0..bytes.len() {
        match bundle_error(Engine::from_bundle(&bytes[..len], &Trust::any())) {
            BundleError::Truncated(_) => {}
            other => panic!("prefix of {len} bytes: {other}"),
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        bundle_error(Engine::from_bundle(&longer, &Trust::any())),
        BundleError::Malformed(m) if m.contains("1 bytes after the end")
    ));
}

#[test]
fn a_wrong_magic_or_a_newer_version_is_refused() {
    let bytes = write(&tiny_program("x"), &info("r1"), None);
    let mut wrong = bytes.clone();
    wrong[0] = b'X';
    assert_eq!(
        bundle_error(Engine::from_bundle(&wrong, &Trust::any())),
        BundleError::BadMagic
    );
    assert_eq!(
        bundle_error(Engine::from_bundle(
            b"{\"not\": \"a bundle\"}",
            &Trust::any()
        )),
        BundleError::BadMagic
    );
    let mut newer = bytes.clone();
    newer[8] = 2;
    let error = bundle_error(Engine::from_bundle(&newer, &Trust::any()));
    assert_eq!(
        error.to_string(),
        "bundle format version 2 is newer than this runtime's 1: upgrade the runtime"
    );
    let mut flags = bytes;
    flags[11] = 0x80;
    assert!(matches!(
        bundle_error(Engine::from_bundle(&flags, &Trust::any())),
        BundleError::Malformed(m) if m.contains("unknown flags")
    ));
}

#[test]
fn a_modified_unsigned_bundle_fails_its_hash() {
    let bytes = write(&tiny_program("x"), &info("r1"), None);
    // Every byte after the header is covered by the header's hash.
    for at in [bundle::HEADER_LEN, bytes.len() / 2, bytes.len() - 1] {
        let mut changed = bytes.clone();
        changed[at] ^= 0x20;
        assert_eq!(
            bundle_error(Engine::from_bundle(&changed, &Trust::any())),
            BundleError::BadHash,
            "byte {at}"
        );
    }
}

#[test]
fn flipping_any_byte_of_a_signed_bundle_is_refused() {
    let signer = key(7);
    let trust = Trust::keys([signer.public()]);
    let bytes = write(&tiny_program("x"), &info("r1"), Some(&signer));
    let loaded = Engine::from_bundle(&bytes, &trust).expect("the untouched bundle loads");
    assert_eq!(
        loaded.signature(),
        Some(&SignatureStatus::Verified(signer.public().id()))
    );
    for at in 0..bytes.len() {
        for flip in [0x01u8, 0xff] {
            let mut changed = bytes.clone();
            changed[at] ^= flip;
            assert!(
                Engine::from_bundle(&changed, &trust).is_err(),
                "byte {at} ^ {flip:#04x} still loads"
            );
        }
    }
}

#[test]
fn signatures_must_come_from_a_trusted_key() {
    let signed = write(&tiny_program("x"), &info("r1"), Some(&key(1)));
    let unsigned = write(&tiny_program("x"), &info("r1"), None);
    let trust = Trust::keys([key(2).public()]);
    assert!(matches!(
        bundle_error(Engine::from_bundle(&signed, &trust)),
        BundleError::BadSignature(ids) if ids.contains(&key(2).public().id())
    ));
    assert_eq!(
        bundle_error(Engine::from_bundle(&unsigned, &trust)),
        BundleError::Unsigned
    );
    // Any of several trusted keys will do.
    let several = Trust::keys([key(2).public(), key(1).public()]);
    assert!(Engine::from_bundle(&signed, &several).is_ok());
    // Without trusted keys, a signed bundle loads but is not vouched for.
    let engine = Engine::from_bundle(&signed, &Trust::any()).unwrap();
    assert_eq!(engine.signature(), Some(&SignatureStatus::Unchecked));
    // A signature cannot be moved to other content.
    let other = write(&tiny_program("y"), &info("r1"), Some(&key(1)));
    let mut moved = other[..other.len() - bundle::SIGNATURE_LEN].to_vec();
    moved.extend_from_slice(&signed[signed.len() - bundle::SIGNATURE_LEN..]);
    assert!(matches!(
        bundle_error(Engine::from_bundle(&moved, &Trust::keys([key(1).public()]))),
        BundleError::BadSignature(_)
    ));
}

/// Rewrites the sections of a bundle with a fresh (unsigned) header, as a
/// forger without the key would.
fn reassemble(manifest: &[u8], payload: &[u8]) -> Vec<u8> {
    bundle::assemble(manifest, payload, None).expect("frames")
}

fn manifest_of(program: &Program) -> serde_json::Value {
    let bytes = write(program, &info("r1"), None);
    serde_json::to_value(bundle::read_manifest(&bytes, &Trust::any()).unwrap().0).unwrap()
}

fn content_hash(payload: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", bundle::hex(&sha2::Sha256::digest(payload)))
}

#[test]
fn a_consistent_forgery_still_meets_the_verifier() {
    let program = tiny_program("x");
    // A payload that is not a program.
    let garbage = vec![0xffu8; 40];
    let mut manifest = manifest_of(&program);
    manifest["content_hash"] = content_hash(&garbage).into();
    let bytes = reassemble(&serde_json::to_vec(&manifest).unwrap(), &garbage);
    assert!(matches!(
        bundle_error(Engine::from_bundle(&bytes, &Trust::any())),
        BundleError::Payload(_)
    ));

    // A manifest whose hash does not name the payload.
    let payload = postcard::to_allocvec(&program).unwrap();
    let mut manifest = manifest_of(&program);
    manifest["content_hash"] = content_hash(b"something else").into();
    let bytes = reassemble(&serde_json::to_vec(&manifest).unwrap(), &payload);
    assert_eq!(
        bundle_error(Engine::from_bundle(&bytes, &Trust::any())),
        BundleError::BadHash
    );

    // A manifest that lists other entrypoints.
    let mut manifest = manifest_of(&program);
    manifest["entrypoints"][0]["name"] = "demo.other".into();
    let bytes = reassemble(&serde_json::to_vec(&manifest).unwrap(), &payload);
    assert!(matches!(
        bundle_error(Engine::from_bundle(&bytes, &Trust::any())),
        BundleError::ManifestMismatch(_)
    ));

    // A manifest that is not JSON.
    let bytes = reassemble(b"{not json", &payload);
    assert!(matches!(
        bundle_error(Engine::from_bundle(&bytes, &Trust::any())),
        BundleError::Malformed(m) if m.starts_with("manifest")
    ));
}

/// Writes a (structurally tampered) program into a bundle and loads it.
fn load_program(program: &Program) -> Result<Engine, LoadError> {
    Engine::from_bundle(&write(program, &info("r1"), None), &Trust::any())
}

fn invalid(program: &Program) -> String {
    match bundle_error(load_program(program)) {
        BundleError::Invalid(e) => e.to_string(),
        other => panic!("expected an invalid program, got {other}"),
    }
}

#[test]
fn ill_typed_programs_are_refused_before_compiling() {
    // A field load on an int: the JIT would read through a non-pointer.
    let mut field_of_int = tiny_program("x");
    field_of_int.policies[0].body.nodes[0].ty = Type::Int;
    field_of_int.policies[0].body.slots[0] = Type::Int;
    field_of_int.policies[0].input = Type::Int;
    assert!(invalid(&field_of_int).contains("a field of int"));

    // A node that lies about its type.
    let mut lie = tiny_program("x");
    lie.policies[0].body.nodes[2].ty = Type::Schema(SchemaId(0));
    assert!(invalid(&lie).contains("produces string but is declared schema#0"));

    // An optional value where a present one is required.
    let mut optional = tiny_program("x");
    optional.schemas[0].fields[0].ty = Type::Optional(Box::new(Type::String));
    optional.policies[0].body.nodes[1].ty = Type::String;
    assert!(invalid(&optional).contains("produces string? but is declared string"));

    // A field index past the schema.
    let mut past = tiny_program("x");
    past.policies[0].body.nodes[1].op = Op::Field {
        base: NodeId(0),
        index: 3,
    };
    assert!(invalid(&past).contains("field 3 out of range"));

    // A rule whose condition is not a bool.
    let mut condition = tiny_program("x");
    condition.policies[0].rules[0].when = Some(NodeId(1));
    assert!(invalid(&condition).contains("a rule's condition"));

    // An operand that does not precede its user.
    let mut forward = tiny_program("x");
    forward.policies[0].body.nodes[1].op = Op::Field {
        base: NodeId(3),
        index: 0,
    };
    assert!(invalid(&forward).contains("does not precede it"));

    // A policy that calls itself would recurse without end.
    let mut recursive = tiny_program("x");
    recursive.policies[0].body.nodes.push(Node {
        ty: Type::Decision,
        op: Op::CallPolicy {
            policy: 0,
            input: NodeId(0),
        },
    });
    assert!(invalid(&recursive).contains("policy demo.call depends on itself"));

    // An operand chain deeper than the evaluators' stacks allow.
    let mut deep = tiny_program("x");
    let nodes = &mut deep.policies[0].body.nodes;
    for _ in 0..pol_ir::typeck::MAX_NODE_DEPTH {
        let last = NodeId(nodes.len() as u32 - 1);
        nodes.push(Node {
            ty: Type::Bool,
            op: Op::Unary {
                op: pol_ir::ir::UnaryOp::Not,
                operand: last,
            },
        });
    }
    assert!(invalid(&deep).contains("nests deeper than"));
}

#[test]
fn a_type_nested_past_the_limit_is_refused_while_decoding() {
    let mut program = tiny_program("x");
    let mut ty = Type::Int;
    for _ in 0..pol_ir::ir::MAX_TYPE_DEPTH + 10 {
        ty = Type::List(Box::new(ty));
    }
    program.schemas[0].fields.push(Field {
        name: "deep".into(),
        ty,
    });
    // `bundle::write` refuses it: its manifest would be too deep for JSON.
    assert!(matches!(
        bundle::write(&program, &info("r1"), None),
        Err(BundleError::Unwritable(_))
    ));
    // Written by hand, as a forger would.
    let payload = postcard::to_allocvec(&program).unwrap();
    let mut manifest = manifest_of(&tiny_program("x"));
    manifest["content_hash"] = content_hash(&payload).into();
    let bytes = reassemble(&serde_json::to_vec(&manifest).unwrap(), &payload);
    match bundle_error(Engine::from_bundle(&bytes, &Trust::any())) {
        BundleError::Payload(m) => assert!(m.contains("nested deeper than"), "{m}"),
        other => panic!("{other}"),
    }
}

#[test]
fn a_live_engine_swaps_revisions_under_load() {
    let bundle_of = |revision: &str| {
        write(
            &tiny_program(&format!("allowed in {revision}")),
            &info(revision),
            None,
        )
    };
    let live = Arc::new(LiveEngine::new(
        Engine::from_bundle(&bundle_of("v0"), &Trust::any()).unwrap(),
    ));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Half the workers hold the engine by `current` (a reference count),
    // half by `with_current` (a guard).
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let live = live.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut seen = std::collections::BTreeSet::new();
                let check = |engine: &Engine| {
                    let (allowed, reasons) = tool(engine, "search");
                    // The decision matches the revision of the engine that
                    // made it: never a mix of two.
                    let revision = engine.revision().unwrap().to_string();
                    assert!(allowed);
                    assert_eq!(reasons, [format!("allowed in {revision}")]);
                    revision
                };
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let revision = if w % 2 == 0 {
                        check(&live.current())
                    } else {
                        live.with_current(check)
                    };
                    seen.insert(revision);
                }
                seen
            })
        })
        .collect();
    for n in 1..=20 {
        live.load_bundle(&bundle_of(&format!("v{n}")), &Trust::any())
            .expect("loads");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // A refused bundle leaves the current engine in place.
    assert!(live.load_bundle(b"garbage", &Trust::any()).is_err());
    assert_eq!(live.current().revision(), Some("v20"));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = std::collections::BTreeSet::new();
    for worker in workers {
        seen.extend(worker.join().expect("no worker panicked"));
    }
    assert!(seen.len() > 1, "the workers saw only {seen:?}");
}

/// The nodes of a policy body with a slot 1 of type `slot1`, for programs
/// built by hand below.
fn with_rule(program: &mut Program, nodes: Vec<Node>, slot1: Option<Type>) {
    let policy = &mut program.policies[0];
    let base = policy.body.nodes.len() as u32;
    for mut node in nodes {
        // Operands written relative to the first new node.
        shift(&mut node.op, base);
        policy.body.nodes.push(node);
    }
    if let Some(ty) = slot1 {
        policy.body.slots.push(ty);
    }
    policy.rules[0].when = Some(NodeId(policy.body.nodes.len() as u32 - 1));
}

/// Adds `base` to every operand id of `op` (ids below 1000 are new
/// nodes; 1000 + n means the existing node n).
fn shift(op: &mut Op, base: u32) {
    let fix = |id: &mut NodeId| {
        id.0 = if id.0 >= 1000 {
            id.0 - 1000
        } else {
            id.0 + base
        };
    };
    match op {
        Op::Field { base, .. } => fix(base),
        Op::Binary { lhs, rhs, .. } => {
            fix(lhs);
            fix(rhs);
        }
        Op::Unary { operand, .. } => fix(operand),
        Op::Coalesce { value, default } => {
            fix(value);
            fix(default);
        }
        Op::Quant {
            collection, body, ..
        } => {
            fix(collection);
            fix(body);
        }
        Op::List(items) | Op::Set(items) => items.iter_mut().for_each(fix),
        _ => {}
    }
}

fn node(ty: Type, op: Op) -> Node {
    Node { ty, op }
}

#[test]
fn unsafe_shapes_found_in_review_are_refused() {
    // A slot read where nothing has written it: native code would load a
    // field through the `none` (null) record.
    let mut unwritten = tiny_program("x");
    with_rule(
        &mut unwritten,
        vec![
            node(Type::Schema(SchemaId(0)), Op::Local(Slot(1))),
            node(
                Type::String,
                Op::Field {
                    base: NodeId(0),
                    index: 0,
                },
            ),
            node(
                Type::Bool,
                Op::Binary {
                    op: BinaryOp::Eq,
                    lhs: NodeId(1),
                    rhs: NodeId(1002),
                },
            ),
        ],
        Some(Type::Schema(SchemaId(0))),
    );
    assert!(invalid(&unwritten).contains("where nothing has written it"));

    // An operand shared at each level: 2^64 operations once expanded.
    let mut shared = tiny_program("x");
    let mut nodes = Vec::new();
    for i in 0..64u32 {
        let prev = if i == 0 { NodeId(1003) } else { NodeId(i - 1) };
        nodes.push(node(
            Type::Bool,
            Op::Binary {
                op: BinaryOp::And,
                lhs: prev,
                rhs: prev,
            },
        ));
    }
    with_rule(&mut shared, nodes, None);
    assert!(invalid(&shared).contains("operands shared too often"));

    // Definitions whose operand chains add up past the stack bound.
    let mut chained = tiny_program("x");
    for i in 0..3u32 {
        let mut nodes = vec![match i {
            0 => node(Type::Bool, Op::Const(Const::Bool(true))),
            _ => node(Type::Bool, Op::Let(i - 1)),
        }];
        for n in 0..400u32 {
            nodes.push(node(
                Type::Bool,
                Op::Unary {
                    op: pol_ir::ir::UnaryOp::Not,
                    operand: NodeId(n),
                },
            ));
        }
        chained.lets.push(pol_ir::ir::Let {
            name: format!("demo.l{i}"),
            ty: Type::Bool,
            value: Body {
                root: Some(NodeId(400)),
                nodes,
                slots: vec![],
            },
        });
    }
    assert!(invalid(&chained).contains("counting what it reads"));

    // `T??`: engines strip one optional level.
    let mut nested = tiny_program("x");
    nested.policies[0]
        .body
        .slots
        .push(Type::Optional(Box::new(Type::Optional(Box::new(
            Type::String,
        )))));
    assert!(invalid(&nested).contains("an optional of an optional"));

    // Membership in a collection of `none`s.
    let mut none_list = tiny_program("x");
    with_rule(
        &mut none_list,
        vec![
            node(Type::None, Op::Const(Const::None)),
            node(Type::List(Box::new(Type::None)), Op::List(vec![NodeId(0)])),
            node(
                Type::Bool,
                Op::Binary {
                    op: BinaryOp::InCollection,
                    lhs: NodeId(1000),
                    rhs: NodeId(1),
                },
            ),
        ],
        None,
    );
    assert!(invalid(&none_list).contains("`in`"));
}

#[test]
fn a_set_literal_declared_optional_dedups_by_its_elements() {
    // `count(x in ({1, 2} ?? {}): true) == 2`, the literal declared
    // `set<int>?`: both engines must count two elements.
    let int_set = Type::Set(Box::new(Type::Int));
    let mut program = tiny_program("two elements");
    with_rule(
        &mut program,
        vec![
            node(Type::Int, Op::Const(Const::Int(1))),
            node(Type::Int, Op::Const(Const::Int(2))),
            node(
                Type::Optional(Box::new(int_set.clone())),
                Op::Set(vec![NodeId(0), NodeId(1)]),
            ),
            node(int_set.clone(), Op::Set(vec![])),
            node(
                int_set,
                Op::Coalesce {
                    value: NodeId(2),
                    default: NodeId(3),
                },
            ),
            node(Type::Bool, Op::Const(Const::Bool(true))),
            node(
                Type::Int,
                Op::Quant {
                    kind: pol_ir::ir::QuantKind::Count,
                    over: pol_ir::ir::CollectionKind::Set,
                    collection: NodeId(4),
                    key: None,
                    elem: Slot(1),
                    body: NodeId(5),
                },
            ),
            node(Type::Int, Op::Const(Const::Int(2))),
            node(
                Type::Bool,
                Op::Binary {
                    op: BinaryOp::Eq,
                    lhs: NodeId(6),
                    rhs: NodeId(7),
                },
            ),
        ],
        Some(Type::Int),
    );
    for kind in [EngineKind::Jit, EngineKind::Interpreter] {
        let engine = load_program(&program)
            .and_then(|e| e.with_kind(kind))
            .expect("loads");
        assert_eq!(
            tool(&engine, "anything"),
            (true, vec!["two elements".to_string()]),
            "{kind:?}"
        );
    }
}

#[test]
fn requiring_keys_without_any_refuses_everything() {
    let signed = write(&tiny_program("x"), &info("r1"), Some(&key(1)));
    let unsigned = write(&tiny_program("x"), &info("r1"), None);
    let nobody = Trust::keys([]);
    assert!(matches!(
        bundle_error(Engine::from_bundle(&signed, &nobody)),
        BundleError::BadSignature(m) if m.contains("no trusted keys")
    ));
    assert_eq!(
        bundle_error(Engine::from_bundle(&unsigned, &nobody)),
        BundleError::Unsigned
    );
}

#[test]
fn the_manifest_must_describe_the_program_exactly() {
    let program = tiny_program("x");
    let payload = postcard::to_allocvec(&program).unwrap();
    let forged = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut manifest = manifest_of(&program);
        edit(&mut manifest);
        let bytes = reassemble(&serde_json::to_vec(&manifest).unwrap(), &payload);
        bundle_error(Engine::from_bundle(&bytes, &Trust::any()))
    };
    for edit in [
        &(|m: &mut serde_json::Value| m["entrypoints"][0]["kind"] = "value".into())
            as &dyn Fn(&mut serde_json::Value),
        &|m| m["entrypoints"][0]["input_schema"] = serde_json::json!({"type": "object"}),
        &|m| m["packages"] = serde_json::json!(["demo", "other"]),
    ] {
        assert!(matches!(forged(edit), BundleError::ManifestMismatch(_)));
    }
    // An IR version other than the runtime's is never decoded.
    for version in [0, pol_ir::ir::FORMAT_VERSION + 1] {
        let error = forged(&|m| m["ir_version"] = version.into());
        assert!(
            matches!(&error, BundleError::Payload(m) if m.contains("rebuild the bundle")),
            "{error}"
        );
    }
}
