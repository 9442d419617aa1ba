//! Evaluation on the JIT (`pol-jit`): the bridge between the runtime's
//! values and decisions and the JIT's frames.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use pol_ir::Builtin;
use pol_ir::ir::{Program, Type};
use pol_jit::{
    Admit, Host, JitError, JitProgram, ParamFrame, Scratch, Shape, Source, Val, View, Writer,
};

use crate::decision::Decision;
use crate::decode::Limits;
use crate::dispatch::ScanCache;
use crate::interp::Builtins;
use crate::value::{FindingValue, Value};

impl Source for Value {
    fn shape(&self) -> Shape<'_> {
        match self {
            Value::None | Value::Decision(_) => Shape::None,
            Value::Bool(b) => Shape::Bool(*b),
            Value::Int(n) | Value::Duration(n) | Value::Timestamp(n) => Shape::Int(*n),
            Value::Float(f) => Shape::Float(*f),
            Value::String(s) => Shape::Str(s),
            Value::Variant(v) => Shape::Variant(*v),
            Value::List(items) | Value::Set(items) | Value::Record(items) => {
                Shape::Seq(items.iter().map(|v| v as &dyn Source).collect())
            }
            Value::Map(map) => {
                Shape::Map(map.iter().map(|(k, v)| (&**k, v as &dyn Source)).collect())
            }
            Value::Finding(f) => Shape::Finding {
                kind: &f.kind,
                start: f.start,
                end: f.end,
                text: &f.text,
            },
        }
    }
}

/// The runtime values of a prepared input's strings, collections and
/// records, by their identity in its frame: a decision whose value shares
/// parts of the input (a filter policy's kept elements) takes them from
/// here, a reference count each, rather than building them again.
#[derive(Debug, Default)]
pub(crate) struct Originals(Vec<((u64, usize), Value)>);

/// Where a value's contents lie and how many elements (or bytes) it has:
/// a prefix of a string or list shares its address, never its length.
fn original_key(val: &Val<'_>) -> Option<(u64, usize)> {
    let id = val.identity();
    if id == 0 {
        return None;
    }
    let len = match val.view() {
        View::Str(s) => s.len(),
        View::List(items) | View::Set(items) => items.len(),
        View::Map(entries) => entries.len(),
        _ => 0,
    };
    Some((id, len))
}

impl Originals {
    /// The table for `value`, laid out as `val`.
    fn of(value: &Value, val: Val<'_>) -> Originals {
        let mut table = Vec::new();
        collect_originals(value, val, &mut table);
        table.sort_unstable_by_key(|(id, _)| *id);
        table.dedup_by_key(|(id, _)| *id);
        Originals(table)
    }

    fn get(&self, val: &Val<'_>) -> Option<&Value> {
        if self.0.is_empty() {
            return None;
        }
        let key = original_key(val)?;
        let at = self.0.binary_search_by_key(&key, |(key, _)| *key).ok()?;
        Some(&self.0[at].1)
    }
}

/// Walks `value` and its layout `val` together (encoding keeps the order
/// of elements, fields and map entries), recording each part's identity.
fn collect_originals(value: &Value, val: Val<'_>, table: &mut Vec<((u64, usize), Value)>) {
    if let Some(key) = original_key(&val) {
        table.push((key, value.clone()));
    }
    match (value, val.view()) {
        (Value::List(xs), View::List(items)) | (Value::Set(xs), View::Set(items))
            if xs.len() == items.len() =>
        {
            for (x, item) in xs.iter().zip(items.iter()) {
                collect_originals(x, item, table);
            }
        }
        (Value::Record(xs), View::Record(fields)) => {
            for (x, field) in xs.iter().zip(fields.iter()) {
                collect_originals(x, field, table);
            }
        }
        (Value::Map(map), View::Map(entries)) if map.len() == entries.len() => {
            for ((k, x), (key, entry)) in map.iter().zip(entries.iter()) {
                if **k == *key {
                    collect_originals(x, entry, table);
                }
            }
        }
        _ => {}
    }
}

