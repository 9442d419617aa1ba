//! Cedar (`cedar-policy`): the workloads as Cedar policies (`peers/wN.cedar`)
//! and the host code that turns a workload's JSON into entities, context and
//! requests.
//!
//! Eval-only starts from [`Prepared`] (entities built, requests made); the
//! JSON path decodes the JSON with serde into the workload's Rust shape
//! (`crate::inputs`), builds the entities and requests, and authorizes.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, RestrictedExpression,
};

use crate::inputs::{Metrics, Prompt, Retrieval, ToolCall};
use crate::{Outcome, ToolVerdict, W4_PAGING_ALERTS, Workload};

/// One workload's policies, loaded.
pub struct CedarPeer {
    workload: Workload,
    policies: PolicySet,
    authorizer: Authorizer,
    /// For each policy, its `@id` annotation.
    ids: HashMap<PolicyId, String>,
    /// W1: the permits that carry `@approval("true")`.
    approval: HashSet<PolicyId>,
}

impl std::fmt::Debug for CedarPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CedarPeer")
            .field("workload", &self.workload)
            .finish()
    }
}

/// A workload's input made ready for Cedar: the entities and the requests
/// (one, or one per document for W2).
pub struct Prepared {
    entities: Entities,
    requests: Vec<Request>,
    /// W2: the document id of each request.
    doc_ids: Vec<String>,
}

/// What one Cedar evaluation gives the host.
#[derive(Debug)]
pub enum CedarResult {
    /// W1, W3, W4: one decision and the ids of the policies that decided.
    One(Decision, Vec<PolicyId>),
    /// W2: the allowed documents' indices.
    Kept(Vec<usize>),
}

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(
        EntityTypeName::from_str(ty).expect("entity type name"),
        EntityId::new(id),
    )
}

fn string(s: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(s.to_string())
}

fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> RestrictedExpression {
    RestrictedExpression::new_set(items.into_iter().map(|s| string(s)))
}

/// Cedar has no ordered enums: the host ranks the levels.
fn level_rank(level: &str) -> i64 {
    match level {
        "public" => 0,
        "internal" => 1,
        "confidential" => 2,
        "restricted" => 3,
        other => panic!("unknown level {other}"),
    }
}

impl CedarPeer {
    /// Parses `peers/wN.cedar`.
    pub fn new(workload: Workload) -> CedarPeer {
        let source = match workload {
            Workload::W1 => include_str!("../peers/w1.cedar"),
            Workload::W2 => include_str!("../peers/w2.cedar"),
            Workload::W3 => include_str!("../peers/w3.cedar"),
            Workload::W4 => include_str!("../peers/w4.cedar"),
        };
        let policies = PolicySet::from_str(source)
            .unwrap_or_else(|e| panic!("{}.cedar does not parse: {e:?}", workload.key()));
        let mut ids = HashMap::new();
        let mut approval = HashSet::new();
        for policy in policies.policies() {
            if let Some(id) = policy.annotation("id") {
                ids.insert(policy.id().clone(), id.to_string());
            }
            if policy.annotation("approval") == Some("true") {
                approval.insert(policy.id().clone());
            }
        }
        CedarPeer {
            workload,
            policies,
            authorizer: Authorizer::new(),
            ids,
            approval,
        }
    }

    /// Decodes JSON text and builds the entities and requests.
    pub fn prepare(&self, json: &[u8]) -> Prepared {
        match self.workload {
            Workload::W1 => w1_prepare(&serde_json::from_slice(json).expect("W1 input")),
            Workload::W2 => w2_prepare(&serde_json::from_slice(json).expect("W2 input")),
            Workload::W3 => w3_prepare(&serde_json::from_slice(json).expect("W3 input")),
            Workload::W4 => w4_prepare(&serde_json::from_slice(json).expect("W4 input")),
        }
    }

    /// Authorizes prepared requests.
    pub fn eval(&self, prepared: &Prepared) -> CedarResult {
        if self.workload == Workload::W2 {
            let kept = prepared
                .requests
                .iter()
                .enumerate()
                .filter(|(_, request)| {
                    self.authorizer
                        .is_authorized(request, &self.policies, &prepared.entities)
                        .decision()
                        == Decision::Allow
                })
                .map(|(i, _)| i)
                .collect();
            return CedarResult::Kept(kept);
        }
        let response = self.authorizer.is_authorized(
            &prepared.requests[0],
            &self.policies,
            &prepared.entities,
        );
        CedarResult::One(
            response.decision(),
            response.diagnostics().reason().cloned().collect(),
        )
    }

    /// JSON text to decision.
    pub fn eval_json(&self, json: &[u8]) -> CedarResult {
        self.eval(&self.prepare(json))
    }

