//! JSON text straight into a frame: the input path of `evaluate_json`.
//!
//! One pass over the text, driven by the entrypoint's type, writing slots
//! into the evaluation's arena: no intermediate value tree, and no heap
//! allocation once the scratch space has warmed up (collection elements
//! gather on reusable stacks before they are copied into the arena).
//!
//! **Invariant:** this decoder accepts exactly the inputs the runtime's
//! reference decoder (`pol_runtime::decode`) accepts, with the same limits
//! ([`Limits`], one definition for both), and builds the same values and
//! the same [`InputSizes`]. It does not explain refusals: when it refuses,
//! the runtime runs the reference decoder for the message, so error texts
//! have one source.

use std::cell::{Cell, RefCell};
use std::fmt;

use pol_ir::cost::InputSizes;
use pol_ir::ir::{Program, Type};
use pol_ir::limits::Limits;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::frame::{Arena, Slot, Val};

/// Reusable stacks: collection elements, map entries and record fields
/// gather here while their object or array is read.
#[derive(Debug, Default)]
pub(crate) struct Stacks {
    slots: Vec<Slot>,
    pairs: Vec<(Slot, Slot)>,
    seen: Vec<bool>,
}

impl Stacks {
    /// Empty stacks.
    pub(crate) const fn new() -> Stacks {
        Stacks {
            slots: Vec::new(),
            pairs: Vec::new(),
            seen: Vec::new(),
        }
    }
}

/// The input was refused; the reference decoder says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused;

struct Cx<'a> {
    program: &'a Program,
    arena: &'a Arena,
    limits: &'a Limits,
    stacks: RefCell<Stacks>,
    /// The most elements of a collection read so far.
    longest_collection: Cell<usize>,
    /// The most bytes of a string or map key read so far.
    longest_string: Cell<usize>,
}

impl Cx<'_> {
    fn saw_collection(&self, len: usize) {
        if len > self.longest_collection.get() {
            self.longest_collection.set(len);
        }
    }

    fn saw_string(&self, len: usize) {
        if len > self.longest_string.get() {
            self.longest_string.set(len);
        }
    }
}

/// Decodes `json` as a value of `ty` into `arena`; with the input's sizes,
/// measured as the reference decoder measures them.
pub(crate) fn decode(
    program: &Program,
    arena: &Arena,
    stacks: &mut Stacks,
    ty: &Type,
    json: &[u8],
    limits: &Limits,
) -> Result<(Slot, InputSizes), Refused> {
    if json.len() > limits.max_bytes {
        return Err(Refused);
    }
    let text = std::str::from_utf8(json).map_err(|_| Refused)?;
    let cx = Cx {
        program,
        arena,
        limits,
        stacks: RefCell::new(std::mem::take(stacks)),
        longest_collection: Cell::new(0),
        longest_string: Cell::new(0),
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let result = FrameSeed {
        cx: &cx,
        ty,
        depth: 0,
    }
    .deserialize(&mut deserializer)
    .and_then(|slot| deserializer.end().map(|()| slot));
    let mut used = cx.stacks.into_inner();
    used.slots.clear();
    used.pairs.clear();
    used.seen.clear();
    *stacks = used;
    let sizes = InputSizes {
        longest_collection: cx.longest_collection.get() as u64,
        longest_string: cx.longest_string.get() as u64,
        bytes: json.len() as u64,
    };
    result
        .map(|slot| (slot, sizes))
        .map_err(|_: serde_json::Error| Refused)
}

#[derive(Clone, Copy)]
struct FrameSeed<'c, 'a> {
    cx: &'c Cx<'a>,
    ty: &'a Type,
    depth: usize,
}

fn refuse<E: de::Error>() -> E {
    E::custom("refused")
}

impl<'de> DeserializeSeed<'de> for FrameSeed<'_, '_> {
    type Value = Slot;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Slot, D::Error> {
        if self.depth > self.cx.limits.max_depth {
            return Err(refuse());
        }
        match self.ty {
            Type::Optional(_) => deserializer.deserialize_option(self),
            Type::Decision | Type::ValueDecision(_) | Type::None => Err(refuse()),
            _ => deserializer.deserialize_any(self),
        }
    }
}

/// Reads an object key into the arena (a string slot), without allocating.
/// A map's key (`map_key`) is data: it is held to the string limit and
/// measured; a record's field name is not.
struct KeySeed<'c, 'a> {
    cx: &'c Cx<'a>,
    map_key: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Slot;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Slot, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = Slot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Slot, E> {
        if self.map_key {
            if s.len() > self.cx.limits.max_string {
                return Err(refuse());
            }
            self.cx.saw_string(s.len());
        }
        Ok(self.cx.arena.string(s))
    }
}

/// The text of a string slot written by this decoder.
fn text_of(slot: Slot) -> &'static str {
    if slot.b == 0 {
        return "";
    }
    // SAFETY: string slots made by `Arena::string` point to `b` bytes of
    // valid UTF-8 copied from a `&str`, alive until the arena resets, which
    // cannot happen while the decoder (which borrows the arena) runs. The
    // `'static` lifetime never escapes this module's comparisons.
    unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(
            slot.a as *const u8,
            slot.b as usize,
        ))
    }
}