/// A frame value as a runtime value, sharing the parts of a prepared input
/// it contains.
fn value_sharing(val: Val<'_>, originals: &Originals) -> Value {
    if let Some(original) = originals.get(&val) {
        return original.clone();
    }
    match val.view() {
        View::List(items) => {
            Value::List(items.iter().map(|v| value_sharing(v, originals)).collect())
        }
        View::Set(items) => Value::Set(items.iter().map(|v| value_sharing(v, originals)).collect()),
        View::Map(entries) => Value::Map(Arc::new(
            entries
                .iter()
                .map(|(k, v)| (Arc::from(k), value_sharing(v, originals)))
                .collect::<BTreeMap<_, _>>(),
        )),
        View::Record(fields) => {
            Value::Record(fields.iter().map(|v| value_sharing(v, originals)).collect())
        }
        _ => value_of(val),
    }
}

/// A frame value as a runtime value.
pub(crate) fn value_of(val: Val<'_>) -> Value {
    match val.view() {
        View::None => Value::None,
        View::Bool(b) => Value::Bool(b),
        View::Int(n) => Value::Int(n),
        View::Float(f) => Value::Float(f),
        View::Str(s) => Value::string(s),
        View::Duration(n) => Value::Duration(n),
        View::Timestamp(n) => Value::Timestamp(n),
        View::Variant(v) => Value::Variant(v),
        View::List(items) => Value::List(items.iter().map(value_of).collect()),
        View::Set(items) => Value::Set(items.iter().map(value_of).collect()),
        View::Map(entries) => Value::Map(Arc::new(
            entries
                .iter()
                .map(|(k, v)| (Arc::from(k), value_of(v)))
                .collect::<BTreeMap<_, _>>(),
        )),
        View::Record(fields) => Value::Record(fields.iter().map(value_of).collect()),
        View::Finding {
            kind,
            start,
            end,
            text,
        } => Value::Finding(Arc::new(FindingValue {
            kind: Arc::from(kind),
            start,
            end,
            text: Arc::from(text),
        })),
    }
}

/// The runtime's builtins, as the JIT's host.
struct HostBuiltins<'b> {
    builtins: &'b dyn Builtins,
    /// Params whose values native code passes to builtins are handed over
    /// as the original values, so builtins compiled for them (phrase sets,
    /// regex lists) are found by identity.
    params: &'b HashMap<u64, Value>,
    /// This evaluation's fused scans (see [`Builtins::set_test`]).
    scans: ScanCache,
}

impl Host for HostBuiltins<'_> {
    fn standard_string_tests(&self) -> bool {
        self.builtins.standard_string_tests()
    }

    fn builtin<'a>(
        &self,
        id: Builtin,
        args: &[Val<'a>],
        ret: &'a Type,
        out: &Writer<'a>,
    ) -> Result<Val<'a>, String> {
        if self.builtins.standard_string_tests()
            && let Some(result) = string_test(id, args)
        {
            return out
                .encode(ret, &Value::Bool(result))
                .map_err(|e| format!("builtin `{id:?}` returned a value of the wrong type: {e}"));
        }
        // A phrase or pattern set compiled at load, on the text where it
        // lies (no copy of the text).
        if matches!(id, Builtin::StrContainsAny | Builtin::StrMatchesAny)
            && let [text, set] = args
            && let View::Str(text) = text.view()
            && set.identity() != 0
            && let Some(original) = self.params.get(&set.identity())
            && let Some(answer) = self.builtins.set_test(id, text, original, &self.scans)
        {
            return out
                .encode(ret, &Value::Bool(answer))
                .map_err(|e| format!("builtin `{id:?}` returned a value of the wrong type: {e}"));
        }
        let convert = |arg: &Val<'a>| match self.params.get(&arg.identity()) {
            Some(original) if arg.identity() != 0 => original.clone(),
            _ => value_of(*arg),
        };
        // Builtins take at most a receiver and three arguments: convert them
        // on the stack, so a call allocates only what its values need.
        let mut inline: [Value; 4] = std::array::from_fn(|_| Value::None);
        let spilled: Vec<Value>;
        let args: &[Value] = if args.len() <= inline.len() {
            for (slot, arg) in inline.iter_mut().zip(args) {
                *slot = convert(arg);
            }
            &inline[..args.len()]
        } else {
            spilled = args.iter().map(convert).collect();
            &spilled
        };
        let value = self.builtins.call(id, args).map_err(|e| e.0)?;
        let value = crate::interp::conform_result(ret, value);
        out.encode(ret, &value)
            .map_err(|e| format!("builtin `{id:?}` returned a value of the wrong type: {e}"))
    }
}

