//! `std.time`: parsing timestamps and durations at run time. Both delegate
//! to `pol_ir::time`, the functions the front end uses for literals, so
//! `time.parse(s)` accepts exactly what `t"..."` accepts and
//! `time.parse_duration(s)` exactly what a duration literal is.

/// `time.parse(text)`: an RFC 3339 timestamp (`2026-01-31T09:30:00Z`, with
/// optional fractional seconds and `Z` or a `+hh:mm` / `-hh:mm` offset) as
/// nanoseconds since the Unix epoch; `None` when it does not parse or is out
/// of range (before 1970, after 2262-04-11). No surrounding whitespace.
pub fn parse(text: &str) -> Option<i64> {
    pol_ir::time::parse_timestamp(text).ok()
}

/// `time.parse_duration(text)`: a duration written as in Pol (`250ms`,
/// `90s`, `1h30m`, `2d`: one or more amounts of decimal digits each followed
/// by a unit `ns`, `us`, `ms`, `s`, `m`, `h` or `d`) as nanoseconds; `None`
/// when it does not parse or overflows 64 bits. No sign, fraction or
/// whitespace (`-5m`, `1.5h`, `1h 30m` do not parse).
pub fn parse_duration(text: &str) -> Option<i64> {
    pol_ir::time::parse_duration_literal(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn timestamps() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("1970-01-01T00:00:01.5Z"), Some(S + S / 2));
        assert_eq!(
            parse("2026-01-31T11:30:00+02:00"),
            parse("2026-01-31T09:30:00Z")
        );
        assert!(parse("2026-01-31T09:30:00Z").is_some_and(|t| t > 0));
        for bad in [
            "",
            "yesterday",
            "2026-01-31",
            "2026-01-31 09:30:00Z",
            "2026-02-30T00:00:00Z",
            " 2026-01-31T09:30:00Z",
            "2026-01-31T09:30:00",
            "1969-12-31T23:59:59Z",
            "9999-01-01T00:00:00Z",
            "2026-01-31T09:30:00+2:00",
            "２０２６-01-31T09:30:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400 * S));
        assert_eq!(parse_duration("90s"), Some(90 * S));
        assert_eq!(parse_duration("2d"), Some(172_800 * S));
        assert_eq!(parse_duration("1us"), Some(1_000));
        assert_eq!(parse_duration("0s"), Some(0));
        for bad in [
            "",
            "5",
            "m",
            "-5m",
            "1.5h",
            "1h 30m",
            " 1h",
            "5x",
            "1hh",
            "999999999999d",
            "1日",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
