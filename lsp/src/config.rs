//! The server's settings, from `initializationOptions` and
//! `workspace/didChangeConfiguration` (or `workspace/configuration` when
//! the client sends no values).

use serde_json::Value;

/// What a user can set. Each message with settings replaces all of them:
/// a setting it leaves out takes its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// `pol.lens.enable`: show code lenses (default: yes).
    pub(crate) lens_enable: bool,
    /// `pol.diagnostics.workspace`: publish the diagnostics of every
    /// workspace file (default), or only of the files open in the editor.
    pub(crate) workspace_diagnostics: bool,
    /// `pol.inputDir`: the folder the evaluate lens reads inputs from,
    /// instead of the policy's folder; a relative path is taken from the
    /// workspace folder holding the policy.
    pub(crate) input_dir: Option<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            lens_enable: true,
            workspace_diagnostics: true,
            input_dir: None,
        }
    }
}

impl Settings {
    /// Reads settings from a client's JSON: the `pol` section itself or an
    /// object holding it under `pol`, with nested (`{ "lens": { "enable":
    /// false } }`) or dotted (`{ "lens.enable": false }`) keys. Returns the
    /// settings and a warning for each value of the wrong type (which
    /// keeps its default).
    pub(crate) fn from_json(value: &Value) -> (Settings, Vec<String>) {
        let section = match value.get("pol") {
            Some(section) if section.is_object() => section,
            _ => value,
        };
        let mut settings = Settings::default();
        let mut warnings = Vec::new();
        let mut bool_setting = |key: &str, slot: &mut bool| match lookup(section, key) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => *slot = *b,
            Some(other) => warnings.push(format!(
                "setting `pol.{key}` should be true or false, not {other}; using {slot}"
            )),
        };
        bool_setting("lens.enable", &mut settings.lens_enable);
        bool_setting("diagnostics.workspace", &mut settings.workspace_diagnostics);
        match lookup(section, "inputDir") {
            None | Some(Value::Null) => {}
            Some(Value::String(dir)) if dir.trim().is_empty() => {}
            Some(Value::String(dir)) => settings.input_dir = Some(dir.trim().to_string()),
            Some(other) => warnings.push(format!(
                "setting `pol.inputDir` should be a folder path, not {other}; inputs are read next to each policy"
            )),
        }
        (settings, warnings)
    }
}

/// The value at a dotted `key` of `section`, nested or written dotted.
fn lookup<'v>(section: &'v Value, key: &str) -> Option<&'v Value> {
    if let Some(value) = section.get(key) {
        return Some(value);
    }
    let (head, rest) = key.split_once('.')?;
    lookup(section.get(head)?, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_read_nested_dotted_and_sectioned() {
        let (s, w) = Settings::from_json(&json!({ "pol": { "lens": { "enable": false } } }));
        assert!(!s.lens_enable && s.workspace_diagnostics && w.is_empty());
        let (s, _) =
            Settings::from_json(&json!({ "diagnostics.workspace": false, "inputDir": "in" }));
        assert!(s.lens_enable && !s.workspace_diagnostics);
        assert_eq!(s.input_dir.as_deref(), Some("in"));
        let (s, w) = Settings::from_json(&json!(null));
        assert_eq!(s, Settings::default());
        assert!(w.is_empty());
    }

    #[test]
    fn ill_typed_settings_keep_their_defaults_with_a_warning() {
        let (s, w) = Settings::from_json(&json!({ "lens": { "enable": "no" }, "inputDir": 3 }));
        assert_eq!(s, Settings::default());
        assert_eq!(
            w,
            [
                "setting `pol.lens.enable` should be true or false, not \"no\"; using true",
                "setting `pol.inputDir` should be a folder path, not 3; inputs are read next to each policy",
            ]
        );
    }
}
