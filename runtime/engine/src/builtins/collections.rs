//! Methods on lists, sets and maps. They work on the interpreter's values,
//! so most are one std call on its containers; these generic helpers pin
//! the semantics in one place. Element equality is Pol's `==` (the
//! interpreter's value equality, under which `1 == 1.0`); the helpers take
//! it as `PartialEq` of the element type.
//!
//! `len`, `is_empty`, `first`, `last`, `contains_key` and `keys`/`values`
//! are the container's own methods (maps iterate in ascending key order,
//! comparing keys as byte strings, which is code point order); they are
//! listed in the mapping table of `docs/stdlib.md` as trivial.

/// `xs.contains(x)`: whether `x` is an element (same as `x in xs`).
pub fn contains<T: PartialEq>(xs: &[T], x: &T) -> bool {
    xs.contains(x)
}

/// `xs.intersects(ys)`: whether some element of `xs` is also in `ys`;
/// `false` when either is empty. Quadratic in the worst case over slices;
/// the interpreter may use its set index instead.
pub fn intersects<T: PartialEq>(xs: &[T], ys: &[T]) -> bool {
    xs.iter().any(|x| ys.contains(x))
}

/// `xs.is_subset(ys)`: whether every element of `xs` is also in `ys`;
/// `true` when `xs` is empty (duplicates in `xs` need only one copy in
/// `ys`).
pub fn is_subset<T: PartialEq>(xs: &[T], ys: &[T]) -> bool {
    xs.iter().all(|x| ys.contains(x))
}

/// `xs.first()`: the first element of a list, `None` when empty.
pub fn first<T>(xs: &[T]) -> Option<&T> {
    xs.first()
}

/// `xs.last()`: the last element of a list, `None` when empty.
pub fn last<T>(xs: &[T]) -> Option<&T> {
    xs.last()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership() {
        let tools = ["search", "fetch"];
        assert!(contains(&tools, &"fetch"));
        assert!(!contains(&tools, &"shell"));
        assert!(intersects(&tools, &["shell", "fetch"]));
        assert!(!intersects(&tools, &["shell"]));
        assert!(!intersects::<&str>(&[], &tools));
        assert!(is_subset(&["fetch"], &tools));
        assert!(is_subset(&["fetch", "fetch"], &tools));
        assert!(!is_subset(&["fetch", "shell"], &tools));
        assert!(is_subset::<&str>(&[], &[]));
        assert_eq!(first(&tools), Some(&"search"));
        assert_eq!(last(&tools), Some(&"fetch"));
        assert_eq!(first::<i64>(&[]), None);
        assert_eq!(last::<i64>(&[]), None);
    }
}
