//! Signature help for builtins (module functions and methods) and policy
//! calls.

use pol_sema::{Def, ImportTarget};
use pol_syntax::lexer::TokenKind;

use crate::Analysis;

/// A signature with the parameter being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    /// The whole signature, such as `scan(text: string) -> list<Finding>`.
    pub label: String,
    /// Each parameter's byte range in `label`.
    pub params: Vec<(u32, u32)>,
    /// The parameter the cursor is in.
    pub active: u32,
    /// Documentation.
    pub doc: Option<String>,
}

impl<'db> Analysis<'db> {
    /// Signature help at `offset`: the innermost unclosed call around it.
    pub fn signature_help(&self, path: &str, offset: u32) -> Option<SignatureInfo> {
        let (checked, file) = self.file(path)?;
        let text = self.text(path)?;
        let offset = crate::completion::clamp_to_boundary(text, offset);
        let tokens = crate::lex(text);
        let last = crate::token_before(&tokens, offset)?;
        // Walk back to the unclosed `(`, counting commas at its depth.
        let mut depth = 0i32;
        let mut commas = 0u32;
        let mut open = None;
        for i in (0..=last).rev() {
            let t = tokens[i];
            if t.span.end > offset {
                continue;
            }
            match t.kind {
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => depth += 1,
                TokenKind::LParen if depth == 0 => {
                    open = Some(i);
                    break;
                }
                TokenKind::LBracket | TokenKind::LBrace if depth == 0 => return None,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth -= 1,
                TokenKind::Comma if depth == 0 => commas += 1,
                k if k.starts_item() && i > 0 && at_line_start(text, t.span.start) => return None,
                _ => {}
            }
        }
        let open = open?;
        let name = tokens.get(open.checked_sub(1)?)?;
        if name.kind != TokenKind::Ident {
            return None;
        }
        let name_text = text.get(name.span.range())?;
        let dot = open
            .checked_sub(2)
            .and_then(|i| tokens.get(i))
            .filter(|t| matches!(t.kind, TokenKind::Dot | TokenKind::QuestionDot));
        let info = checked.program.files.get(file)?;
        // `alias.policy(`: a policy of an imported package.
        let policy_package = match dot {
            None => Some(info.package.clone()),
            Some(_) => {
                let receiver = tokens.get(open.checked_sub(3)?)?;
                match info.scope.imports.get(text.get(receiver.span.range())?) {
                    Some((ImportTarget::Package(p), _)) => Some(p.clone()),
                    _ => None,
                }
            }
        };
        let (label, params, doc): (String, Vec<String>, Option<String>) = match policy_package {
            Some(package) => {
                let def = checked
                    .program
                    .packages
                    .get(&package)?
                    .defs
                    .get(name_text)?;
                let Def::Policy(i) = def else { return None };
                let policy = checked.program.policies.get(*i as usize)?;
                let signature = crate::policy_signature(checked, policy);
                // The one input, as the signature writes it.
                let param = signature
                    .split_once('(')
                    .and_then(|(_, rest)| rest.rsplit_once(") ->"))
                    .map_or_else(String::new, |(input, _)| input.to_string());
                let doc = checked
                    .program
                    .item(&policy.origin)
                    .and_then(|i| i.doc.clone());
                (signature, vec![param], doc)
            }
            None => {
                let receiver = tokens.get(open.checked_sub(3)?)?;
                let receiver_text = text.get(receiver.span.range())?;
                let module = match info.scope.imports.get(receiver_text) {
                    Some((ImportTarget::Native(m), _)) => Some(*m),
                    _ => None,
                };
                let sig = match module {
                    Some(m) => pol_ir::builtins::module_functions(m).find(|b| b.name == name_text),
                    None => {
                        // A method: by the receiver's type when it is known,
                        // otherwise the first method of that name.
                        let ty = checked
                            .types
                            .get(file)
                            .and_then(|t| t.innermost_at(receiver.span.start))
                            .filter(|((_, end), _)| *end == receiver.span.end)
                            .map(|(_, ty)| ty.unwrap_optional().clone());
                        ty.and_then(|ty| {
                            pol_sema::methods_of(&ty)
                                .into_iter()
                                .find(|m| m.name == name_text)
                        })
                        .or_else(|| {
                            pol_ir::builtins::BUILTINS.iter().find(|b| {
                                b.name == name_text
                                    && !matches!(b.receiver, pol_ir::builtins::Receiver::Module(_))
                            })
                        })
                    }
                }?;
                let params = sig
                    .params
                    .iter()
                    .map(|(n, t)| format!("{n}: {}", pol_sema::pattern_name(t)))
                    .collect();
                let prefix = module.map_or(String::new(), |m| {
                    format!("{}.", m.rsplit('.').next().unwrap_or(m))
                });
                (
                    format!("{prefix}{}", crate::builtin_signature(sig)),
                    params,
                    Some(sig.doc.to_string()),
                )
            }
        };
        let mut ranges = Vec::new();
        let mut search_from = label.find('(').map_or(0, |i| i + 1);
        for p in &params {
            if let Some(at) = label[search_from..].find(p.as_str()) {
                let start = search_from + at;
                ranges.push((start as u32, (start + p.len()) as u32));
                search_from = start + p.len();
            }
        }
        Some(SignatureInfo {
            label,
            params: ranges,
            active: commas,
            doc,
        })
    }
}

fn at_line_start(text: &str, at: u32) -> bool {
    at == 0 || text.as_bytes().get(at as usize - 1) == Some(&b'\n')
}
