//! The frame: how values are laid out in memory for native code.
//!
//! Every value is one 16-byte [`Slot`] of two words, `a` and `b`:
//!
//! | type | `a` | `b` |
//! |---|---|---|
//! | `bool` | 0 or 1 | 1 |
//! | `int`, `duration`, `timestamp` | the `i64` | 1 |
//! | `float` | the `f64`'s bits | 1 |
//! | enum | the variant's index | 1 |
//! | `string` | pointer to UTF-8 bytes (never null) | length in bytes |
//! | `list<T>`, `set<T>` | pointer to the element slots (never null) | element count |
//! | `map<string, T>` | pointer to entries: key slot, value slot, sorted by key bytes | entry count |
//! | schema record | pointer to the field slots, in declaration order | 1 |
//! | `Finding` | pointer to 4 slots: kind, start, end, text | 1 |
//! | decision | pointer to a [`DecisionBlock`] | 1 |
//! | `none` (any `T?`) | 0 | 0 |
//!
//! **Invariant:** a present value is never the all-zero slot (scalars have
//! `b = 1`, pointers are never null), so `none` is the zero slot for every
//! type and an optional needs no extra word.
//!
//! Slots and the memory they point to live in an [`Arena`]: a bump
//! allocator whose chunks never move, reset between evaluations so that a
//! warmed-up engine evaluates without touching the heap. Sets keep the
//! interpreter's order (first occurrence wins), so iteration order, and
//! therefore every result, is the same in both engines.

use std::cell::RefCell;
use std::marker::PhantomData;

use pol_ir::ir::{Program, Type};

/// One value: two machine words (see the module documentation).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slot {
    pub(crate) a: u64,
    pub(crate) b: u64,
}

impl Slot {
    /// `none`.
    pub const NONE: Slot = Slot { a: 0, b: 0 };

    /// Whether this is `none`.
    pub fn is_none(self) -> bool {
        self.a == 0 && self.b == 0
    }

    pub(crate) fn scalar(a: u64) -> Slot {
        Slot { a, b: 1 }
    }
}

/// A non-null, well-aligned address for empty strings and collections.
fn dangling() -> u64 {
    std::ptr::NonNull::<u64>::dangling().as_ptr() as u64
}

/// A bump allocator of 8-byte words whose chunks never move: addresses it
/// hands out stay valid until [`Arena::reset`] (which needs `&mut`, so no
/// view of the arena can outlive it).
#[derive(Debug, Default)]
pub struct Arena {
    chunks: RefCell<Vec<Vec<u64>>>,
}

/// The first chunk's size, in words (32 KiB).
const FIRST_CHUNK: usize = 4096;

impl Arena {
    /// An empty arena; it allocates its first chunk when first used.
    pub const fn new() -> Arena {
        Arena {
            chunks: RefCell::new(Vec::new()),
        }
    }

    /// `words` zeroed words; the address stays valid until the next reset.
    pub fn alloc(&self, words: usize) -> *mut u64 {
        if words == 0 {
            return dangling() as *mut u64;
        }
        let mut chunks = self.chunks.borrow_mut();
        let fits = chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= words);
        if !fits {
            let last = chunks.last().map_or(0, Vec::capacity);
            let size = (last * 2).max(FIRST_CHUNK).max(words);
            chunks.push(Vec::with_capacity(size));
        }
        let chunk = chunks.last_mut().expect("a chunk was just ensured");
        let start = chunk.len();
        // Within capacity: the buffer does not move.
        chunk.resize(start + words, 0);
        chunk[start..].as_mut_ptr()
    }

    /// Forgets every allocation, keeping the largest chunk for reuse.
    pub fn reset(&mut self) {
        let chunks = self.chunks.get_mut();
        if chunks.len() > 1 {
            let largest = chunks
                .iter()
                .enumerate()
                .max_by_key(|(_, c)| c.capacity())
                .map_or(0, |(i, _)| i);
            let keep = chunks.swap_remove(largest);
            chunks.clear();
            chunks.push(keep);
        }
        if let Some(chunk) = chunks.last_mut() {
            chunk.clear();
        }
    }

    /// Bytes reserved by the arena's chunks.
    pub fn reserved_bytes(&self) -> usize {
        self.chunks.borrow().iter().map(|c| c.capacity() * 8).sum()
    }

    /// Copies `text` into the arena: a string slot.
    pub(crate) fn string(&self, text: &str) -> Slot {
        if text.is_empty() {
            return Slot {
                a: dangling(),
                b: 0,
            };
        }
        let words = text.len().div_ceil(8);
        let ptr = self.alloc(words) as *mut u8;
        // SAFETY: `ptr` points to `words * 8 >= text.len()` fresh bytes that
        // nothing else references, and `text` does not overlap them.
        unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), ptr, text.len()) };
        Slot {
            a: ptr as u64,
            b: text.len() as u64,
        }
    }

    /// Copies `slots` into the arena: the address of the copy.
    pub(crate) fn slots(&self, slots: &[Slot]) -> u64 {
        if slots.is_empty() {
            return dangling();
        }
        let ptr = self.alloc(slots.len() * 2) as *mut Slot;
        // SAFETY: fresh, 8-aligned (Slot is two u64s), large enough, and
        // not overlapping `slots`.
        unsafe { std::ptr::copy_nonoverlapping(slots.as_ptr(), ptr, slots.len()) };
        ptr as u64
    }
}