/// `s.contains(t)`, `s.starts_with(t)`, `s.ends_with(t)`, and
/// `xs.intersects(ys)` over strings, on the values where they lie (no value
/// built, nothing allocated); `None` for other builtins and other shapes,
/// which take the general path.
fn string_test(id: Builtin, args: &[Val<'_>]) -> Option<bool> {
    let (a, b) = (args.first()?.view(), args.get(1)?.view());
    match (id, a, b) {
        (Builtin::StrContains, View::Str(s), View::Str(t)) => {
            Some(crate::builtins::text::contains(s, t))
        }
        (Builtin::StrStartsWith, View::Str(s), View::Str(t)) => {
            Some(crate::builtins::text::starts_with(s, t))
        }
        (Builtin::StrEndsWith, View::Str(s), View::Str(t)) => {
            Some(crate::builtins::text::ends_with(s, t))
        }
        (
            Builtin::CollIntersects,
            View::List(xs) | View::Set(xs),
            View::List(ys) | View::Set(ys),
        ) => {
            // As `collections::intersects`: whether some element of `xs`
            // equals some element of `ys`; strings only (a `none` element
            // of an optional type takes the general path).
            for x in xs.iter() {
                let View::Str(x) = x.view() else { return None };
                for y in ys.iter() {
                    let View::Str(y) = y.view() else { return None };
                    if x == y {
                        return Some(true);
                    }
                }
            }
            Some(false)
        }
        _ => None,
    }
}

/// Params laid out for native code, with the identities of their
/// collections (see [`HostBuiltins`]).
pub(crate) struct NativeParams {
    frame: ParamFrame,
    by_identity: HashMap<u64, Value>,
}

/// A program compiled to native code, with its params laid out.
pub(crate) struct Native {
    jit: JitProgram,
    params: NativeParams,
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Native")
            .field("jit", &self.jit)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// Each thread's scratch space, reused by its evaluations.
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

impl Native {
    /// Compiles `program` and lays out `params` (its computed params) and
    /// the lets known in advance.
    pub(crate) fn new(
        program: Arc<Program>,
        params: &[Value],
        lets: &[Option<Value>],
    ) -> Result<Native, String> {
        let jit = JitProgram::compile(program).map_err(|e| match e {
            JitError::UnsupportedHost(why) => why,
            other => other.to_string(),
        })?;
        let params = lay_out(&jit, params, lets)?;
        Ok(Native { jit, params })
    }

    /// Lays out new param values and the lets known with them.
    pub(crate) fn set_params(
        &mut self,
        params: &[Value],
        lets: &[Option<Value>],
    ) -> Result<(), String> {
        self.params = lay_out(&self.jit, params, lets)?;
        Ok(())
    }

    /// Lays out other param values, for evaluations with
    /// [`Native::evaluate_with`] (a test's `with`); lets are computed per
    /// evaluation from them.
    pub(crate) fn params_for(&self, params: &[Value]) -> Result<NativeParams, String> {
        lay_out(&self.jit, params, &[])
    }

    /// Evaluates policy `policy` on `input` at `now`.
    pub(crate) fn evaluate(
        &self,
        builtins: &dyn Builtins,
        policy: u32,
        input: &Value,
        now: i64,
    ) -> Decision {
        self.evaluate_with(&self.params, builtins, policy, input, now, &[])
    }

    /// Evaluates with the compiled params and some lets given in advance.
    pub(crate) fn evaluate_lets(
        &self,
        builtins: &dyn Builtins,
        policy: u32,
        input: &Value,
        now: i64,
        lets: &[(u32, Value)],
    ) -> Decision {
        self.evaluate_with(&self.params, builtins, policy, input, now, lets)
    }

    /// Evaluates with other params and some lets given in advance.
    pub(crate) fn evaluate_with(
        &self,
        params: &NativeParams,
        builtins: &dyn Builtins,
        policy: u32,
        input: &Value,
        now: i64,
        lets: &[(u32, Value)],
    ) -> Decision {
        let host = HostBuiltins {
            builtins,
            params: &params.by_identity,
            scans: ScanCache::default(),
        };
        let lets: Vec<(u32, &dyn Source)> =
            lets.iter().map(|(i, v)| (*i, v as &dyn Source)).collect();
        with_scratch(|scratch| {
            let outcome =
                self.jit
                    .evaluate(scratch, &params.frame, &host, policy, input, now, &lets);
            decision_of(policy, outcome)
        })
    }

    /// Evaluates policy `policy` on JSON text decoded straight into the
    /// frame, once `admit` (if any) has accepted its sizes. `None` when the
    /// input is refused: the caller's reference decoder refuses it too and
    /// says why.
    pub(crate) fn evaluate_json(
        &self,
        builtins: &dyn Builtins,
        policy: u32,
        json: &[u8],
        limits: &Limits,
        admit: Option<Admit<'_>>,
        now: i64,
    ) -> Option<Decision> {
        let host = HostBuiltins {
            builtins,
            params: &self.params.by_identity,
            scans: ScanCache::default(),
        };
        with_scratch(|scratch| {
            self.jit
                .evaluate_json(
                    scratch,
                    &self.params.frame,
                    &host,
                    policy,
                    json,
                    limits,
                    admit,
                    now,
                )
                .map(|outcome| decision_of(policy, outcome))
        })
    }

    /// Lays out a decoded input for policy `policy` once.
    pub(crate) fn prepare(&self, policy: u32, input: &Value) -> Result<NativeInput, String> {
        let prepared = self.jit.prepare(policy, input)?;
        let originals = Originals::of(input, prepared.input());
        Ok(NativeInput {
            prepared,
            originals,
        })
    }

    /// Evaluates the policy of an input laid out by [`Native::prepare`].
    pub(crate) fn evaluate_prepared(
        &self,
        builtins: &dyn Builtins,
        input: &NativeInput,
        policy: u32,
        now: i64,
    ) -> Decision {
        let host = HostBuiltins {
            builtins,
            params: &self.params.by_identity,
            scans: ScanCache::default(),
        };
        with_scratch(|scratch| {
            let outcome = self.jit.evaluate_prepared(
                scratch,
                &self.params.frame,
                &host,
                &input.prepared,
                now,
            );
            decision_sharing(policy, outcome, &input.originals)
        })
    }
}

/// An input laid out for native code once, with the runtime values of its
/// parts (see [`Originals`]).
#[derive(Debug)]
pub(crate) struct NativeInput {
    prepared: pol_jit::Prepared,
    originals: Originals,
}

/// Runs `f` with this thread's scratch space; a builtin that evaluates
/// another policy on this thread gets scratch space of its own.
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::new()),
    })
}

