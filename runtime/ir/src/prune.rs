//! Pruning: a program with only some packages, and what they use.
//!
//! The front end compiles the whole embedded standard library with every
//! project; a bundle or an engine needs only the policies a host may call
//! and the definitions they reach. Fewer definitions mean a smaller bundle,
//! less native code, and a faster load.

use crate::ir::{Body, EnumId, Op, PolicyKind, Program, SchemaId, Type};

/// The package of a qualified name (`std.tools.call` → `std.tools`).
fn package_of(name: &str) -> Option<&str> {
    name.rsplit_once('.').map(|(package, _)| package)
}

/// The program with every definition of the packages `keep` accepts, and
/// the definitions of other packages they reach (schemas, enums, lets,
/// params, called policies), renumbered in their original order. Source
/// paths are kept, so locations stay valid.
pub fn retain_packages(program: &Program, keep: impl Fn(&str) -> bool) -> Program {
    let kept = |name: &str| package_of(name).is_some_and(&keep);
    let mut used = Used {
        schemas: vec![false; program.schemas.len()],
        enums: program.enums.iter().map(|e| kept(&e.name)).collect(),
        lets: vec![false; program.lets.len()],
        params: vec![false; program.params.len()],
        policies: vec![false; program.policies.len()],
    };
    for (index, schema) in program.schemas.iter().enumerate() {
        if kept(&schema.name) {
            used.schema(program, SchemaId(index as u32));
        }
    }
    let mut work: Vec<Definition> = Vec::new();
    for (index, item) in program.lets.iter().enumerate() {
        if kept(&item.name) {
            used.lets[index] = true;
            work.push(Definition::Let(index));
        }
    }
    for (index, param) in program.params.iter().enumerate() {
        if kept(&param.name) {
            used.params[index] = true;
            work.push(Definition::Param(index));
        }
    }
    for (index, policy) in program.policies.iter().enumerate() {
        if kept(&policy.name) {
            used.policies[index] = true;
            work.push(Definition::Policy(index));
        }
    }
    while let Some(definition) = work.pop() {
        let (body, types): (&Body, Vec<&Type>) = match definition {
            Definition::Let(i) => (&program.lets[i].value, vec![&program.lets[i].ty]),
            Definition::Param(i) => (&program.params[i].value, vec![&program.params[i].ty]),
            Definition::Policy(i) => {
                let policy = &program.policies[i];
                let mut types = vec![&policy.input];
                match &policy.kind {
                    PolicyKind::Value { ty, .. } => types.push(ty),
                    PolicyKind::Filter { elem } => types.push(elem),
                    PolicyKind::Decision { .. } => {}
                }
                (&policy.body, types)
            }
        };
        for ty in types.into_iter().chain(&body.slots) {
            used.ty(program, ty);
        }
        for node in &body.nodes {
            used.ty(program, &node.ty);
            let reached = match &node.op {
                Op::Let(i) => Some((Definition::Let(*i as usize), &mut used.lets[*i as usize])),
                Op::Param(i) => Some((
                    Definition::Param(*i as usize),
                    &mut used.params[*i as usize],
                )),
                Op::CallPolicy { policy, .. } => Some((
                    Definition::Policy(*policy as usize),
                    &mut used.policies[*policy as usize],
                )),
                Op::Record { schema, .. } => {
                    used.schema(program, *schema);
                    None
                }
                _ => None,
            };
            if let Some((definition, seen)) = reached
                && !*seen
            {
                *seen = true;
                work.push(definition);
            }
        }
    }
    let map = |flags: &[bool]| -> Vec<Option<u32>> {
        let mut next = 0;
        flags
            .iter()
            .map(|&kept| {
                kept.then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    };
    let renumber = Renumber {
        schemas: map(&used.schemas),
        enums: map(&used.enums),
        lets: map(&used.lets),
        params: map(&used.params),
        policies: map(&used.policies),
    };
    let pick = |flags: &[bool], index: usize| flags[index];
    let mut out = Program {
        format_version: program.format_version,
        schemas: program
            .schemas
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(&used.schemas, *i))
            .map(|(_, s)| s.clone())
            .collect(),
        enums: program
            .enums
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(&used.enums, *i))
            .map(|(_, e)| e.clone())
            .collect(),
        params: program
            .params
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(&used.params, *i))
            .map(|(_, p)| p.clone())
            .collect(),
        lets: program
            .lets
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(&used.lets, *i))
            .map(|(_, l)| l.clone())
            .collect(),
        policies: program
            .policies
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(&used.policies, *i))
            .map(|(_, p)| p.clone())
            .collect(),
        sources: program.sources.clone(),
        revision: program.revision.clone(),
    };
    for schema in &mut out.schemas {
        for field in &mut schema.fields {
            renumber.ty(&mut field.ty);
        }
    }
    for param in &mut out.params {
        renumber.ty(&mut param.ty);
        renumber.body(&mut param.value);
    }
    for item in &mut out.lets {
        renumber.ty(&mut item.ty);
        renumber.body(&mut item.value);
    }
    for policy in &mut out.policies {
        renumber.ty(&mut policy.input);
        match &mut policy.kind {
            PolicyKind::Value { ty, .. } => renumber.ty(ty),
            PolicyKind::Filter { elem } => renumber.ty(elem),
            PolicyKind::Decision { .. } => {}
        }
        renumber.body(&mut policy.body);
    }
    out
}

