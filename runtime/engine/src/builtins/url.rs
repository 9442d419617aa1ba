//! `std.url`: a small, strict URL parser.
//!
//! Policies use it to decide where a request goes, so it resolves the
//! ambiguities attackers use the way browsers (the WHATWG URL standard) do,
//! and refuses what it cannot resolve safely:
//!
//! * **Whole string, no whitespace.** A URL containing whitespace, a
//!   control character or a backslash anywhere does not parse (browsers
//!   strip tabs and newlines and read `\` as `/`; other clients do not).
//!   Trim input first (`s.trim()`) if it may carry surrounding spaces.
//! * **Scheme**: `[A-Za-z][A-Za-z0-9+.-]*` then `:`; lowercased.
//! * **Authority**: after `//`, up to the first `/`, `?` or `#`. The
//!   special schemes `http`, `https`, `ws`, `wss`, `ftp` and `file` must
//!   have it (`http:evil.com` and `http:/evil.com` do not parse; browsers
//!   would read them as `http://evil.com/`); other schemes may be opaque
//!   (`mailto:a@b.c`, `javascript:alert(1)`, `urn:isbn:...`), with an empty
//!   host.
//! * **Userinfo** is everything up to the *last* `@` of the authority and
//!   is ignored: `http://good.com@evil.com/` goes to `evil.com`.
//! * **Host**: a bracketed IPv6 literal (validated by `std::net::Ipv6Addr`,
//!   returned without brackets in canonical RFC 5952 form; zone ids are
//!   refused), or a name. A name is percent-decoded (`%65vil.com` is
//!   `evil.com`, as in browsers), lowercased, and may then contain only
//!   ASCII letters, digits, `-`, `_` and `.`: internationalized names must
//!   be written in punycode (`xn--...`), so look-alike Unicode hosts do not
//!   parse. One trailing `.` is dropped (`good.com.` is `good.com`); empty
//!   labels (`a..b`) are refused. A name whose last label is numeric is an
//!   IPv4 address and is normalized as browsers do (`0x7f.1` and
//!   `2130706433` are `127.0.0.1`; parts in decimal, `0x` hex or leading-`0`
//!   octal); if it is not a valid address the URL does not parse
//!   (`1.2.3.4.5`, `999.1.1.1`, `example.123`). The special schemes other
//!   than `file` need a non-empty host.
//! * **Port**: after the host's `:`, digits only, at most 65535; empty
//!   (`http://a.com:/`) means the default.
//! * **Path**: from the authority's end to `?` or `#`, as written
//!   (percent-encoding kept), except that dot segments are resolved (`.`,
//!   `..` and their percent-encoded forms `%2e`): `/docs/../admin` is
//!   `/admin`, so a path check cannot be walked around. An empty path after
//!   an authority is `/` (as browsers report it). An opaque URL's path is
//!   everything after the scheme's `:` up to `?` or `#`, unchanged.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The host of a parsed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A registered name, lowercased, without a trailing dot (possibly
    /// empty for `file:` and non-special schemes).
    Domain(String),
    /// An IPv4 address (from a numeric host, normalized).
    Ipv4(Ipv4Addr),
    /// An IPv6 literal (from `[...]`).
    Ipv6(Ipv6Addr),
}

impl Host {
    /// The host as [`host`] returns it: the name, the dotted IPv4 address or
    /// the canonical IPv6 address without brackets.
    pub fn to_text(&self) -> String {
        match self {
            Host::Domain(d) => d.clone(),
            Host::Ipv4(a) => a.to_string(),
            Host::Ipv6(a) => a.to_string(),
        }
    }
}

/// A parsed absolute URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The scheme, lowercased.
    pub scheme: String,
    /// The host, when the URL has an authority (`//...`).
    pub host: Option<Host>,
    /// The explicit port.
    pub port: Option<u16>,
    /// The path (see the module documentation).
    pub path: String,
}

fn is_special(scheme: &str) -> bool {
    matches!(scheme, "http" | "https" | "ws" | "wss" | "ftp" | "file")
}

