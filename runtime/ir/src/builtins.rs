//! The builtin table: every builtin function and method, with its signature.
//!
//! The front end type-checks calls against this table; the runtime
//! implements each [`Builtin`] under the same id. One table, two users, so
//! they cannot drift apart.

use serde::{Deserialize, Serialize};

/// The shape of a builtin's parameter or result type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypePattern {
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `string`
    String,
    /// `duration`
    Duration,
    /// `timestamp`
    Timestamp,
    /// The builtin record `Finding { kind: string, start: int, end: int, text: string }`.
    Finding,
    /// The receiver's element type (a list's or set's element, a map's value).
    Elem,
    /// `list<P>`
    List(&'static TypePattern),
    /// `set<P>`
    Set(&'static TypePattern),
    /// `P?`
    Optional(&'static TypePattern),
    /// Either `list<P>` or `set<P>`.
    Collection(&'static TypePattern),
}

/// What a builtin is called on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Receiver {
    /// A function of a native module, called as `alias.name(args)` after
    /// `import std.<module>`.
    Module(&'static str),
    /// A method on `string`.
    String,
    /// A method on `list<T>` or `set<T>`.
    Collection,
    /// A method on `list<T>` only.
    List,
    /// A method on `list<T>` or `set<T>` whose `T` is `int`, `float` or `duration`.
    NumericCollection,
    /// A method on `map<string, T>`.
    Map,
    /// A method on `int`.
    Int,
    /// A method on `float`.
    Float,
    /// A method on `duration`.
    Duration,
    /// A method on `timestamp`.
    Timestamp,
}

/// A builtin's signature and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinSig {
    /// The id the runtime implements.
    pub id: Builtin,
    /// What it is called on.
    pub receiver: Receiver,
    /// Its name.
    pub name: &'static str,
    /// Parameter names and types (the receiver excluded).
    pub params: &'static [(&'static str, TypePattern)],
    /// The result type.
    pub ret: TypePattern,
    /// One line of documentation, shown on hover and in `docs/stdlib.md`.
    pub doc: &'static str,
}

macro_rules! builtins {
    ($($id:ident : $recv:expr, $name:literal ($($p:literal : $pt:expr),*) -> $ret:expr, $doc:literal;)*) => {
        /// Every builtin, by id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Builtin {
            $(#[doc = $doc] $id,)*
        }

        /// The builtin table, in documentation order.
        pub const BUILTINS: &[BuiltinSig] = &[
            $(BuiltinSig {
                id: Builtin::$id,
                receiver: $recv,
                name: $name,
                params: &[$(($p, $pt)),*],
                ret: $ret,
                doc: $doc,
            },)*
        ];
    };
}

use Receiver as R;
use TypePattern as T;

const STR_COLL: TypePattern = T::Collection(&T::String);
const FINDINGS: TypePattern = T::List(&T::Finding);

