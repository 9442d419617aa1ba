//! Methods on `int`, `float`, `duration` and `timestamp`, and the numeric
//! collection methods `sum`, `min`, `max`. Every operation that Pol defines
//! as an evaluation error returns `None` here; the interpreter turns `None`
//! into that error.

/// How [`float_to_int`] rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// `floor()`: toward negative infinity.
    Floor,
    /// `ceil()`: toward positive infinity.
    Ceil,
    /// `round()`: to the nearest, halves away from zero (`2.5` is 3,
    /// `-2.5` is -3).
    Round,
}

/// `i.abs()`: `None` for `i64::MIN` (whose absolute value is not an int).
pub fn int_abs(i: i64) -> Option<i64> {
    i.checked_abs()
}

/// `i.to_float()`: the nearest float (ties to even); exact up to 2^53 in
/// magnitude.
pub fn int_to_float(i: i64) -> f64 {
    i as f64
}

/// `f.abs()`: absolute value (`abs(NaN)` is NaN, `abs(-0.0)` is `0.0`).
pub fn float_abs(f: f64) -> f64 {
    f.abs()
}

/// `f.floor()`, `f.ceil()`, `f.round()`: rounded as `mode` says, then
/// converted; `None` for NaN, infinities and results outside the `int`
/// range (`-2^63 ..= 2^63 - 1`).
pub fn float_to_int(f: f64, mode: Rounding) -> Option<i64> {
    let r = match mode {
        Rounding::Floor => f.floor(),
        Rounding::Ceil => f.ceil(),
        Rounding::Round => f.round(),
    };
    // -2^63 is exactly representable; 2^63 is the first float above the
    // range. NaN fails both comparisons.
    const MIN: f64 = -9_223_372_036_854_775_808.0;
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (MIN..LIMIT).contains(&r).then_some(r as i64)
}

/// `d.seconds()`: whole seconds of a duration in nanoseconds, truncated
/// toward zero (`-1500ms` is -1).
pub fn duration_seconds(nanos: i64) -> i64 {
    nanos / 1_000_000_000
}

/// `d.millis()`: whole milliseconds, truncated toward zero.
pub fn duration_millis(nanos: i64) -> i64 {
    nanos / 1_000_000
}

/// `t.unix_seconds()`: whole seconds since the epoch of a timestamp in
/// nanoseconds, rounded down (so an instant half a second before the epoch,
/// reachable only by arithmetic, is second -1, as in Unix time).
pub fn timestamp_unix_seconds(nanos: i64) -> i64 {
    nanos.div_euclid(1_000_000_000)
}

/// `xs.sum()` for `int` and `duration` elements: `Some(0)` when empty,
/// `None` on overflow (an evaluation error), whatever the order of the
/// intermediate sums would have been: the sum is computed in 128 bits and
/// only the result must fit.
pub fn checked_sum_i64(xs: impl IntoIterator<Item = i64>) -> Option<i64> {
    let total: i128 = xs.into_iter().map(i128::from).sum();
    i64::try_from(total).ok()
}

/// `xs.sum()` for `float` elements: the IEEE sum in iteration order, `0.0`
/// when empty. Never an error: overflow gives an infinity, and a NaN
/// element gives NaN.
pub fn sum_f64(xs: impl IntoIterator<Item = f64>) -> f64 {
    xs.into_iter().fold(0.0, |a, x| a + x)
}

/// `xs.min()` for `int` and `duration` elements; `None` when empty.
pub fn min_i64(xs: impl IntoIterator<Item = i64>) -> Option<i64> {
    xs.into_iter().min()
}

/// `xs.max()` for `int` and `duration` elements; `None` when empty.
pub fn max_i64(xs: impl IntoIterator<Item = i64>) -> Option<i64> {
    xs.into_iter().max()
}

/// `xs.min()` for `float` elements; `None` when empty. NaN elements are
/// ignored unless every element is NaN (then NaN), like IEEE `minNum`;
/// `-0.0` is below `0.0`.
pub fn min_f64(xs: impl IntoIterator<Item = f64>) -> Option<f64> {
    xs.into_iter().reduce(|a, x| {
        if a.is_nan() || (x.total_cmp(&a).is_lt() && !x.is_nan()) {
            x
        } else {
            a
        }
    })
}

