//! Proof, read from template.yaml, that the internet-facing webhook cannot read Sinch API
//! credentials. The config table keeps them in their own partitions (`SECRETS#{tenant}`), apart
//! from what the webhook needs (`TENANT#{tenant}`: tenant, services with webhook secrets,
//! queues; `TENANTS`: the tenant index), and the webhook's role may only name partitions that
//! match `TENANT#*` or `TENANTS` (IAM condition `ForAllValues:StringLike` on
//! `dynamodb:LeadingKeys`).
//!
//! cfn-lint sees nothing inside an `AWS::Serverless::Function`'s `Policies`, and moto does not
//! enforce IAM, so this test is the only guard. It is conservative: a policy it cannot read
//! (a SAM policy template, a managed policy, a role defined elsewhere) is a failure, not a pass.
//! The checker is also run on broken copies of the template to show it can fail.

use crate::common;

use common::{getatt_target, raw_template, ref_target, resources_of_type};
use serde_yaml::{Mapping, Value};

const FUNCTION: &str = "WebhookFunction";
const TABLE: &str = "ConfigTable";
/// Actions that always name the partitions they touch. Scan (and PartiQL) name none, and a
/// `ForAllValues` condition over an empty set of keys holds, so they would read everything.
const KEYED_READS: [&str; 3] = [
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
];
const FORBIDDEN_PREFIX: &str = "SECRETS#";
/// What the webhook must still be able to read.
const NEEDED_KEYS: [&str; 2] = ["TENANT#acme", "TENANTS"];

/// IAM `StringLike`: `*` matches any run of characters (also none), `?` exactly one.
fn string_like(pattern: &str, value: &str) -> bool {
    glob_states(pattern, value).contains(&pattern.chars().count())
}

/// Whether some string that starts with `prefix` matches `pattern`. After the prefix is read,
/// any pattern position still reachable can be completed (a `*` by nothing, a `?` or a literal
/// by that character), so the answer is: does any position survive the prefix.
fn matches_some_string_starting_with(pattern: &str, prefix: &str) -> bool {
    !glob_states(pattern, prefix).is_empty()
}

/// The pattern positions reachable after reading `input` (a position past a `*` is reachable
/// wherever the `*` is).
fn glob_states(pattern: &str, input: &str) -> Vec<usize> {
    let pattern: Vec<char> = pattern.chars().collect();
    let close = |states: Vec<usize>| -> Vec<usize> {
        let mut closed = Vec::new();
        for mut state in states {
            loop {
                if !closed.contains(&state) {
                    closed.push(state);
                }
                if pattern.get(state) == Some(&'*') {
                    state += 1;
                } else {
                    break;
                }
            }
        }
        closed
    };
    let mut states = close(vec![0]);
    for c in input.chars() {
        let mut next = Vec::new();
        for &state in &states {
            match pattern.get(state) {
                Some('*') => next.push(state),
                Some('?') => next.push(state + 1),
                Some(&literal) if literal == c => next.push(state + 1),
                _ => {}
            }
        }
        states = close(next);
        if states.is_empty() {
            break;
        }
    }
    states
}

/// A list or a single item, as IAM allows for Action, Resource and condition values.
fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(list) => list.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn text(value: &Value) -> Option<&str> {
    value.as_str()
}

/// Whether a Resource entry may designate the config table (or its indexes). Only a reference
/// to another resource of the template is known not to.
fn may_be_the_config_table(resource: &Value) -> bool {
    if let Some(target) = ref_target(resource) {
        return target == TABLE;
    }
    if let Some((target, _)) = getatt_target(resource) {
        return target == TABLE;
    }
    // A literal ARN, a wildcard or a !Sub: assume the worst.
    true
}

fn may_grant_dynamodb(action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    // `*`, `dynamodb:*`, `dynamo*:Get*`, ...: anything that could match a DynamoDB action.
    matches_some_string_starting_with(&action, "dynamodb:")
}

/// Every reason the webhook's role might read the config table outside the allowed
/// partitions; empty when the template proves it cannot.
fn config_table_access_problems(template: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let function = &template["Resources"][FUNCTION];
    if function["Type"].as_str() != Some("AWS::Serverless::Function") {
        return vec![format!("{FUNCTION} is not an AWS::Serverless::Function")];
    }
    let properties = &function["Properties"];
    if !properties["Role"].is_null() {
        problems.push(format!(
            "{FUNCTION} uses a Role defined elsewhere; declare its policies inline in Policies"
        ));
    }
    if !template["Globals"]["Function"]["Policies"].is_null()
        || !template["Globals"]["Function"]["Role"].is_null()
    {
        problems.push("Globals.Function sets Policies or Role; keep them per function".into());
    }
    // Policies attached to the generated role from outside the function.
    let role = format!("{FUNCTION}Role");
    for kind in [
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
    ] {
        for (id, resource) in resources_of_type(template, kind) {
            let roles = &resource["Properties"];
            let mentions = items(&roles["Roles"])
                .into_iter()
                .chain(items(&roles["RoleName"]))
                .any(|r| ref_target(r).as_deref() == Some(role.as_str()) || text(r) == Some(&role));
            if mentions {
                problems.push(format!("{id} ({kind}) attaches a policy to {role}"));
            }
        }
    }

    for policy in items(&properties["Policies"]) {
        let inline = policy.as_mapping().filter(|m| {
            m.keys()
                .all(|k| matches!(k.as_str(), Some("Statement" | "Version")))
        });
        let Some(inline) = inline else {
            problems.push(format!(
                "{FUNCTION} policy {policy:?} is not an inline statement list (a SAM policy \
                 template or a managed policy); its grants cannot be checked here"
            ));
            continue;
        };
        let statements = inline.get("Statement").map(items).unwrap_or_default();
        for statement in statements {
            check_statement(statement, &mut problems);
        }
    }
    problems
}