builtins! {
    // Methods on strings.
    StrLen: R::String, "len"() -> T::Int, "Length in bytes (UTF-8).";
    StrCharCount: R::String, "char_count"() -> T::Int, "Length in Unicode scalar values.";
    StrLower: R::String, "lower"() -> T::String, "Lowercase (Unicode).";
    StrUpper: R::String, "upper"() -> T::String, "Uppercase (Unicode).";
    StrTrim: R::String, "trim"() -> T::String, "Without leading and trailing whitespace.";
    StrContains: R::String, "contains"("needle": T::String) -> T::Bool, "Whether `needle` occurs in the string (case-sensitive).";
    StrStartsWith: R::String, "starts_with"("prefix": T::String) -> T::Bool, "Whether the string starts with `prefix`.";
    StrEndsWith: R::String, "ends_with"("suffix": T::String) -> T::Bool, "Whether the string ends with `suffix`.";
    StrContainsAny: R::String, "contains_any"("phrases": STR_COLL) -> T::Bool, "Whether any phrase occurs, ignoring case and runs of whitespace; constant phrase sets compile once into one matcher.";
    StrMatches: R::String, "matches"("pattern": T::String) -> T::Bool, "Whether the regex `pattern` matches somewhere (linear-time regex syntax).";
    StrMatchesAny: R::String, "matches_any"("patterns": STR_COLL) -> T::Bool, "Whether any of the regexes matches; all scanned in one pass.";
    StrFindAll: R::String, "find_all"("pattern": T::String) -> FINDINGS, "Every match of the regex, as findings with byte spans (kind `match`).";
    StrWordCount: R::String, "word_count"() -> T::Int, "Number of whitespace-separated words.";
    StrTokenCount: R::String, "token_count"() -> T::Int, "Approximate LLM token count (about four bytes a token, at least one per word).";
    StrSplit: R::String, "split"("separator": T::String) -> T::List(&T::String), "The parts between occurrences of `separator`.";
    StrReplace: R::String, "replace"("from": T::String, "to": T::String) -> T::String, "Every occurrence of `from` replaced by `to`.";

    // Methods on lists and sets.
    CollLen: R::Collection, "len"() -> T::Int, "Number of elements.";
    CollIsEmpty: R::Collection, "is_empty"() -> T::Bool, "Whether there are no elements.";
    CollContains: R::Collection, "contains"("element": T::Elem) -> T::Bool, "Whether `element` is a member (same as `in`).";
    CollIntersects: R::Collection, "intersects"("other": T::Collection(&T::Elem)) -> T::Bool, "Whether the two collections share an element.";
    CollIsSubset: R::Collection, "is_subset"("other": T::Collection(&T::Elem)) -> T::Bool, "Whether every element is also in `other`.";
    ListFirst: R::List, "first"() -> T::Optional(&T::Elem), "The first element, or `none` when empty.";
    ListLast: R::List, "last"() -> T::Optional(&T::Elem), "The last element, or `none` when empty.";
    CollSum: R::NumericCollection, "sum"() -> T::Elem, "The sum of the elements (0 when empty); overflow is an evaluation error.";
    CollMin: R::NumericCollection, "min"() -> T::Optional(&T::Elem), "The smallest element, or `none` when empty.";
    CollMax: R::NumericCollection, "max"() -> T::Optional(&T::Elem), "The largest element, or `none` when empty.";

    // Methods on maps.
    MapLen: R::Map, "len"() -> T::Int, "Number of entries.";
    MapIsEmpty: R::Map, "is_empty"() -> T::Bool, "Whether there are no entries.";
    MapContainsKey: R::Map, "contains_key"("key": T::String) -> T::Bool, "Whether `key` has an entry (same as `in`).";
    MapKeys: R::Map, "keys"() -> T::List(&T::String), "The keys, in ascending order.";
    MapValues: R::Map, "values"() -> T::List(&T::Elem), "The values, in ascending order of their keys.";

    // Methods on numbers and times.
    IntAbs: R::Int, "abs"() -> T::Int, "Absolute value; `abs` of the smallest int is an evaluation error.";
    IntToFloat: R::Int, "to_float"() -> T::Float, "The nearest float.";
    FloatAbs: R::Float, "abs"() -> T::Float, "Absolute value.";
    FloatFloor: R::Float, "floor"() -> T::Int, "Rounded down to an int; NaN or out of range is an evaluation error.";
    FloatCeil: R::Float, "ceil"() -> T::Int, "Rounded up to an int; NaN or out of range is an evaluation error.";
    FloatRound: R::Float, "round"() -> T::Int, "Rounded half away from zero to an int; NaN or out of range is an evaluation error.";
    DurationSeconds: R::Duration, "seconds"() -> T::Int, "Whole seconds, truncated toward zero.";
    DurationMillis: R::Duration, "millis"() -> T::Int, "Whole milliseconds, truncated toward zero.";
    TimestampUnixSeconds: R::Timestamp, "unix_seconds"() -> T::Int, "Seconds since 1970-01-01T00:00:00Z.";

    // std.text
    TextEntropy: R::Module("std.text"), "entropy"("text": T::String) -> T::Float, "Shannon entropy of the string's bytes, in bits per byte.";
    TextNormalize: R::Module("std.text"), "normalize"("text": T::String) -> T::String, "Lowercased, zero-width characters removed, whitespace runs collapsed to one space.";
    TextJoin: R::Module("std.text"), "join"("parts": STR_COLL, "separator": T::String) -> T::String, "The parts joined with `separator`.";
    TextRedact: R::Module("std.text"), "redact"("text": T::String, "findings": FINDINGS) -> T::String, "The text with each finding's span replaced by `[REDACTED:<kind>]`.";

    // std.pii
    PiiScan: R::Module("std.pii"), "scan"("text": T::String) -> FINDINGS, "Every PII finding: email, phone, ssn, iban, card, ipv4, ipv6.";
    PiiEmails: R::Module("std.pii"), "emails"("text": T::String) -> FINDINGS, "Email addresses.";
    PiiPhones: R::Module("std.pii"), "phones"("text": T::String) -> FINDINGS, "Phone numbers (international or North American formats).";
    PiiSsns: R::Module("std.pii"), "ssns"("text": T::String) -> FINDINGS, "US social security numbers (valid area, group and serial).";
    PiiIbans: R::Module("std.pii"), "ibans"("text": T::String) -> FINDINGS, "IBANs whose mod-97 checksum is valid.";
    PiiCards: R::Module("std.pii"), "cards"("text": T::String) -> FINDINGS, "Payment card numbers that pass the Luhn check.";
    PiiIps: R::Module("std.pii"), "ips"("text": T::String) -> FINDINGS, "IPv4 and IPv6 addresses.";

    // std.secrets
    SecretsScan: R::Module("std.secrets"), "scan"("text": T::String) -> FINDINGS, "Every secret finding: aws_access_key, private_key, jwt, bearer_token, github_token, slack_token.";
    SecretsHighEntropy: R::Module("std.secrets"), "high_entropy"("text": T::String, "min_length": T::Int, "threshold": T::Float) -> FINDINGS, "Tokens of at least `min_length` bytes whose Shannon entropy is at least `threshold` bits per byte.";

    // std.url
    UrlIsValid: R::Module("std.url"), "is_valid"("url": T::String) -> T::Bool, "Whether the string is an absolute URL.";
    UrlHost: R::Module("std.url"), "host"("url": T::String) -> T::String, "The host, lowercased; empty when the URL does not parse.";
    UrlScheme: R::Module("std.url"), "scheme"("url": T::String) -> T::String, "The scheme, lowercased; empty when the URL does not parse.";
    UrlPath: R::Module("std.url"), "path"("url": T::String) -> T::String, "The path; empty when the URL does not parse.";
    UrlPort: R::Module("std.url"), "port"("url": T::String) -> T::Optional(&T::Int), "The explicit or scheme-default port, or `none`.";
    UrlHostMatches: R::Module("std.url"), "host_matches"("url": T::String, "hosts": STR_COLL) -> T::Bool, "Whether the URL's host equals one of `hosts`, or is a subdomain of an entry written `*.example.com`.";

    // std.glob
    GlobMatches: R::Module("std.glob"), "matches"("pattern": T::String, "text": T::String) -> T::Bool, "Whether `text` matches the glob (`*` within a segment, `**` across `/`, `?`, `[abc]`).";
    GlobMatchesAny: R::Module("std.glob"), "matches_any"("patterns": STR_COLL, "text": T::String) -> T::Bool, "Whether `text` matches any of the globs.";

    // std.time
    TimeParse: R::Module("std.time"), "parse"("text": T::String) -> T::Optional(&T::Timestamp), "An RFC 3339 timestamp, or `none` when it does not parse.";
    TimeParseDuration: R::Module("std.time"), "parse_duration"("text": T::String) -> T::Optional(&T::Duration), "A duration such as `1h30m`, or `none` when it does not parse.";
}