/// The default port of `scheme`: http 80, https 443, ws 80, wss 443,
/// ftp 21.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Parses an absolute URL (see the module documentation); `None` when it
/// does not parse.
pub fn parse(url: &str) -> Option<Url> {
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return None;
    }
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let mut bytes = scheme.bytes();
    if !bytes.next()?.is_ascii_alphabetic()
        || !bytes.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
    {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let rest = &url[colon + 1..];
    let Some(after_slashes) = rest.strip_prefix("//") else {
        if is_special(&scheme) {
            return None;
        }
        let path_end = rest.find(['?', '#']).unwrap_or(rest.len());
        return Some(Url {
            scheme,
            host: None,
            port: None,
            path: rest[..path_end].to_string(),
        });
    };
    let authority_end = after_slashes
        .find(['/', '?', '#'])
        .unwrap_or(after_slashes.len());
    let authority = &after_slashes[..authority_end];
    let rest = &after_slashes[authority_end..];
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((u, hp)) => (Some(u), hp),
        None => (None, authority),
    };
    let (host, port_text) = if let Some(inner) = host_port.strip_prefix('[') {
        let (v6, after) = inner.split_once(']')?;
        let port = if after.is_empty() {
            None
        } else {
            Some(after.strip_prefix(':')?)
        };
        (Host::Ipv6(v6.parse().ok()?), port)
    } else {
        let (name, port) = match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        };
        (parse_host_name(name)?, port)
    };
    let empty_host = matches!(&host, Host::Domain(d) if d.is_empty());
    if empty_host
        && ((is_special(&scheme) && scheme != "file") || userinfo.is_some() || port_text.is_some())
    {
        return None;
    }
    let port = match port_text {
        None | Some("") => None,
        Some(p) => Some(parse_port(p)?),
    };
    let path_end = rest.find(['?', '#']).unwrap_or(rest.len());
    let path = if path_end == 0 {
        "/".to_string()
    } else {
        remove_dot_segments(&rest[..path_end])
    };
    Some(Url {
        scheme,
        host: Some(host),
        port,
        path,
    })
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let significant = p.trim_start_matches('0');
    if significant.len() > 5 {
        return None;
    }
    if significant.is_empty() {
        Some(0)
    } else {
        significant.parse().ok()
    }
}

/// Parses a host name (not a bracketed literal): percent-decoding,
/// lowercasing, the character check, IPv4 normalization, the trailing dot.
pub fn parse_host_name(raw: &str) -> Option<Host> {
    let decoded = percent_decode(raw)?;
    if !decoded
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        return None;
    }
    let name = decoded.to_ascii_lowercase();
    if name.is_empty() {
        return Some(Host::Domain(name));
    }
    let trimmed = name.strip_suffix('.').unwrap_or(&name);
    if trimmed.is_empty() {
        return None;
    }
    let last = trimmed.rsplit('.').next().unwrap_or(trimmed);
    if ends_in_number(last) {
        return parse_ipv4(trimmed).map(Host::Ipv4);
    }
    if trimmed.len() > 253 || trimmed.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return None;
    }
    Some(Host::Domain(trimmed.to_string()))
}

/// Percent-decodes `s`; `None` for a malformed escape or a result that is
/// not ASCII.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return s.is_ascii().then(|| s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(
                u8::from_str_radix(hex, 16)
                    .ok()
                    .filter(|_| hex.bytes().all(|c| c.is_ascii_hexdigit()))?,
            );
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(out).ok()?;
    decoded.is_ascii().then_some(decoded)
}