/// `xs.max()` for `float` elements; `None` when empty. NaN elements are
/// ignored unless every element is NaN (then NaN); `0.0` is above `-0.0`.
pub fn max_f64(xs: impl IntoIterator<Item = f64>) -> Option<f64> {
    xs.into_iter().reduce(|a, x| {
        if a.is_nan() || (x.total_cmp(&a).is_gt() && !x.is_nan()) {
            x
        } else {
            a
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abs() {
        assert_eq!(int_abs(-5), Some(5));
        assert_eq!(int_abs(0), Some(0));
        assert_eq!(int_abs(i64::MAX), Some(i64::MAX));
        assert_eq!(int_abs(i64::MIN + 1), Some(i64::MAX));
        assert_eq!(int_abs(i64::MIN), None);
        assert_eq!(float_abs(-2.5), 2.5);
        assert!(float_abs(f64::NAN).is_nan());
        assert_eq!(int_to_float(-3), -3.0);
        assert_eq!(int_to_float(i64::MAX), 9_223_372_036_854_775_808.0);
    }

    #[test]
    fn rounding() {
        use Rounding::*;
        assert_eq!(float_to_int(2.7, Floor), Some(2));
        assert_eq!(float_to_int(-2.2, Floor), Some(-3));
        assert_eq!(float_to_int(2.2, Ceil), Some(3));
        assert_eq!(float_to_int(-2.7, Ceil), Some(-2));
        assert_eq!(float_to_int(2.5, Round), Some(3));
        assert_eq!(float_to_int(-2.5, Round), Some(-3));
        assert_eq!(float_to_int(2.4999, Round), Some(2));
        assert_eq!(float_to_int(-0.4, Round), Some(0));
        for mode in [Floor, Ceil, Round] {
            assert_eq!(float_to_int(f64::NAN, mode), None);
            assert_eq!(float_to_int(f64::INFINITY, mode), None);
            assert_eq!(float_to_int(f64::NEG_INFINITY, mode), None);
            assert_eq!(float_to_int(9.3e18, mode), None);
            assert_eq!(float_to_int(-9.3e18, mode), None);
            assert_eq!(float_to_int(9_223_372_036_854_775_808.0, mode), None);
            assert_eq!(
                float_to_int(-9_223_372_036_854_775_808.0, mode),
                Some(i64::MIN)
            );
            assert_eq!(
                float_to_int(9_223_372_036_854_774_784.0, mode),
                Some(9_223_372_036_854_774_784)
            );
        }
    }

    #[test]
    fn durations_and_timestamps() {
        assert_eq!(duration_seconds(90_000_000_000), 90);
        assert_eq!(duration_seconds(1_999_999_999), 1);
        assert_eq!(duration_seconds(-1_500_000_000), -1);
        assert_eq!(duration_millis(1_999_999), 1);
        assert_eq!(duration_millis(-1_999_999), -1);
        assert_eq!(duration_seconds(i64::MIN), -9_223_372_036);
        assert_eq!(
            timestamp_unix_seconds(1_769_851_800_500_000_000),
            1_769_851_800
        );
        assert_eq!(timestamp_unix_seconds(-500_000_000), -1);
        assert_eq!(timestamp_unix_seconds(0), 0);
    }

    #[test]
    fn sums() {
        assert_eq!(checked_sum_i64([]), Some(0));
        assert_eq!(checked_sum_i64([1, 2, 3]), Some(6));
        assert_eq!(checked_sum_i64([i64::MAX, 1]), None);
        assert_eq!(checked_sum_i64([i64::MIN, -1]), None);
        // Intermediate overflow that cancels out is fine.
        assert_eq!(checked_sum_i64([i64::MAX, 1, -1]), Some(i64::MAX));
        assert_eq!(sum_f64([]), 0.0);
        assert_eq!(sum_f64([0.5, 0.25]), 0.75);
        assert!(sum_f64([1.0, f64::NAN]).is_nan());
        assert_eq!(sum_f64([f64::MAX, f64::MAX]), f64::INFINITY);
    }

    #[test]
    fn min_max() {
        assert_eq!(min_i64([]), None);
        assert_eq!(min_i64([3, -1, 2]), Some(-1));
        assert_eq!(max_i64([3, -1, 2]), Some(3));
        assert_eq!(min_f64([]), None);
        assert_eq!(min_f64([2.0, -1.5, 3.0]), Some(-1.5));
        assert_eq!(max_f64([2.0, -1.5, 3.0]), Some(3.0));
        assert_eq!(min_f64([f64::NAN, 2.0, 1.0]), Some(1.0));
        assert_eq!(max_f64([1.0, f64::NAN, 2.0]), Some(2.0));
        assert!(min_f64([f64::NAN, f64::NAN]).is_some_and(f64::is_nan));
        assert!(min_f64([0.0, -0.0]).is_some_and(|x| x.is_sign_negative()));
        assert!(max_f64([-0.0, 0.0]).is_some_and(|x| x.is_sign_positive()));
        assert_eq!(min_f64([f64::NEG_INFINITY, 1.0]), Some(f64::NEG_INFINITY));
    }
}