fn check_statement(statement: &Value, problems: &mut Vec<String>) {
    let sid = statement["Sid"].as_str().unwrap_or("(no Sid)").to_owned();
    match statement["Effect"].as_str() {
        Some("Deny") => return,
        Some("Allow") => {}
        other => {
            problems.push(format!(
                "statement {sid}: Effect {other:?} is neither Allow nor Deny"
            ));
            return;
        }
    }
    if !statement["NotAction"].is_null() || !statement["NotResource"].is_null() {
        problems.push(format!(
            "statement {sid}: NotAction / NotResource in an Allow grants more than it names"
        ));
        return;
    }
    let mut actions = Vec::new();
    for action in items(&statement["Action"]) {
        match text(action) {
            Some(action) => actions.push(action.to_owned()),
            None => {
                problems.push(format!(
                    "statement {sid}: Action {action:?} is not a literal"
                ));
                return;
            }
        }
    }
    if !actions.iter().any(|a| may_grant_dynamodb(a)) {
        return;
    }
    if !items(&statement["Resource"])
        .into_iter()
        .any(may_be_the_config_table)
    {
        return;
    }
    // This statement reaches the config table.
    for action in &actions {
        if !KEYED_READS.iter().any(|k| k.eq_ignore_ascii_case(action)) {
            problems.push(format!(
                "statement {sid}: action {action} on the config table is not one of {KEYED_READS:?}"
            ));
        }
    }
    let condition = &statement["Condition"];
    let patterns = &condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
    let patterns: Vec<&str> = items(patterns).into_iter().filter_map(text).collect();
    if patterns.is_empty() {
        problems.push(format!(
            "statement {sid}: reaches the config table without a ForAllValues:StringLike \
             condition on dynamodb:LeadingKeys"
        ));
        return;
    }
    for pattern in &patterns {
        if matches_some_string_starting_with(pattern, FORBIDDEN_PREFIX) {
            problems.push(format!(
                "statement {sid}: leading-key pattern {pattern:?} matches {FORBIDDEN_PREFIX}… keys"
            ));
        }
    }
    for key in NEEDED_KEYS {
        if !patterns.iter().any(|p| string_like(p, key)) {
            problems.push(format!(
                "statement {sid}: the webhook can no longer read {key} (patterns {patterns:?})"
            ));
        }
    }
}

fn statements_mut(template: &mut Value) -> &mut Vec<Value> {
    template["Resources"][FUNCTION]["Properties"]["Policies"][0]["Statement"]
        .as_sequence_mut()
        .expect("the webhook's first policy is an inline statement list")
}

fn read_statement_mut(template: &mut Value) -> &mut Mapping {
    statements_mut(template)
        .iter_mut()
        .find(|s| s["Sid"].as_str() == Some("ReadTenantsAndWebhookSecrets"))
        .and_then(Value::as_mapping_mut)
        .expect("statement ReadTenantsAndWebhookSecrets")
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("test YAML")
}

#[test]
fn string_like_follows_iam() {
    assert!(string_like("TENANT#*", "TENANT#acme"));
    assert!(string_like("TENANT#*", "TENANT#"));
    assert!(string_like("TENANTS", "TENANTS"));
    assert!(!string_like("TENANT#*", "TENANTS"));
    assert!(!string_like("TENANTS", "TENANTS2"));
    assert!(string_like("T?NANTS", "TENANTS"));
    assert!(string_like("*", ""));
    assert!(string_like("a*b*c", "axxbyyc"));
    assert!(!string_like("a*b*c", "axxbyy"));
}

#[test]
fn prefix_reachability_is_exact() {
    assert!(!matches_some_string_starting_with("TENANT#*", "SECRETS#"));
    assert!(!matches_some_string_starting_with("TENANTS", "SECRETS#"));
    assert!(matches_some_string_starting_with("*", "SECRETS#"));
    assert!(matches_some_string_starting_with("S*", "SECRETS#"));
    assert!(matches_some_string_starting_with("?ECRETS#x", "SECRETS#"));
    assert!(!matches_some_string_starting_with("SECRETS", "SECRETS#"));
    assert!(matches_some_string_starting_with("*#acme", "SECRETS#"));
    assert!(may_grant_dynamodb("*"));
    assert!(may_grant_dynamodb("DynamoDB:GetItem"));
    assert!(may_grant_dynamodb("dynamo*"));
    assert!(!may_grant_dynamodb("sqs:SendMessage"));
}