/// Whether a host's last label makes it an IPv4 address (WHATWG "ends in a
/// number"): all decimal digits, or `0x` followed by hex digits.
fn ends_in_number(label: &str) -> bool {
    if !label.is_empty() && label.bytes().all(|c| c.is_ascii_digit()) {
        return true;
    }
    label
        .strip_prefix("0x")
        .is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// One part of a WHATWG IPv4 host: decimal, `0x` hex or leading-`0` octal.
fn ipv4_part(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = part.strip_prefix("0x") {
        (h, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 12 {
        return None; // far beyond 2^32 in any radix
    }
    if significant.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(significant, radix).ok()
}

fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let numbers: Vec<u64> = parts.iter().map(|p| ipv4_part(p)).collect::<Option<_>>()?;
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) {
        return None;
    }
    let last_bits = 8 * (5 - numbers.len() as u32);
    if *last >= 1u64 << last_bits {
        return None;
    }
    let mut value = *last;
    for (k, &n) in init.iter().enumerate() {
        value += n << (8 * (3 - k as u32));
    }
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

fn is_dot(seg: &str) -> bool {
    seg == "." || seg.eq_ignore_ascii_case("%2e")
}

fn is_dot_dot(seg: &str) -> bool {
    matches!(
        seg.to_ascii_lowercase().as_str(),
        ".." | ".%2e" | "%2e." | "%2e%2e"
    )
}

/// RFC 3986 `remove_dot_segments` for a path starting with `/`.
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    let last = segments.len() - 1;
    for (k, seg) in segments.iter().enumerate() {
        if is_dot(seg) {
            if k == last {
                out.push("");
            }
        } else if is_dot_dot(seg) {
            out.pop();
            if k == last {
                out.push("");
            }
        } else {
            out.push(seg);
        }
    }
    let mut result = String::with_capacity(path.len());
    for seg in out {
        result.push('/');
        result.push_str(seg);
    }
    if result.is_empty() {
        result.push('/');
    }
    result
}

/// `url.is_valid(u)`: whether `u` parses as an absolute URL.
pub fn is_valid(url: &str) -> bool {
    parse(url).is_some()
}

/// `url.host(u)`: the host (see [`Host::to_text`]); `""` when the URL does
/// not parse or has no authority.
pub fn host(url: &str) -> String {
    parse(url)
        .and_then(|u| u.host)
        .map(|h| h.to_text())
        .unwrap_or_default()
}

/// `url.scheme(u)`: the scheme, lowercased; `""` when the URL does not
/// parse.
pub fn scheme(url: &str) -> String {
    parse(url).map(|u| u.scheme).unwrap_or_default()
}

/// `url.path(u)`: the path (see the module documentation); `""` when the
/// URL does not parse.
pub fn path(url: &str) -> String {
    parse(url).map(|u| u.path).unwrap_or_default()
}

/// `url.port(u)`: the explicit port, else the scheme's default
/// ([`default_port`]) when the URL has an authority; `None` otherwise or
/// when the URL does not parse.
pub fn port(url: &str) -> Option<u16> {
    let u = parse(url)?;
    u.host.as_ref()?;
    u.port.or_else(|| default_port(&u.scheme))
}

/// One entry of a [`HostList`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Matches this host exactly.
    Exact(Host),
    /// `*.example.com`: matches names ending in `.example.com` (stored with
    /// the leading dot).
    Subdomains(String),
}

/// A compiled list of host entries for `url.host_matches`.
///
/// Each entry is either a host, matched exactly after the same
/// normalization as URL hosts (lowercased, one trailing dot dropped,
/// percent-decoded, IPv4 forms normalized, IPv6 with or without brackets in
/// any text form), or `*.` followed by a domain name, which matches every
/// strict subdomain: `*.example.com` matches `a.example.com` and
/// `a.b.example.com` but not `example.com` nor `badexample.com`, and never
/// an IP address. List `example.com` as well to allow the apex. Entries
/// that are not valid hosts (`*`, `*example.com`, `a.*.com`, `""`,
/// `exa mple.com`) match nothing.
#[derive(Debug, Clone, Default)]
pub struct HostList {
    entries: Vec<Entry>,
}

impl HostList {
    /// Compiles the entries (never fails; invalid entries are dropped).
    pub fn new<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> HostList {
        let entries = entries
            .into_iter()
            .filter_map(|e| parse_entry(e.as_ref()))
            .collect();
        HostList { entries }
    }

    /// Whether no entry can match.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `url` parses and its host matches an entry.
    pub fn matches(&self, url: &str) -> bool {
        let Some(host) = parse(url).and_then(|u| u.host) else {
            return false;
        };
        if matches!(&host, Host::Domain(d) if d.is_empty()) {
            return false;
        }
        self.entries.iter().any(|e| match (e, &host) {
            (Entry::Exact(h), _) => *h == host,
            (Entry::Subdomains(suffix), Host::Domain(d)) => {
                d.len() > suffix.len() && d.ends_with(suffix.as_str())
            }
            (Entry::Subdomains(_), _) => false,
        })
    }
}

fn parse_entry(entry: &str) -> Option<Entry> {
    if let Some(domain) = entry.strip_prefix("*.") {
        return match parse_host_name(domain)? {
            Host::Domain(d) if !d.is_empty() => Some(Entry::Subdomains(format!(".{d}"))),
            _ => None,
        };
    }
    let bare = entry
        .strip_prefix('[')
        .and_then(|e| e.strip_suffix(']'))
        .unwrap_or(entry);
    if let Ok(v6) = bare.parse::<Ipv6Addr>() {
        return Some(Entry::Exact(Host::Ipv6(v6)));
    }
    match parse_host_name(entry)? {
        Host::Domain(d) if d.is_empty() => None,
        h => Some(Entry::Exact(h)),
    }
}