#[derive(Clone, Copy)]
enum Definition {
    Let(usize),
    Param(usize),
    Policy(usize),
}

struct Used {
    schemas: Vec<bool>,
    enums: Vec<bool>,
    lets: Vec<bool>,
    params: Vec<bool>,
    policies: Vec<bool>,
}

impl Used {
    fn ty(&mut self, program: &Program, ty: &Type) {
        match ty {
            Type::Schema(id) => self.schema(program, *id),
            Type::Enum(id) => {
                if let Some(flag) = self.enums.get_mut(id.0 as usize) {
                    *flag = true;
                }
            }
            Type::List(t)
            | Type::Set(t)
            | Type::Map(t)
            | Type::Optional(t)
            | Type::ValueDecision(t) => self.ty(program, t),
            _ => {}
        }
    }

    fn schema(&mut self, program: &Program, id: SchemaId) {
        let index = id.0 as usize;
        match self.schemas.get(index) {
            Some(false) => {}
            _ => return,
        }
        self.schemas[index] = true;
        for field in &program.schemas[index].fields {
            self.ty(program, &field.ty);
        }
    }
}

struct Renumber {
    schemas: Vec<Option<u32>>,
    enums: Vec<Option<u32>>,
    lets: Vec<Option<u32>>,
    params: Vec<Option<u32>>,
    policies: Vec<Option<u32>>,
}

impl Renumber {
    /// The new index of a kept definition. Everything a kept definition
    /// reads was marked, so the lookup always finds one; `u32::MAX` (out of
    /// range, refused by the verifier) stands for the impossible miss.
    fn of(map: &[Option<u32>], index: u32) -> u32 {
        map.get(index as usize)
            .copied()
            .flatten()
            .unwrap_or(u32::MAX)
    }

    fn ty(&self, ty: &mut Type) {
        match ty {
            Type::Schema(id) => *id = SchemaId(Self::of(&self.schemas, id.0)),
            Type::Enum(id) => *id = EnumId(Self::of(&self.enums, id.0)),
            Type::List(t)
            | Type::Set(t)
            | Type::Map(t)
            | Type::Optional(t)
            | Type::ValueDecision(t) => self.ty(t),
            _ => {}
        }
    }

    fn body(&self, body: &mut Body) {
        for slot in &mut body.slots {
            self.ty(slot);
        }
        for node in &mut body.nodes {
            self.ty(&mut node.ty);
            match &mut node.op {
                Op::Let(i) => *i = Self::of(&self.lets, *i),
                Op::Param(i) => *i = Self::of(&self.params, *i),
                Op::CallPolicy { policy, .. } => *policy = Self::of(&self.policies, *policy),
                Op::Record { schema, .. } => *schema = SchemaId(Self::of(&self.schemas, schema.0)),
                _ => {}
            }
        }
    }
}