#[test]
fn the_webhook_reads_only_tenant_partitions_of_the_config_table() {
    let problems = config_table_access_problems(&raw_template());
    assert!(
        problems.is_empty(),
        "the webhook's role may reach Sinch API credentials:\n  {}",
        problems.join("\n  ")
    );
    // And it does reach the table (a vacuous pass would prove nothing).
    let template = raw_template();
    let statements = &template["Resources"][FUNCTION]["Properties"]["Policies"][0]["Statement"];
    assert!(
        items(statements)
            .into_iter()
            .any(|s| s["Effect"].as_str() == Some("Allow")
                && items(&s["Resource"])
                    .into_iter()
                    .any(|r| getatt_target(r) == Some((TABLE.to_owned(), "Arn".to_owned())))),
        "the webhook must be granted reads of {TABLE}"
    );
}

#[test]
fn the_webhook_is_denied_sinch_credentials_whatever_else_it_is_granted() {
    let template = raw_template();
    let statements = &template["Resources"][FUNCTION]["Properties"]["Policies"][0]["Statement"];
    let deny = items(statements)
        .into_iter()
        .find(|s| s["Effect"].as_str() == Some("Deny"))
        .expect("a Deny statement on the config table");
    assert!(
        items(&deny["Action"])
            .into_iter()
            .any(|a| a.as_str() == Some("dynamodb:*"))
    );
    assert!(
        items(&deny["Resource"])
            .into_iter()
            .any(|r| getatt_target(r) == Some((TABLE.to_owned(), "Arn".to_owned())))
    );
    let patterns = &deny["Condition"]["ForAnyValue:StringLike"]["dynamodb:LeadingKeys"];
    assert!(
        items(patterns)
            .into_iter()
            .filter_map(text)
            .any(|p| string_like(p, "SECRETS#acme")),
        "the Deny must cover SECRETS#… partitions: {patterns:?}"
    );
}

/// Each way of opening the secrets is caught, so the pass above means something.
#[test]
fn the_check_fails_on_templates_that_leak_credentials() {
    type Breakage = fn(&mut Value);
    let breakages: [(&str, Breakage); 9] = [
        ("no condition", |t| {
            read_statement_mut(t).remove("Condition");
        }),
        ("Scan, which names no partition", |t| {
            read_statement_mut(t)
                .get_mut("Action")
                .and_then(Value::as_sequence_mut)
                .expect("Action list")
                .push("dynamodb:Scan".into());
        }),
        ("a pattern matching everything", |t| {
            read_statement_mut(t).insert(
                "Condition".into(),
                yaml("{'ForAllValues:StringLike': {'dynamodb:LeadingKeys': ['TENANT#*', 'TENANTS', '*']}}"),
            );
        }),
        ("a pattern matching SECRETS#", |t| {
            read_statement_mut(t).insert(
                "Condition".into(),
                yaml("{'ForAllValues:StringLike': {'dynamodb:LeadingKeys': ['TENANT#*', 'TENANTS', 'S*']}}"),
            );
        }),
        (
            "ForAnyValue, which a BatchGetItem mixing keys passes",
            |t| {
                read_statement_mut(t).insert(
                "Condition".into(),
                yaml("{'ForAnyValue:StringLike': {'dynamodb:LeadingKeys': ['TENANT#*', 'TENANTS']}}"),
            );
            },
        ),
        ("a second, unconditional grant on every table", |t| {
            statements_mut(t).push(yaml(
                "{Sid: Extra, Effect: Allow, Action: 'dynamodb:GetItem', Resource: '*'}",
            ));
        }),
        ("a SAM policy template on the table", |t| {
            t["Resources"][FUNCTION]["Properties"]["Policies"]
                .as_sequence_mut()
                .expect("Policies list")
                .push(yaml("{DynamoDBReadPolicy: {TableName: !Ref ConfigTable}}"));
        }),
        ("a managed policy", |t| {
            t["Resources"][FUNCTION]["Properties"]["Policies"]
                .as_sequence_mut()
                .expect("Policies list")
                .push("AmazonDynamoDBReadOnlyAccess".into());
        }),
        ("a policy attached to the role from outside", |t| {
            t["Resources"]
                .as_mapping_mut()
                .expect("Resources")
                .insert(
                    "ExtraPolicy".into(),
                    yaml(
                        "{Type: AWS::IAM::Policy, Properties: {PolicyName: x, Roles: [!Ref WebhookFunctionRole], \
                         PolicyDocument: {Statement: [{Effect: Allow, Action: 'dynamodb:*', Resource: '*'}]}}}",
                    ),
                );
        }),
    ];
    for (what, breakage) in breakages {
        let mut template = raw_template();
        breakage(&mut template);
        assert!(
            !config_table_access_problems(&template).is_empty(),
            "the check passed a template with {what}"
        );
    }
}