/// What a host value looks like to [`encode`]: the runtime implements this
/// for its own value type, so the JIT does not depend on it.
pub trait Source {
    /// The value's shape.
    fn shape(&self) -> Shape<'_>;
}

/// The shape of a [`Source`] value.
#[derive(Debug)]
pub enum Shape<'s> {
    /// `none`.
    None,
    /// A bool.
    Bool(bool),
    /// An int, duration or timestamp.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(&'s str),
    /// An enum variant's index.
    Variant(u32),
    /// List, set or record elements, in order.
    Seq(Vec<&'s dyn Source>),
    /// Map entries, sorted by key.
    Map(Vec<(&'s str, &'s dyn Source)>),
    /// A finding.
    Finding {
        /// Its kind.
        kind: &'s str,
        /// Start offset.
        start: i64,
        /// End offset.
        end: i64,
        /// Matched text.
        text: &'s str,
    },
}

impl std::fmt::Debug for dyn Source + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shape().fmt(f)
    }
}

/// A value does not have the shape its type needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeMismatch(pub String);

impl std::fmt::Display for ShapeMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "value does not fit its type: {}", self.0)
    }
}

impl std::error::Error for ShapeMismatch {}

/// Lays `value` out in `arena` as type `ty` of `program`, checking its
/// shape against the type all the way down (so every slot handed to native
/// code matches its type).
pub fn encode<'a>(
    program: &'a Program,
    arena: &'a Arena,
    ty: &'a Type,
    value: &dyn Source,
) -> Result<Val<'a>, ShapeMismatch> {
    let slot = encode_slot(program, arena, ty, value, 0)?;
    Ok(Val {
        slot,
        ty,
        program,
        _arena: PhantomData,
    })
}

/// Values nest as deep as their types, which the checker bounds; this
/// guards a hand-made program.
const MAX_DEPTH: usize = 256;