/// The largest compiled regex, in bytes: larger patterns (large bounded
/// repetitions of Unicode classes) are errors, found by the checker for
/// constant patterns and by the runtime for computed ones.
pub const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// The largest lazy DFA cache of one regex, in bytes.
pub const REGEX_DFA_SIZE_LIMIT: usize = 4 << 20;

/// The deepest nesting of groups and repetitions in a regex.
pub const REGEX_NEST_LIMIT: u32 = 64;

/// The native modules under `std`.
pub const NATIVE_MODULES: &[&str] = &[
    "std.text",
    "std.pii",
    "std.secrets",
    "std.url",
    "std.glob",
    "std.time",
];

/// The signature of builtin `id`.
pub fn signature(id: Builtin) -> &'static BuiltinSig {
    // The table is generated in enum order, so the discriminant is the index.
    &BUILTINS[id as usize]
}

/// The functions of native module `module` (such as `std.pii`).
pub fn module_functions(module: &str) -> impl Iterator<Item = &'static BuiltinSig> + '_ {
    BUILTINS
        .iter()
        .filter(move |b| matches!(b.receiver, Receiver::Module(m) if m == module))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_enum_order() {
        for (i, sig) in BUILTINS.iter().enumerate() {
            assert_eq!(sig.id as usize, i, "{}", sig.name);
            assert_eq!(signature(sig.id).name, sig.name);
        }
    }

    #[test]
    fn every_module_function_belongs_to_a_native_module() {
        for sig in BUILTINS {
            if let Receiver::Module(m) = sig.receiver {
                assert!(NATIVE_MODULES.contains(&m), "{m}");
            }
        }
        for m in NATIVE_MODULES {
            assert!(module_functions(m).next().is_some(), "{m} has no functions");
        }
    }

    #[test]
    fn names_are_unique_per_receiver() {
        for (i, a) in BUILTINS.iter().enumerate() {
            for b in &BUILTINS[i + 1..] {
                assert!(
                    !(a.receiver == b.receiver && a.name == b.name),
                    "{} twice",
                    a.name
                );
            }
        }
    }
}