fn decision_of(policy: u32, outcome: pol_jit::Outcome<'_>) -> Decision {
    decision_sharing(policy, outcome, &Originals::default())
}

/// The decision of an outcome, its value sharing the parts of the input in
/// `originals`.
fn decision_sharing(policy: u32, outcome: pol_jit::Outcome<'_>, originals: &Originals) -> Decision {
    match outcome.error {
        Some(error) => Decision::error(policy, error),
        None => Decision {
            policy,
            effect: outcome.effect,
            fired: crate::decision::Fired::from_words(outcome.fired),
            by_default: outcome.by_default,
            redactions: outcome
                .redactions
                .iter()
                .map(|(rule, findings)| (*rule, findings_of(*findings)))
                .collect(),
            value: outcome.value.map(|v| value_sharing(v, originals)),
            error: None,
        },
    }
}

fn lay_out(
    jit: &JitProgram,
    params: &[Value],
    lets: &[Option<Value>],
) -> Result<NativeParams, String> {
    let sources: Vec<&dyn Source> = params.iter().map(|v| v as &dyn Source).collect();
    let let_sources: Vec<Option<&dyn Source>> = lets
        .iter()
        .map(|v| v.as_ref().map(|v| v as &dyn Source))
        .collect();
    let frame =
        ParamFrame::with_lets(jit.program(), &sources, &let_sources).map_err(|e| e.to_string())?;
    let program = jit.program();
    // Builtins receive the original values of params and known lets, so
    // the matchers compiled for them at load are found by identity.
    let by_identity = params
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let id = frame.identity(program, i);
            (id != 0).then(|| (id, v.clone()))
        })
        .chain(lets.iter().enumerate().filter_map(|(i, v)| {
            let id = frame.let_identity(program, i);
            v.as_ref().filter(|_| id != 0).map(|v| (id, v.clone()))
        }))
        .collect();
    Ok(NativeParams { frame, by_identity })
}

fn findings_of(list: Val<'_>) -> Vec<FindingValue> {
    match value_of(list) {
        Value::List(items) => items
            .iter()
            .filter_map(|v| match v {
                Value::Finding(f) => Some((**f).clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
