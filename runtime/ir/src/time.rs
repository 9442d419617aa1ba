//! Time values: durations and timestamps are signed 64-bit nanoseconds
//! (timestamps since the Unix epoch, UTC).

/// Nanoseconds in one unit of a duration literal.
fn unit_nanos(unit: &str) -> Option<i64> {
    Some(match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        "d" => 86_400 * 1_000_000_000,
        _ => return None,
    })
}

/// Parses a duration literal such as `5m`, `1h30m` or `250ms` into
/// nanoseconds. `None` when it is malformed or does not fit in an `i64`.
///
/// ```
/// assert_eq!(pol_ir::time::parse_duration_literal("1m30s"), Some(90_000_000_000));
/// assert_eq!(pol_ir::time::parse_duration_literal("5x"), None);
/// ```
pub fn parse_duration_literal(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let amount: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let per = unit_nanos(&rest[..unit_len])?;
        rest = &rest[unit_len..];
        total = total.checked_add(amount.checked_mul(per)?)?;
    }
    Some(total)
}

/// Parses an RFC 3339 timestamp (`2026-01-31T09:30:00Z`, with optional
/// fractional seconds and a `Z` or numeric offset) into nanoseconds since
/// the Unix epoch.
///
/// ```
/// assert_eq!(pol_ir::time::parse_timestamp("1970-01-01T00:00:01Z"), Ok(1_000_000_000));
/// assert!(pol_ir::time::parse_timestamp("yesterday").is_err());
/// ```
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    // humantime accepts only UTC (`Z`); apply a numeric offset ourselves.
    let (base, offset_secs) = split_offset(text)?;
    let time = humantime::parse_rfc3339_weak(&base).map_err(|e| e.to_string())?;
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| "timestamps before 1970 are not supported".to_string())?;
    let nanos =
        i64::try_from(since.as_nanos()).map_err(|_| "timestamp out of range".to_string())?;
    nanos
        .checked_sub(offset_secs * 1_000_000_000)
        .ok_or_else(|| "timestamp out of range".to_string())
}

/// Splits a trailing `Z`, `+hh:mm` or `-hh:mm` off an RFC 3339 string.
fn split_offset(text: &str) -> Result<(String, i64), String> {
    if text.len() < 20 || !text.is_char_boundary(10) || text.as_bytes().get(10) != Some(&b'T') {
        return Err("expected `YYYY-MM-DDTHH:MM:SS` followed by `Z` or an offset".to_string());
    }
    if let Some(base) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return Ok((base.to_string(), 0));
    }
    let split = text.len().saturating_sub(6);
    let (base, offset) = text
        .split_at_checked(split)
        .ok_or("missing time zone offset")?;
    let bytes = offset.as_bytes();
    let sign = match bytes.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err("missing time zone: end with `Z` or an offset like `+02:00`".to_string()),
    };
    let hours: i64 = offset
        .get(1..3)
        .and_then(|h| h.parse().ok())
        .ok_or("bad offset hours")?;
    let minutes: i64 = offset
        .get(4..6)
        .and_then(|m| m.parse().ok())
        .ok_or("bad offset minutes")?;
    if bytes.get(3) != Some(&b':') || hours > 23 || minutes > 59 {
        return Err("bad time zone offset".to_string());
    }
    Ok((base.to_string(), sign * (hours * 3600 + minutes * 60)))
}

/// A duration as Pol writes it: `1h30m`, `250ms`, `-5s`, `0s`.
///
/// ```
/// assert_eq!(pol_ir::time::format_duration(5_400_000_000_000), "1h30m");
/// assert_eq!(pol_ir::time::format_duration(0), "0s");
/// ```
pub fn format_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    let mut rest = nanos.unsigned_abs();
    for (unit, size) in [
        ("d", 86_400_000_000_000u64),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// A timestamp as RFC 3339 in UTC, with nanoseconds when it has them.
///
/// ```
/// assert_eq!(pol_ir::time::format_timestamp(1_000_000_000), "1970-01-01T00:00:01Z");
/// ```
pub fn format_timestamp(nanos: i64) -> String {
    match u64::try_from(nanos) {
        Ok(n) => {
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(n);
            if n % 1_000_000_000 == 0 {
                humantime::format_rfc3339_seconds(time).to_string()
            } else {
                humantime::format_rfc3339_nanos(time).to_string()
            }
        }
        // Timestamps before 1970 cannot be written as literals or parsed
        // from input; show the raw count rather than failing.
        Err(_) => format!("{nanos}ns since 1970"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_literal("250ms"), Some(250_000_000));
        assert_eq!(parse_duration_literal("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_duration_literal("2d"), Some(172_800_000_000_000));
        assert_eq!(parse_duration_literal("999999999999d"), None);
        assert_eq!(parse_duration_literal(""), None);
        assert_eq!(parse_duration_literal("m"), None);
    }

    #[test]
    fn timestamps_with_offsets() {
        let utc = parse_timestamp("2026-01-31T09:30:00Z").expect("valid");
        assert_eq!(parse_timestamp("2026-01-31T11:30:00+02:00"), Ok(utc));
        assert_eq!(parse_timestamp("2026-01-31T08:30:00-01:00"), Ok(utc));
        assert_eq!(
            parse_timestamp("2026-01-31T09:30:00.5Z"),
            Ok(utc + 500_000_000)
        );
        assert!(parse_timestamp("2026-02-30T09:30:00Z").is_err());
        assert!(parse_timestamp("2026-01-31 09:30").is_err());
        assert!(parse_timestamp("2026-01-31T09:30:00").is_err());
    }
}
