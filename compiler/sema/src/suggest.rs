//! "Did you mean" suggestions.

/// The candidate closest to `name`, if it is close enough to be a likely
/// typo: within a third of the name's length in edits (at least one).
/// Names shorter than three characters are too short for edit distance to
/// mean anything (`y` is one edit from `S`): for them only a candidate that
/// differs in case alone is suggested.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = name.chars().count();
    if length < 3 {
        let lower = name.to_lowercase();
        return candidates
            .into_iter()
            .filter(|c| *c != name && c.to_lowercase() == lower)
            .min();
    }
    let limit = (length / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Help for a name that is not among `candidates`: "did you mean `x`?"
/// when one is close, otherwise `intro` followed by every candidate
/// (`` `Role` has `guest`, `admin` ``), or nothing when there is no intro
/// or no candidate.
pub(crate) fn unknown_name_help(
    name: &str,
    candidates: &[&str],
    intro: Option<&str>,
) -> Option<String> {
    if let Some(close) = did_you_mean(name, candidates.iter().copied()) {
        return Some(format!("did you mean `{close}`?"));
    }
    let intro = intro.filter(|_| !candidates.is_empty())?;
    let listed: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
    Some(format!("{intro} {}", listed.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, unknown_name_help};

    #[test]
    fn help_suggests_or_lists() {
        assert_eq!(
            unknown_name_help("admn", &["guest", "admin"], Some("`Role` has")).as_deref(),
            Some("did you mean `admin`?")
        );
        assert_eq!(
            unknown_name_help("root", &["guest", "admin"], Some("`Role` has")).as_deref(),
            Some("`Role` has `guest`, `admin`")
        );
        assert_eq!(unknown_name_help("root", &["guest"], None), None);
        assert_eq!(unknown_name_help("root", &[], Some("x has")), None);
    }

    #[test]
    fn close_names_are_suggested() {
        assert_eq!(did_you_mean("rol", ["role", "tenant"]), Some("role"));
        assert_eq!(did_you_mean("tennat", ["role", "tenant"]), Some("tenant"));
        assert_eq!(did_you_mean("xyz", ["role", "tenant"]), None);
    }

    #[test]
    fn short_names_only_match_ignoring_case() {
        assert_eq!(did_you_mean("y", ["S", "x", "yy"]), None);
        assert_eq!(did_you_mean("id", ["ip", "ids"]), None);
        assert_eq!(did_you_mean("s", ["S", "t"]), Some("S"));
        assert_eq!(did_you_mean("Id", ["id", "ip"]), Some("id"));
    }
}