fn encode_slot(
    program: &Program,
    arena: &Arena,
    ty: &Type,
    value: &dyn Source,
    depth: usize,
) -> Result<Slot, ShapeMismatch> {
    if depth > MAX_DEPTH {
        return Err(ShapeMismatch("nested too deeply".into()));
    }
    let mismatch = |what: &Shape<'_>| Err(ShapeMismatch(format!("{ty:?} given {what:?}")));
    let shape = value.shape();
    Ok(match (ty, &shape) {
        (_, Shape::None) if matches!(ty, Type::Optional(_) | Type::None) => Slot::NONE,
        (Type::Optional(inner), _) => return encode_slot(program, arena, inner, value, depth),
        (Type::Bool, Shape::Bool(b)) => Slot::scalar(u64::from(*b)),
        (Type::Int | Type::Duration | Type::Timestamp, Shape::Int(n)) => Slot::scalar(*n as u64),
        (Type::Float, Shape::Float(f)) => Slot::scalar(f.to_bits()),
        (Type::String, Shape::Str(s)) => arena.string(s),
        (Type::Enum(id), Shape::Variant(v)) => {
            let count = program
                .enums
                .get(id.0 as usize)
                .map_or(0, |e| e.variants.len());
            if *v as usize >= count {
                return mismatch(&shape);
            }
            Slot::scalar(u64::from(*v))
        }
        (Type::List(elem) | Type::Set(elem), Shape::Seq(items)) => {
            let mut slots = Vec::with_capacity(items.len());
            for item in items {
                slots.push(encode_slot(program, arena, elem, *item, depth + 1)?);
            }
            Slot {
                a: arena.slots(&slots),
                b: slots.len() as u64,
            }
        }
        (Type::Map(elem), Shape::Map(entries)) => {
            let mut slots = Vec::with_capacity(entries.len() * 2);
            let mut previous: Option<&str> = None;
            for (key, item) in entries {
                if previous.is_some_and(|p| p.as_bytes() >= key.as_bytes()) {
                    return Err(ShapeMismatch("map keys out of order".into()));
                }
                previous = Some(key);
                slots.push(arena.string(key));
                slots.push(encode_slot(program, arena, elem, *item, depth + 1)?);
            }
            Slot {
                a: arena.slots(&slots),
                b: entries.len() as u64,
            }
        }
        (Type::Schema(id), Shape::Seq(fields)) => {
            let schema = program
                .schemas
                .get(id.0 as usize)
                .ok_or_else(|| ShapeMismatch(format!("no schema {}", id.0)))?;
            if schema.fields.len() != fields.len() {
                return mismatch(&shape);
            }
            let mut slots = Vec::with_capacity(fields.len());
            for (field, item) in schema.fields.iter().zip(fields) {
                slots.push(encode_slot(program, arena, &field.ty, *item, depth + 1)?);
            }
            Slot::scalar(arena.slots(&slots))
        }
        (
            Type::Finding,
            Shape::Finding {
                kind,
                start,
                end,
                text,
            },
        ) => {
            let slots = [
                arena.string(kind),
                Slot::scalar(*start as u64),
                Slot::scalar(*end as u64),
                arena.string(text),
            ];
            Slot::scalar(arena.slots(&slots))
        }
        _ => return mismatch(&shape),
    })
}

/// A value in a frame, with its type: what native code takes and returns.
/// Only [`encode`] and the compiled code make one, so its slot always
/// matches its type.
#[derive(Debug, Clone, Copy)]
pub struct Val<'a> {
    pub(crate) slot: Slot,
    pub(crate) ty: &'a Type,
    pub(crate) program: &'a Program,
    pub(crate) _arena: PhantomData<&'a Arena>,
}

/// A [`Val`] taken apart.
#[derive(Debug, Clone, Copy)]
pub enum View<'a> {
    /// `none`.
    None,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(&'a str),
    /// A duration, in nanoseconds.
    Duration(i64),
    /// A timestamp, in nanoseconds since the epoch.
    Timestamp(i64),
    /// An enum variant's index.
    Variant(u32),
    /// A list's elements.
    List(Seq<'a>),
    /// A set's elements, in the interpreter's order.
    Set(Seq<'a>),
    /// A map's entries, sorted by key.
    Map(Entries<'a>),
    /// A record's fields, in declaration order.
    Record(Fields<'a>),
    /// A finding.
    Finding {
        /// Its kind.
        kind: &'a str,
        /// Start offset.
        start: i64,
        /// End offset.
        end: i64,
        /// Matched text.
        text: &'a str,
    },
}

/// Elements of a list or set.
#[derive(Debug, Clone, Copy)]
pub struct Seq<'a> {
    slots: &'a [Slot],
    elem: &'a Type,
    program: &'a Program,
}

impl<'a> Seq<'a> {
    /// How many elements.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The elements, in order.
    pub fn iter(&self) -> impl Iterator<Item = Val<'a>> + 'a {
        let (elem, program) = (self.elem, self.program);
        self.slots.iter().map(move |slot| Val {
            slot: *slot,
            ty: elem,
            program,
            _arena: PhantomData,
        })
    }
}

/// Entries of a map.
#[derive(Debug, Clone, Copy)]
pub struct Entries<'a> {
    slots: &'a [Slot],
    elem: &'a Type,
    program: &'a Program,
}

impl<'a> Entries<'a> {
    /// How many entries.
    pub fn len(&self) -> usize {
        self.slots.len() / 2
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The entries, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Val<'a>)> + 'a {
        let (elem, program) = (self.elem, self.program);
        self.slots.chunks_exact(2).map(move |pair| {
            // SAFETY: map keys are string slots written by `Arena::string`.
            let key = unsafe { str_of(pair[0]) };
            (
                key,
                Val {
                    slot: pair[1],
                    ty: elem,
                    program,
                    _arena: PhantomData,
                },
            )
        })
    }
}

/// Fields of a record.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    slots: &'a [Slot],
    schema: &'a pol_ir::ir::Schema,
    program: &'a Program,
}

impl<'a> Fields<'a> {
    /// The fields, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = Val<'a>> + 'a {
        let program = self.program;
        self.slots
            .iter()
            .zip(&self.schema.fields)
            .map(move |(slot, field)| Val {
                slot: *slot,
                ty: &field.ty,
                program,
                _arena: PhantomData,
            })
    }
}

/// The string a string slot points to.
///
/// # Safety
///
/// `slot` must be a string slot made by [`Arena::string`] (or by compiled
/// code, which writes valid UTF-8 the same way) whose arena is alive.
pub(crate) unsafe fn str_of<'a>(slot: Slot) -> &'a str {
    // SAFETY: by the contract, `a` points to `b` initialized bytes of
    // valid UTF-8 that live as long as the arena.
    unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(
            slot.a as *const u8,
            slot.b as usize,
        ))
    }
}