/// `url.host_matches(u, hosts)` with a dynamic host collection (compiles a
/// [`HostList`] for this call).
pub fn host_matches<S: AsRef<str>>(url: &str, hosts: impl IntoIterator<Item = S>) -> bool {
    HostList::new(hosts).matches(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_urls() {
        let u = "https://Example.COM:8443/a/b?q=1#f";
        assert!(is_valid(u));
        assert_eq!(scheme(u), "https");
        assert_eq!(host(u), "example.com");
        assert_eq!(port(u), Some(8443));
        assert_eq!(path(u), "/a/b");
        assert_eq!(port("http://x.com"), Some(80));
        assert_eq!(port("https://x.com/"), Some(443));
        assert_eq!(port("ws://x.com"), Some(80));
        assert_eq!(port("wss://x.com"), Some(443));
        assert_eq!(port("ftp://x.com"), Some(21));
        assert_eq!(port("gopher://x.com"), None);
        assert_eq!(port("http://x.com:/"), Some(80));
        assert_eq!(port("http://x.com:0080/"), Some(80));
        assert_eq!(path("http://x.com"), "/");
        assert_eq!(path("http://x.com?q"), "/");
        assert_eq!(path("http://x.com/a%20b/"), "/a%20b/");
    }

    #[test]
    fn tricky_hosts() {
        assert_eq!(host("http://evil.com@good.com/"), "good.com");
        assert_eq!(host("http://good.com@evil.com/"), "evil.com");
        assert_eq!(host("http://good.com:80@evil.com/"), "evil.com");
        assert_eq!(host("http://a@b@evil.com/"), "evil.com");
        assert_eq!(host("http://evil.com#@good.com"), "evil.com");
        assert_eq!(host("http://evil.com?@good.com"), "evil.com");
        assert_eq!(host("http://evil.com/@good.com"), "evil.com");
        assert_eq!(host("http://good.com.evil.com"), "good.com.evil.com");
        assert_eq!(host("HTTP://GOOD.COM:8080"), "good.com");
        assert_eq!(scheme("HTTP://GOOD.COM:8080"), "http");
        assert_eq!(port("HTTP://GOOD.COM:8080"), Some(8080));
        assert_eq!(host("http://good.com./"), "good.com");
        assert_eq!(host("http://%65vil.com/"), "evil.com");
        assert_eq!(host("http://good.com%40evil.com/"), "");
        assert_eq!(host("http://[::1]:8080/"), "::1");
        assert_eq!(port("http://[::1]:8080/"), Some(8080));
        assert_eq!(host("http://[0:0:0:0:0:0:0:1]/"), "::1");
        assert_eq!(host("http://[2001:DB8::1]"), "2001:db8::1");
        assert_eq!(host("http://0x7f.1/"), "127.0.0.1");
        assert_eq!(host("http://2130706433/"), "127.0.0.1");
        assert_eq!(host("http://0177.0.0.1/"), "127.0.0.1");
        assert_eq!(host("http://10.0.0.1:81"), "10.0.0.1");
        assert_eq!(host("http://my_host.internal"), "my_host.internal");
        assert_eq!(host("http://xn--mnchen-3ya.de"), "xn--mnchen-3ya.de");
    }

    #[test]
    fn invalid_urls() {
        for u in [
            "",
            "//x",
            "/path/only",
            "example.com",
            "http:evil.com",
            "http:/evil.com",
            "http:///evil.com",
            "http://",
            "http://:80/",
            "http://user@/",
            "1http://x.com",
            "ht tp://x.com",
            " http://x.com",
            "http://x.com ",
            "http://x.com/a b",
            "http://x.com\n",
            "http:\\\\evil.com",
            "http://good.com\\@evil.com",
            "http://good.com\\.evil.com/",
            "http://x.com:99999/",
            "http://x.com:8o/",
            "http://x.com:-1/",
            "http://[::1/",
            "http://[::1]x/",
            "http://[fe80::1%25eth0]/",
            "http://[1.2.3.4]/",
            "http://1.2.3.4.5/",
            "http://999.1.1.1/",
            "http://1.2.3.256/",
            "http://08.0.0.1/",
            "http://example.123/",
            "http://a..b/",
            "http://../",
            "http://münchen.de/",
            "http://gооgle.com/", // Cyrillic o
            "http://a%zz.com/",
            "http://a%C3%BC.com/",
            "http://a b.com/",
            "http://a<b.com/",
            "http://x.com\u{7f}",
        ] {
            assert!(!is_valid(u), "{u:?} should not parse");
            assert_eq!(host(u), "", "{u:?}");
            assert_eq!(scheme(u), "", "{u:?}");
            assert_eq!(path(u), "", "{u:?}");
            assert_eq!(port(u), None, "{u:?}");
        }
    }

    #[test]
    fn opaque_and_other_schemes() {
        let j = "javascript:alert(1)";
        assert!(is_valid(j));
        assert_eq!(scheme(j), "javascript");
        assert_eq!(host(j), "");
        assert_eq!(path(j), "alert(1)");
        assert_eq!(port(j), None);
        assert_eq!(path("mailto:bob@example.com?subject=x"), "bob@example.com");
        assert_eq!(host("mailto:bob@example.com"), "");
        assert!(is_valid("urn:isbn:0451450523"));
        assert!(is_valid("data:text/plain,hi"));
        assert!(is_valid("git+ssh://git@github.com/org/repo.git"));
        assert_eq!(host("git+ssh://git@github.com/org/repo.git"), "github.com");
        assert_eq!(scheme("Git+SSH://github.com"), "git+ssh");
        assert_eq!(host("file:///etc/passwd"), "");
        assert_eq!(path("file:///etc/passwd"), "/etc/passwd");
        assert_eq!(port("file:///etc/passwd"), None);
        assert!(is_valid("foo://"));
    }

    #[test]
    fn dot_segments() {
        assert_eq!(path("http://x.com/docs/../admin"), "/admin");
        assert_eq!(path("http://x.com/docs/%2e%2E/admin"), "/admin");
        assert_eq!(path("http://x.com/docs/.%2e/.%2E/../admin"), "/admin");
        assert_eq!(path("http://x.com/a/./b/."), "/a/b/");
        assert_eq!(path("http://x.com/a/b/.."), "/a/");
        assert_eq!(path("http://x.com/../../etc"), "/etc");
        assert_eq!(path("http://x.com/a//b"), "/a//b");
        assert_eq!(path("http://x.com/a/..b/c."), "/a/..b/c.");
        assert_eq!(path("http://x.com/.."), "/");
    }

    #[test]
    fn host_matching() {
        let allow = ["example.com", "*.example.com", "API.partner.io."];
        assert!(host_matches("https://example.com/x", allow));
        assert!(host_matches("https://a.example.com/x", allow));
        assert!(host_matches("https://a.b.EXAMPLE.com./x", allow));
        assert!(host_matches("https://api.partner.io", allow));
        assert!(host_matches("https://evil.com@example.com/", allow));
        assert!(!host_matches("https://badexample.com", allow));
        assert!(!host_matches("https://example.com.evil.com", allow));
        assert!(!host_matches("https://example.com@evil.com", allow));
        assert!(!host_matches("https://partner.io", allow));
        assert!(!host_matches("https://x.api.partner.io", allow));
        assert!(!host_matches("not a url", allow));
        assert!(!host_matches("mailto:bob@example.com", allow));
        assert!(!host_matches("https://example.com\\@evil.com", allow));

        let sub_only = ["*.example.com"];
        assert!(!host_matches("https://example.com", sub_only));
        assert!(host_matches("https://www.example.com", sub_only));

        let ips = ["127.0.0.1", "[::1]", "2001:db8::1", "*.0.0.1"];
        assert!(host_matches("http://127.0.0.1:8080", ips));
        assert!(host_matches("http://0x7f.0.0.1", ips));
        assert!(host_matches("http://2130706433", ips));
        assert!(host_matches("http://[::1]/", ips));
        assert!(host_matches("http://[2001:db8:0::1]/", ips));
        assert!(!host_matches("http://10.0.0.1", ips));

        for bad in ["*", "*example.com", "a.*.com", "", "exa mple.com", "*."] {
            assert!(HostList::new([bad]).is_empty(), "{bad:?}");
        }
        assert!(!host_matches("https://example.com", Vec::<String>::new()));
    }
}