impl<'de> Visitor<'de> for FrameSeed<'_, '_> {
    type Value = Slot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value of the input's type")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Slot, E> {
        match self.ty {
            Type::Bool => Ok(Slot::scalar(u64::from(b))),
            _ => Err(refuse()),
        }
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Slot, E> {
        match self.ty {
            Type::Int => Ok(Slot::scalar(n as u64)),
            Type::Float => Ok(Slot::scalar((n as f64).to_bits())),
            _ => Err(refuse()),
        }
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Slot, E> {
        match (self.ty, i64::try_from(n)) {
            (Type::Int, Ok(n)) => Ok(Slot::scalar(n as u64)),
            (Type::Float, _) => Ok(Slot::scalar((n as f64).to_bits())),
            _ => Err(refuse()),
        }
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Slot, E> {
        match self.ty {
            Type::Float => Ok(Slot::scalar(f.to_bits())),
            _ => Err(refuse()),
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Slot, E> {
        if s.len() > self.cx.limits.max_string {
            return Err(refuse());
        }
        self.cx.saw_string(s.len());
        match self.ty {
            Type::String => Ok(self.cx.arena.string(s)),
            Type::Duration => pol_ir::time::parse_duration_literal(s)
                .map(|n| Slot::scalar(n as u64))
                .ok_or_else(refuse),
            Type::Timestamp => pol_ir::time::parse_timestamp(s)
                .map(|n| Slot::scalar(n as u64))
                .map_err(|_| refuse()),
            Type::Enum(id) => {
                let variants = self
                    .cx
                    .program
                    .enums
                    .get(id.0 as usize)
                    .map(|e| e.variants.as_slice())
                    .unwrap_or(&[]);
                match variants.iter().position(|v| v == s) {
                    Some(index) => Ok(Slot::scalar(index as u64)),
                    None => Err(refuse()),
                }
            }
            _ => Err(refuse()),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Slot, E> {
        match self.ty {
            Type::Optional(_) => Ok(Slot::NONE),
            _ => Err(refuse()),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Slot, E> {
        self.visit_none()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Slot, D::Error> {
        match self.ty {
            Type::Optional(inner) => FrameSeed { ty: inner, ..self }.deserialize(deserializer),
            _ => Err(refuse()),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Slot, A::Error> {
        let elem = match self.ty {
            Type::List(t) | Type::Set(t) => &**t,
            _ => return Err(refuse()),
        };
        let cx = self.cx;
        let mark = cx.stacks.borrow().slots.len();
        let mut count = 0usize;
        let item_seed = FrameSeed {
            cx,
            ty: elem,
            depth: self.depth + 1,
        };
        while let Some(item) = seq.next_element_seed(item_seed)? {
            cx.stacks.borrow_mut().slots.push(item);
            count += 1;
            if count > cx.limits.max_collection {
                return Err(refuse());
            }
        }
        cx.saw_collection(count);
        let mut stacks = cx.stacks.borrow_mut();
        if matches!(self.ty, Type::Set(_)) {
            // Duplicates dropped, first occurrence kept (as `Value::set`).
            let items = &mut stacks.slots[mark..];
            let mut kept = 0;
            for i in 0..items.len() {
                let candidate = items[i];
                let seen = items[..kept]
                    .iter()
                    .any(|s| crate::shims::equal(cx.val(*s, elem), cx.val(candidate, elem)));
                if !seen {
                    items[kept] = candidate;
                    kept += 1;
                }
            }
            stacks.slots.truncate(mark + kept);
        }
        let items = &stacks.slots[mark..];
        let slot = Slot {
            a: cx.arena.slots(items),
            b: items.len() as u64,
        };
        stacks.slots.truncate(mark);
        Ok(slot)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slot, A::Error> {
        let cx = self.cx;
        match self.ty {
            Type::Map(value_ty) => {
                let mark = cx.stacks.borrow().pairs.len();
                let value_seed = FrameSeed {
                    cx,
                    ty: value_ty,
                    depth: self.depth + 1,
                };
                while let Some(key) = map.next_key_seed(KeySeed { cx, map_key: true })? {
                    if cx.stacks.borrow().pairs.len() - mark >= cx.limits.max_collection {
                        return Err(refuse());
                    }
                    let value = map.next_value_seed(value_seed)?;
                    cx.stacks.borrow_mut().pairs.push((key, value));
                }
                let mut stacks = cx.stacks.borrow_mut();
                let Stacks { slots, pairs, .. } = &mut *stacks;
                let entries = &mut pairs[mark..];
                cx.saw_collection(entries.len());
                // Sorted by key bytes, as the runtime's maps; a key twice is
                // refused (the reference decoder sees it in document order).
                entries.sort_by(|x, y| text_of(x.0).as_bytes().cmp(text_of(y.0).as_bytes()));
                if entries
                    .windows(2)
                    .any(|w| text_of(w[0].0) == text_of(w[1].0))
                {
                    return Err(refuse());
                }
                let start = slots.len();
                for (key, value) in entries.iter() {
                    slots.push(*key);
                    slots.push(*value);
                }
                let count = entries.len();
                let slot = Slot {
                    a: cx.arena.slots(&slots[start..]),
                    b: count as u64,
                };
                slots.truncate(start);
                pairs.truncate(mark);
                Ok(slot)
            }
            Type::Schema(id) => {
                let schema = cx.program.schemas.get(id.0 as usize).ok_or_else(refuse)?;
                let fields = schema.fields.len();
                let (mark, seen_mark) = {
                    let mut stacks = cx.stacks.borrow_mut();
                    let mark = stacks.slots.len();
                    let seen_mark = stacks.seen.len();
                    stacks.slots.resize(mark + fields, Slot::NONE);
                    stacks.seen.resize(seen_mark + fields, false);
                    (mark, seen_mark)
                };
                while let Some(key) = map.next_key_seed(KeySeed { cx, map_key: false })? {
                    let name = text_of(key);
                    match schema.fields.iter().position(|f| f.name == name) {
                        Some(index) => {
                            if std::mem::replace(
                                &mut cx.stacks.borrow_mut().seen[seen_mark + index],
                                true,
                            ) {
                                return Err(refuse());
                            }
                            let value = map.next_value_seed(FrameSeed {
                                cx,
                                ty: &schema.fields[index].ty,
                                depth: self.depth + 1,
                            })?;
                            cx.stacks.borrow_mut().slots[mark + index] = value;
                        }
                        // Fields the schema does not declare are ignored.
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let mut stacks = cx.stacks.borrow_mut();
                for (index, field) in schema.fields.iter().enumerate() {
                    let present = stacks.seen[seen_mark + index];
                    if !present && !matches!(field.ty, Type::Optional(_)) {
                        return Err(refuse());
                    }
                }
                let slot = Slot::scalar(cx.arena.slots(&stacks.slots[mark..mark + fields]));
                stacks.slots.truncate(mark);
                stacks.seen.truncate(seen_mark);
                Ok(slot)
            }
            Type::Finding => {
                let mut parts: [Option<Slot>; 4] = [None; 4];
                while let Some(key) = map.next_key_seed(KeySeed { cx, map_key: false })? {
                    let (index, ty) = match text_of(key) {
                        "kind" => (0, &Type::String),
                        "start" => (1, &Type::Int),
                        "end" => (2, &Type::Int),
                        "text" => (3, &Type::String),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    let value = map.next_value_seed(FrameSeed {
                        cx,
                        ty,
                        depth: self.depth + 1,
                    })?;
                    if parts[index].replace(value).is_some() {
                        return Err(refuse());
                    }
                }
                match parts {
                    [Some(kind), Some(start), Some(end), text] => {
                        let text = text.unwrap_or_else(|| cx.arena.string(""));
                        Ok(Slot::scalar(cx.arena.slots(&[kind, start, end, text])))
                    }
                    _ => Err(refuse()),
                }
            }
            _ => Err(refuse()),
        }
    }
}

impl<'a> Cx<'a> {
    fn val(&self, slot: Slot, ty: &'a Type) -> Val<'a> {
        Val {
            slot,
            ty,
            program: self.program,
            _arena: std::marker::PhantomData,
        }
    }
}