    /// The normalized outcome.
    pub fn outcome(&self, prepared: &Prepared, result: &CedarResult) -> Outcome {
        let id = |p: &PolicyId| self.ids.get(p).cloned().unwrap_or_else(|| p.to_string());
        match (self.workload, result) {
            (Workload::W1, CedarResult::One(decision, reasons)) => Outcome::Tool(match decision {
                Decision::Deny => ToolVerdict::Deny,
                Decision::Allow if reasons.iter().any(|r| self.approval.contains(r)) => {
                    ToolVerdict::AllowWithApproval
                }
                Decision::Allow => ToolVerdict::Allow,
            }),
            (Workload::W2, CedarResult::Kept(kept)) => {
                Outcome::Docs(kept.iter().map(|&i| prepared.doc_ids[i].clone()).collect())
            }
            (Workload::W3, CedarResult::One(decision, reasons)) => Outcome::Guard {
                allowed: *decision == Decision::Allow,
                fired: match decision {
                    Decision::Deny => reasons.iter().map(id).collect(),
                    Decision::Allow => BTreeSet::new(),
                },
            },
            (Workload::W4, CedarResult::One(decision, reasons)) => {
                let alerts: BTreeSet<String> = match decision {
                    Decision::Allow => reasons.iter().map(id).collect(),
                    Decision::Deny => BTreeSet::new(),
                };
                Outcome::Alerts {
                    allowed: !alerts
                        .iter()
                        .any(|a| W4_PAGING_ALERTS.contains(&a.as_str())),
                    alerts,
                }
            }
            (w, r) => panic!("{w:?}: unexpected result {r:?}"),
        }
    }
}

fn w1_prepare(call: &ToolCall) -> Prepared {
    let principal = uid("User", &call.principal.id);
    let resource = uid("Tool", &call.tool.name);
    let user = Entity::new(
        principal.clone(),
        HashMap::from([
            ("role".to_string(), string(&call.principal.role)),
            ("tenant".to_string(), string(&call.principal.tenant)),
        ]),
        HashSet::new(),
    )
    .expect("user entity");
    let tool = Entity::new(
        resource.clone(),
        HashMap::from([(
            "risk".to_string(),
            RestrictedExpression::new_long(call.tool.risk),
        )]),
        HashSet::new(),
    )
    .expect("tool entity");
    let args =
        RestrictedExpression::new_record(call.args.iter().map(|(k, v)| (k.clone(), string(v))))
            .expect("args record");
    let context = Context::from_pairs([("args".to_string(), args)]).expect("context");
    let request =
        Request::new(principal, uid("Action", "call"), resource, context, None).expect("request");
    Prepared {
        entities: Entities::from_entities([user, tool], None).expect("entities"),
        requests: vec![request],
        doc_ids: Vec::new(),
    }
}

fn w2_prepare(r: &Retrieval) -> Prepared {
    let principal = uid("User", &r.user.id);
    let mut entities = Vec::with_capacity(r.docs.len() + 1);
    entities.push(
        Entity::new(
            principal.clone(),
            HashMap::from([
                ("tenant".to_string(), string(&r.user.tenant)),
                (
                    "clearance".to_string(),
                    RestrictedExpression::new_long(level_rank(&r.user.clearance)),
                ),
                ("groups".to_string(), strings(&r.user.groups)),
            ]),
            HashSet::new(),
        )
        .expect("user entity"),
    );
    let context = Context::from_pairs([("now".to_string(), RestrictedExpression::new_long(r.now))])
        .expect("context");
    let action = uid("Action", "read");
    let mut requests = Vec::with_capacity(r.docs.len());
    let mut doc_ids = Vec::with_capacity(r.docs.len());
    for doc in &r.docs {
        let resource = uid("Doc", &doc.id);
        entities.push(
            Entity::new(
                resource.clone(),
                HashMap::from([
                    ("tenant".to_string(), string(&doc.tenant)),
                    (
                        "classification".to_string(),
                        RestrictedExpression::new_long(level_rank(&doc.classification)),
                    ),
                    ("acl".to_string(), strings(&doc.acl)),
                    ("source".to_string(), string(&doc.source)),
                    (
                        "updated_at".to_string(),
                        RestrictedExpression::new_long(doc.updated_at),
                    ),
                ]),
                HashSet::new(),
            )
            .expect("doc entity"),
        );
        requests.push(
            Request::new(
                principal.clone(),
                action.clone(),
                resource,
                context.clone(),
                None,
            )
            .expect("request"),
        );
        doc_ids.push(doc.id.clone());
    }
    Prepared {
        entities: Entities::from_entities(entities, None).expect("entities"),
        requests,
        doc_ids,
    }
}

fn w3_prepare(p: &Prompt) -> Prepared {
    // Cedar cannot lowercase: the host does, once.
    let context = Context::from_pairs([
        ("text".to_string(), string(&p.text)),
        ("lower".to_string(), string(&p.text.to_lowercase())),
    ])
    .expect("context");
    let request = Request::new(
        uid("User", "caller"),
        uid("Action", "prompt"),
        uid("Prompt", "p"),
        context,
        None,
    )
    .expect("request");
    Prepared {
        entities: Entities::empty(),
        requests: vec![request],
        doc_ids: Vec::new(),
    }
}

fn w4_prepare(m: &Metrics) -> Prepared {
    let long = RestrictedExpression::new_long;
    let context = Context::from_pairs([
        ("service".to_string(), string(&m.service)),
        ("window_s".to_string(), long(m.window_s)),
        ("requests".to_string(), long(m.requests)),
        ("errors".to_string(), long(m.errors)),
        ("blocked".to_string(), long(m.blocked)),
        ("p95_latency_ms".to_string(), long(m.p95_latency_ms)),
        ("tokens_spent".to_string(), long(m.tokens_spent)),
        ("token_budget".to_string(), long(m.token_budget)),
    ])
    .expect("context");
    let request = Request::new(
        uid("Service", "monitor"),
        uid("Action", "evaluate"),
        uid("Window", "w"),
        context,
        None,
    )
    .expect("request");
    Prepared {
        entities: Entities::empty(),
        requests: vec![request],
        doc_ids: Vec::new(),
    }
}
