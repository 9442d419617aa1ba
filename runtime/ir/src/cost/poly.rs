//! Polynomials with non-negative coefficients over size variables: the
//! language of cost bounds.
//!
//! Every coefficient is non-negative and every variable stands for a
//! non-negative size, so a polynomial is monotone in each variable, and
//! comparing or maximizing polynomials coefficient by coefficient is sound:
//! if every coefficient of `p` is at most the same coefficient of `q`, then
//! `p ≤ q` at every point.
//!
//! Coefficients are `f64`, so a bound can say `s/32` (at most one finding
//! per 32 bytes). Arithmetic rounds *up*: a result that is not exact is
//! moved to the next float above, so every coefficient and every value is
//! at least the exact one (integers below 2⁵³, the usual case, stay
//! exact). A polynomial too large to keep (too many terms, too high a
//! degree, an infinite coefficient) becomes *infinite*, which evaluates to
//! infinity everywhere.

use std::collections::BTreeMap;
use std::fmt;

/// A size variable.
///
/// The first three are the input's sizes (see [`super::InputSizes`]);
/// the analysis makes further ones for the element of each loop while it
/// bounds the loop's body, and sums them away before it finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub(crate) u32);

impl Var {
    /// `n`: the number of elements (or entries) of the input's longest
    /// collection.
    pub const N: Var = Var(0);
    /// `s`: the length in bytes of the input's longest string.
    pub const S: Var = Var(1);
    /// `b`: the input's size in bytes (of JSON text, or its weight for a
    /// value built by the host; see [`super::InputSizes::bytes`]).
    pub const B: Var = Var(2);

    /// Whether this is one of the input's variables `n`, `s`, `b`.
    pub fn is_input(self) -> bool {
        self.0 <= 2
    }

    fn name(self) -> String {
        match self.0 {
            0 => "n".into(),
            1 => "s".into(),
            2 => "b".into(),
            v => format!("e{v}"),
        }
    }
}

/// The most terms a polynomial keeps before it counts as infinite.
const MAX_TERMS: usize = 4096;

/// The highest total degree a polynomial may have before it counts as
/// infinite. Realistic policies stay below 4; an analysis that reaches
/// this is describing a blow-up, and an infinite bound refuses it.
const MAX_DEGREE: u32 = 48;

/// A product of variables with exponents, by variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
struct Mono(Vec<(u32, u32)>);

impl Mono {
    fn var(v: Var) -> Mono {
        Mono(vec![(v.0, 1)])
    }

    fn degree(&self) -> u32 {
        self.0.iter().map(|(_, e)| *e).sum()
    }

    fn exponent(&self, v: Var) -> u32 {
        self.0
            .iter()
            .find(|(x, _)| *x == v.0)
            .map_or(0, |(_, e)| *e)
    }

    fn without(&self, v: Var) -> Mono {
        Mono(self.0.iter().copied().filter(|(x, _)| *x != v.0).collect())
    }