/// `count` slots at `ptr`.
///
/// # Safety
///
/// `ptr` must point to `count` initialized slots in a live arena.
unsafe fn slots_at<'a>(ptr: u64, count: usize) -> &'a [Slot] {
    // SAFETY: by the contract.
    unsafe { std::slice::from_raw_parts(ptr as *const Slot, count) }
}

impl<'a> Val<'a> {
    /// The type.
    pub fn ty(&self) -> &'a Type {
        self.ty
    }

    /// Where a string's or collection's contents are (0 for scalars and
    /// `none`): two values with the same identity share their contents, so
    /// a host can recognise a param it prepared (a compiled phrase set).
    pub fn identity(&self) -> u64 {
        let ty = match self.ty {
            Type::Optional(inner) => &**inner,
            other => other,
        };
        match ty {
            // Empty strings and collections all share one dangling address:
            // they have no identity.
            Type::String | Type::List(_) | Type::Set(_) | Type::Map(_) if self.slot.b == 0 => 0,
            Type::String
            | Type::List(_)
            | Type::Set(_)
            | Type::Map(_)
            | Type::Schema(_)
            | Type::Finding => self.slot.a,
            _ => 0,
        }
    }

    /// Takes the value apart.
    pub fn view(&self) -> View<'a> {
        let slot = self.slot;
        if slot.is_none() {
            return View::None;
        }
        let program = self.program;
        let ty = match self.ty {
            Type::Optional(inner) => &**inner,
            other => other,
        };
        // SAFETY (every block below): a `Val` is made only by `encode` or
        // by compiled code, which lay out `slot` as `ty` in a live arena
        // (the `'a` borrow of the arena keeps it from being reset).
        match ty {
            Type::Bool => View::Bool(slot.a != 0),
            Type::Int => View::Int(slot.a as i64),
            Type::Float => View::Float(f64::from_bits(slot.a)),
            Type::String => View::Str(unsafe { str_of(slot) }),
            Type::Duration => View::Duration(slot.a as i64),
            Type::Timestamp => View::Timestamp(slot.a as i64),
            Type::Enum(_) => View::Variant(slot.a as u32),
            Type::List(elem) => View::List(Seq {
                slots: unsafe { slots_at(slot.a, slot.b as usize) },
                elem,
                program,
            }),
            Type::Set(elem) => View::Set(Seq {
                slots: unsafe { slots_at(slot.a, slot.b as usize) },
                elem,
                program,
            }),
            Type::Map(elem) => View::Map(Entries {
                slots: unsafe { slots_at(slot.a, slot.b as usize * 2) },
                elem,
                program,
            }),
            Type::Schema(id) => match program.schemas.get(id.0 as usize) {
                Some(schema) => View::Record(Fields {
                    slots: unsafe { slots_at(slot.a, schema.fields.len()) },
                    schema,
                    program,
                }),
                None => View::None,
            },
            Type::Finding => {
                let parts = unsafe { slots_at(slot.a, 4) };
                View::Finding {
                    kind: unsafe { str_of(parts[0]) },
                    start: parts[1].a as i64,
                    end: parts[2].a as i64,
                    text: unsafe { str_of(parts[3]) },
                }
            }
            Type::Decision | Type::ValueDecision(_) | Type::None | Type::Optional(_) => View::None,
        }
    }
}
