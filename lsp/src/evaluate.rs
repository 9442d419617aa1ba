//! The `▶ evaluate` lens: where it finds a policy's input, evaluating the
//! policy on it, and the skeleton input it writes when there is none.
//!
//! The convention: in the policy file's folder (or the `pol.inputDir`
//! folder), `<file stem>.<policy name>.input.json` is the policy's own
//! input; failing that, `input.json` is shared by the folder's policies
//! (as in OPA's VS Code extension). When neither exists the lens writes a
//! skeleton to the policy's own file.

use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types::{LSPAny, MessageType};

use crate::config::Settings;

/// The input files a policy's evaluate lens looks for, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputFiles {
    /// `<file stem>.<policy name>.input.json`: the policy's own input,
    /// and where a skeleton is written.
    pub(crate) own: PathBuf,
    /// `input.json`: shared by the folder's policies.
    pub(crate) shared: PathBuf,
}

impl InputFiles {
    /// The input files of policy `policy` (its name in the package) of
    /// the file `file`. `None` when the file is not on disk (an unsaved
    /// buffer, the embedded library).
    pub(crate) fn of_policy(
        file: &str,
        policy: &str,
        settings: &Settings,
        folders: &[PathBuf],
    ) -> Option<InputFiles> {
        let file = Path::new(file);
        if !file.is_absolute() {
            return None;
        }
        let stem = file.file_stem()?.to_str()?;
        let folder = match settings.input_dir.as_deref().map(Path::new) {
            None => file.parent()?.to_path_buf(),
            Some(dir) if dir.is_absolute() => dir.to_path_buf(),
            Some(dir) => {
                // Relative to the innermost workspace folder holding the
                // policy, else to the policy's folder.
                let root = folders
                    .iter()
                    .filter(|f| file.starts_with(f))
                    .max_by_key(|f| f.components().count())
                    .map(PathBuf::as_path)
                    .or_else(|| file.parent())?;
                root.join(dir)
            }
        };
        Some(InputFiles {
            own: folder.join(format!("{stem}.{policy}.input.json")),
            shared: folder.join("input.json"),
        })
    }

    /// The first of the files that exists.
    pub(crate) fn existing(&self) -> Option<&Path> {
        [&self.own, &self.shared]
            .into_iter()
            .find(|p| p.is_file())
            .map(PathBuf::as_path)
    }
}

/// The file name of a path, for titles and messages.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The policy's name in its package: `gate` for `acme.agent.gate`.
pub(crate) fn policy_name(qualified: &str) -> &str {
    qualified
        .rsplit_once('.')
        .map_or(qualified, |(_, name)| name)
}

/// What the evaluate lens reports.
pub(crate) struct Outcome {
    /// The message's level: an error when nothing was evaluated.
    pub(crate) level: MessageType,
    /// The message shown.
    pub(crate) message: String,
    /// Whether a skeleton input was written (the lens titles change).
    pub(crate) created: bool,
    /// The command's result.
    pub(crate) json: LSPAny,
}

/// Evaluates on the first input file that exists, or writes a skeleton
/// to the policy's own input file (never over an existing file).
pub(crate) fn on_input(
    prepared: Result<pol_ide::PreparedEvaluation, String>,
    files: Option<InputFiles>,
) -> Outcome {
    let failed = |message: String, input: Option<&Path>| Outcome {
        level: MessageType::ERROR,
        json: serde_json::json!({
            "evaluated": false,
            "summary": message,
            "input": input.map(|p| p.display().to_string()),
            "decision": null,
            "error": message,
        }),
        message,
        created: false,
    };
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(why) => return failed(why, None),
    };
    let policy = prepared.policy().to_string();
    let Some(files) = files else {
        return failed(
            format!("cannot evaluate `{policy}`: its file is not on disk, so it has no input file"),
            None,
        );
    };
    let Some(input) = files.existing().map(Path::to_path_buf) else {
        return write_skeleton(&prepared, &files.own);
    };
    let bytes = match std::fs::read(&input) {
        Ok(bytes) => bytes,
        Err(e) => {
            return failed(
                format!("cannot read {}: {e}", input.display()),
                Some(&input),
            );
        }
    };
    let evaluation = prepared.evaluate(&bytes);
    let message = format!(
        "`{policy}` on {}: {}",
        file_name(&input),
        evaluation.summary
    );
    Outcome {
        level: if evaluation.evaluated {
            MessageType::INFO
        } else {
            MessageType::ERROR
        },
        json: serde_json::json!({
            "evaluated": evaluation.evaluated,
            "summary": evaluation.summary,
            "input": input.display().to_string(),
            "decision": evaluation.decision,
            "error": evaluation.error,
        }),
        message,
        created: false,
    }
}

/// Writes the policy's skeleton input to `path` (creating its folder),
/// refusing to replace a file. The skeleton is in the answer either way.
fn write_skeleton(prepared: &pol_ide::PreparedEvaluation, path: &Path) -> Outcome {
    let skeleton = prepared.skeleton();
    let policy = prepared.policy();
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&skeleton).unwrap_or_default()
    );
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)?
                .write_all(text.as_bytes())
        });
    let (level, summary, created) = match written {
        Ok(()) => (
            MessageType::INFO,
            format!(
                "no input file for `{policy}`: wrote a skeleton input to {}; fill it in and run ▶ evaluate again",
                path.display()
            ),
            true,
        ),
        Err(e) => (
            MessageType::ERROR,
            format!(
                "no input file for `{policy}`, and a skeleton cannot be written to {}: {e}",
                path.display()
            ),
            false,
        ),
    };
    Outcome {
        level,
        message: summary.clone(),
        created,
        json: serde_json::json!({
            "evaluated": false,
            "summary": summary,
            "created": created.then(|| path.display().to_string()),
            "skeleton": skeleton,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_sit_next_to_the_policy_or_in_the_input_dir() {
        let settings = Settings::default();
        let files = InputFiles::of_policy("/ws/app/agent.pol", "gate", &settings, &[])
            .expect("a file on disk");
        assert_eq!(files.own, Path::new("/ws/app/agent.gate.input.json"));
        assert_eq!(files.shared, Path::new("/ws/app/input.json"));
        let relative = Settings {
            input_dir: Some("inputs".into()),
            ..Settings::default()
        };
        let folders = [PathBuf::from("/ws"), PathBuf::from("/ws/app")];
        let files = InputFiles::of_policy("/ws/app/agent.pol", "gate", &relative, &folders)
            .expect("a file on disk");
        assert_eq!(files.own, Path::new("/ws/app/inputs/agent.gate.input.json"));
        let files = InputFiles::of_policy("/elsewhere/a.pol", "p", &relative, &folders)
            .expect("a file on disk");
        assert_eq!(files.shared, Path::new("/elsewhere/inputs/input.json"));
        let absolute = Settings {
            input_dir: Some("/in".into()),
            ..Settings::default()
        };
        let files = InputFiles::of_policy("/ws/app/agent.pol", "gate", &absolute, &folders)
            .expect("a file on disk");
        assert_eq!(files.own, Path::new("/in/agent.gate.input.json"));
        assert_eq!(
            InputFiles::of_policy("untitled:Untitled-1", "p", &settings, &folders),
            None
        );
    }
}