    fn mul(&self, other: &Mono) -> Mono {
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() || j < other.0.len() {
            match (self.0.get(i), other.0.get(j)) {
                (Some(a), Some(b)) if a.0 == b.0 => {
                    out.push((a.0, a.1.saturating_add(b.1)));
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a.0 < b.0 => {
                    out.push(*a);
                    i += 1;
                }
                (Some(_), Some(b)) => {
                    out.push(*b);
                    j += 1;
                }
                (Some(a), None) => {
                    out.push(*a);
                    i += 1;
                }
                (None, Some(b)) => {
                    out.push(*b);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        Mono(out)
    }

    fn eval(&self, value: &dyn Fn(Var) -> f64) -> f64 {
        let mut acc = 1.0;
        for (v, e) in &self.0 {
            let x = value(Var(*v));
            for _ in 0..*e {
                acc = mul_up(acc, x);
            }
        }
        acc
    }
}

/// Whether `x` is an integer that `f64` holds exactly, with room to add
/// and multiply such integers exactly.
fn exact_int(x: f64) -> bool {
    x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0
}

/// `a + b`, rounded up.
fn add_up(a: f64, b: f64) -> f64 {
    let r = a + b;
    if r.is_infinite() || (exact_int(a) && exact_int(b) && exact_int(r)) {
        r
    } else {
        r.next_up()
    }
}

/// `a × b`, rounded up.
fn mul_up(a: f64, b: f64) -> f64 {
    let r = a * b;
    if r.is_infinite() || a == 0.0 || b == 0.0 || (exact_int(a) && exact_int(b) && exact_int(r)) {
        r
    } else {
        r.next_up()
    }
}

/// `a / d`, rounded up.
fn div_up(a: f64, d: f64) -> f64 {
    let r = a / d;
    if exact_int(a) && exact_int(d) && exact_int(r) && r * d == a {
        r
    } else {
        r.next_up()
    }
}

/// `c` as a float at least `c`.
fn from_u64(c: u64) -> f64 {
    let f = c as f64;
    if (f as u128) < u128::from(c) {
        f.next_up()
    } else {
        f
    }
}

/// A polynomial with non-negative coefficients (see the module
/// documentation).
#[derive(Debug, Clone, Default)]
pub struct Poly {
    /// Sorted by monomial; coefficients positive and finite.
    terms: Vec<(Mono, f64)>,
    /// No finite bound.
    infinite: bool,
}

impl PartialEq for Poly {
    fn eq(&self, other: &Poly) -> bool {
        self.infinite == other.infinite
            && self.terms.len() == other.terms.len()
            && self
                .terms
                .iter()
                .zip(&other.terms)
                .all(|((m, c), (n, d))| m == n && c.to_bits() == d.to_bits())
    }
}

impl Eq for Poly {}

impl std::hash::Hash for Poly {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.infinite.hash(state);
        for (m, c) in &self.terms {
            m.hash(state);
            c.to_bits().hash(state);
        }
    }
}

impl Poly {
    /// `0`.
    pub fn zero() -> Poly {
        Poly::default()
    }

    /// A constant.
    pub fn constant(c: u64) -> Poly {
        Poly::from_map(BTreeMap::from([(Mono::default(), from_u64(c))]))
    }

    /// A variable.
    pub fn var(v: Var) -> Poly {
        Poly::from_map(BTreeMap::from([(Mono::var(v), 1.0)]))
    }

    /// No finite bound.
    pub fn infinite() -> Poly {
        Poly {
            terms: Vec::new(),
            infinite: true,
        }
    }

    fn from_map(map: BTreeMap<Mono, f64>) -> Poly {
        let terms: Vec<(Mono, f64)> = map.into_iter().filter(|(_, c)| *c > 0.0).collect();
        let too_big = terms.len() > MAX_TERMS
            || terms
                .iter()
                .any(|(m, c)| m.degree() > MAX_DEGREE || !c.is_finite());
        if too_big {
            return Poly::infinite();
        }
        Poly {
            terms,
            infinite: false,
        }
    }

    /// Whether there is no finite bound.
    pub fn is_infinite(&self) -> bool {
        self.infinite
    }

    /// Whether this is `0`.
    pub fn is_zero(&self) -> bool {
        !self.infinite && self.terms.is_empty()
    }

    /// The value, when this is a constant.
    pub fn as_constant(&self) -> Option<f64> {
        if self.infinite {
            return None;
        }
        match self.terms.as_slice() {
            [] => Some(0.0),
            [(m, c)] if m.0.is_empty() => Some(*c),
            _ => None,
        }
    }

    /// The highest total degree (0 for a constant).
    pub fn degree(&self) -> u32 {
        self.terms
            .iter()
            .map(|(m, _)| m.degree())
            .max()
            .unwrap_or(0)
    }

    /// The variables that occur.
    pub fn vars(&self) -> Vec<Var> {
        let mut out: Vec<Var> = self
            .terms
            .iter()
            .flat_map(|(m, _)| m.0.iter().map(|(v, _)| Var(*v)))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// `self + other`.
    pub fn add(&self, other: &Poly) -> Poly {
        if self.infinite || other.infinite {
            return Poly::infinite();
        }
        let mut map: BTreeMap<Mono, f64> = self.terms.iter().cloned().collect();
        for (m, c) in &other.terms {
            let slot = map.entry(m.clone()).or_insert(0.0);
            *slot = add_up(*slot, *c);
        }
        Poly::from_map(map)
    }

    /// `self + c`.
    pub fn add_const(&self, c: u64) -> Poly {
        self.add(&Poly::constant(c))
    }

    /// `self × other`.
    pub fn mul(&self, other: &Poly) -> Poly {
        if self.is_zero() || other.is_zero() {
            return Poly::zero();
        }
        if self.infinite || other.infinite {
            return Poly::infinite();
        }
        if self.terms.len().saturating_mul(other.terms.len()) > MAX_TERMS * 4 {
            return Poly::infinite();
        }
        let mut map: BTreeMap<Mono, f64> = BTreeMap::new();
        for (a, x) in &self.terms {
            for (b, y) in &other.terms {
                let slot = map.entry(a.mul(b)).or_insert(0.0);
                *slot = add_up(*slot, mul_up(*x, *y));
            }
        }
        Poly::from_map(map)
    }

    /// `self × c`.
    pub fn scale(&self, c: u64) -> Poly {
        if c == 0 {
            return Poly::zero();
        }
        if self.infinite {
            return Poly::infinite();
        }
        let c = from_u64(c);
        Poly::from_map(
            self.terms
                .iter()
                .map(|(m, x)| (m.clone(), mul_up(*x, c)))
                .collect(),
        )
    }

    /// `self / d` (rounded up). `d` of 0 is taken as 1.
    pub fn div(&self, d: u64) -> Poly {
        if self.infinite {
            return Poly::infinite();
        }
        let d = from_u64(d.max(1));
        Poly::from_map(
            self.terms
                .iter()
                .map(|(m, x)| (m.clone(), div_up(*x, d)))
                .collect(),
        )
    }

    /// A polynomial at least `self` and at least `other` everywhere: the
    /// larger coefficient of each term.
    pub fn max(&self, other: &Poly) -> Poly {
        if self.infinite || other.infinite {
            return Poly::infinite();
        }
        let mut map: BTreeMap<Mono, f64> = self.terms.iter().cloned().collect();
        for (m, c) in &other.terms {
            let slot = map.entry(m.clone()).or_insert(0.0);
            *slot = slot.max(*c);
        }
        Poly::from_map(map)
    }

    /// Whether `self ≤ other` coefficient by coefficient (and so at every
    /// point).
    pub fn dominated_by(&self, other: &Poly) -> bool {
        if other.infinite {
            return true;
        }
        if self.infinite {
            return false;
        }
        self.terms.iter().all(|(m, c)| {
            other
                .terms
                .binary_search_by(|(o, _)| o.cmp(m))
                .is_ok_and(|i| other.terms[i].1 >= *c)
        })
    }

    /// One of `self` and `other`, chosen to be small: both are upper bounds
    /// of the same quantity, so either is sound. Prefers the one dominated
    /// by the other, then a constant, then the one over the newest loop
    /// variable (its loop sums it away: see `super::analysis`), then the
    /// lower degree.
    pub fn min(&self, other: &Poly) -> Poly {
        if self.infinite {
            return other.clone();
        }
        if other.infinite || self.dominated_by(other) {
            return self.clone();
        }
        if other.dominated_by(self) {
            return other.clone();
        }
        match (self.as_constant(), other.as_constant()) {
            (Some(_), _) => return self.clone(),
            (_, Some(_)) => return other.clone(),
            _ => {}
        }
        let newest = |p: &Poly| p.vars().last().copied();
        match newest(self).cmp(&newest(other)) {
            std::cmp::Ordering::Greater => self.clone(),
            std::cmp::Ordering::Less => other.clone(),
            std::cmp::Ordering::Equal if other.degree() < self.degree() => other.clone(),
            std::cmp::Ordering::Equal => self.clone(),
        }
    }

    /// The value with each variable replaced by `value(var)` (rounded up;
    /// infinite for an infinite polynomial).
    pub fn eval(&self, value: &dyn Fn(Var) -> f64) -> f64 {
        if self.infinite {
            return f64::INFINITY;
        }
        self.terms
            .iter()
            .fold(0.0, |acc, (m, c)| add_up(acc, mul_up(*c, m.eval(value))))
    }

    /// `self` as a polynomial in `v`: the coefficient polynomial of each
    /// power of `v` (those free of `v`), by exponent.
    pub fn powers_of(&self, v: Var) -> BTreeMap<u32, Poly> {
        let mut by_power: BTreeMap<u32, BTreeMap<Mono, f64>> = BTreeMap::new();
        for (m, c) in &self.terms {
            let slot = by_power
                .entry(m.exponent(v))
                .or_default()
                .entry(m.without(v))
                .or_insert(0.0);
            *slot = add_up(*slot, *c);
        }
        by_power
            .into_iter()
            .map(|(k, map)| (k, Poly::from_map(map)))
            .collect()
    }

    /// `self` with `v` replaced by `by`.
    pub fn subst(&self, v: Var, by: &Poly) -> Poly {
        if self.infinite || (by.infinite && self.terms.iter().any(|(m, _)| m.exponent(v) > 0)) {
            return Poly::infinite();
        }
        if !self.terms.iter().any(|(m, _)| m.exponent(v) > 0) {
            return self.clone();
        }
        let mut out = Poly::zero();
        for (k, coefficient) in self.powers_of(v) {
            out = out.add(&coefficient.mul(&by.pow(k)));
        }
        out
    }

    /// `self` to the power `k`.
    pub fn pow(&self, k: u32) -> Poly {
        let mut out = Poly::constant(1);
        for _ in 0..k {
            out = out.mul(self);
            if out.infinite {
                break;
            }
        }
        out
    }
}

/// Superscript digits for exponents.
fn superscript(n: u32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}

/// A coefficient for people: an integer with thousands separators, a
/// fraction `1/k` as such, anything else with three significant digits
/// (rounded up).
fn coefficient(c: f64) -> (String, bool) {
    let near = c.round();
    if (c - near).abs() <= 1e-9 * c.max(1.0) && near >= 1.0 {
        return (grouped(near as u64), false);
    }
    if c < 1.0 {
        let k = (1.0 / c).round();
        if k >= 2.0 && ((1.0 / k) - c).abs() <= 1e-12 * c {
            return (format!("{}", k as u64), true);
        }
    }
    if c >= 1000.0 {
        return (grouped(c.ceil() as u64), false);
    }
    let magnitude = c.log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    let scale = 10f64.powi(2 - magnitude);
    let shown = (c * scale).ceil() / scale;
    (format!("{shown:.decimals$}"), false)
}

/// A count with thousands separators: `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Poly {
    /// `120 + 45·n + 3·n² + 2·s·b`: by degree, then by variable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.infinite {
            return f.write_str("unbounded");
        }
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        let mut terms: Vec<&(Mono, f64)> = self.terms.iter().collect();
        terms.sort_by(|(a, _), (b, _)| a.degree().cmp(&b.degree()).then_with(|| a.cmp(b)));
        for (i, (mono, c)) in terms.into_iter().enumerate() {
            if i > 0 {
                f.write_str(" + ")?;
            }
            let vars: Vec<String> = mono
                .0
                .iter()
                .map(|(v, e)| {
                    if *e == 1 {
                        Var(*v).name()
                    } else {
                        format!("{}{}", Var(*v).name(), superscript(*e))
                    }
                })
                .collect();
            let (shown, divides) = coefficient(*c);
            match (vars.is_empty(), divides, shown.as_str()) {
                (true, false, shown) => f.write_str(shown)?,
                (true, true, k) => write!(f, "1/{k}")?,
                (false, false, "1") => f.write_str(&vars.join("·"))?,
                (false, false, shown) => write!(f, "{shown}·{}", vars.join("·"))?,
                (false, true, k) => write!(f, "{}/{k}", vars.join("·"))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n() -> Poly {
        Poly::var(Var::N)
    }
    fn s() -> Poly {
        Poly::var(Var::S)
    }

    #[test]
    fn arithmetic_and_display() {
        let p = n().mul(&n()).scale(3).add(&n().scale(45)).add_const(120);
        assert_eq!(p.to_string(), "120 + 45·n + 3·n²");
        let q = p.add(&s().mul(&Poly::var(Var::B)).scale(2));
        assert_eq!(q.to_string(), "120 + 45·n + 3·n² + 2·s·b");
        assert_eq!(Poly::constant(1_234_567).to_string(), "1,234,567");
        assert_eq!(Poly::zero().to_string(), "0");
        assert_eq!(Poly::infinite().to_string(), "unbounded");
        let at = |n: f64, s: f64, b: f64| {
            move |v: Var| match v {
                Var::N => n,
                Var::S => s,
                _ => b,
            }
        };
        assert_eq!(q.eval(&at(10.0, 2.0, 5.0)), 890.0);
        assert_eq!(n().pow(40).eval(&at(1e300, 0.0, 0.0)), f64::INFINITY);
        assert_eq!(s().div(32).to_string(), "s/32");
        assert_eq!(s().mul(&s()).scale(14).div(384).to_string(), "0.0365·s²");
        assert!(s().div(3).eval(&at(0.0, 3.0, 0.0)) >= 1.0, "rounded up");
    }

    #[test]
    fn max_min_and_domination() {
        let a = n().add_const(5);
        let b = n().scale(2).add_const(1);
        let m = a.max(&b);
        assert_eq!(m.to_string(), "5 + 2·n");
        assert!(a.dominated_by(&m) && b.dominated_by(&m));
        assert!(!a.dominated_by(&b));
        // Either is sound; a constant is preferred.
        assert_eq!(n().min(&Poly::constant(7)), Poly::constant(7));
        assert_eq!(a.min(&m), a);
        let e = Poly::var(Var(9));
        assert_eq!(s().min(&e), e, "the newest loop variable");
    }

    #[test]
    fn substitution_and_powers() {
        let e = Var(7);
        let p = Poly::var(e)
            .mul(&Poly::var(e))
            .add(&Poly::var(e).mul(&n()).scale(2))
            .add_const(3);
        let powers = p.powers_of(e);
        assert_eq!(powers[&0], Poly::constant(3));
        assert_eq!(powers[&1], n().scale(2));
        assert_eq!(powers[&2], Poly::constant(1));
        assert_eq!(p.subst(e, &s()).to_string(), "3 + 2·n·s + s²");
        assert!(n().pow(MAX_DEGREE + 1).is_infinite());
        assert_eq!(n().scale(8).div(2), n().scale(4));
    }
}
