//! Proof, read from template.yaml, that the media link function (internet-facing, reached by
//! anyone holding a link) can read customer media and its signing keys and nothing else: no
//! other prefix, no listing, no writing, no other secret; that the inbound stage may read the
//! link secret; and that the secret is generated, never written in the template.
//!
//! cfn-lint sees nothing inside an `AWS::Serverless::Function`'s `Policies` and moto does not
//! enforce IAM, so these tests are the guard. A policy they cannot read (a SAM policy template,
//! a managed policy, a policy attached from outside) is a failure. The checker also runs on
//! broken copies of the template to show it can fail.

use crate::common;

use std::collections::BTreeSet;

use common::{getatt_target, raw_template, ref_target, resources_of_type};
use serde_yaml::Value;

const LINK: &str = "MediaLinkFunction";

/// A Resource (or value) in one comparable word: `Ref:X`, `GetAtt:X.Y`, `Sub:text`, or the literal.
fn canonical(value: &Value) -> String {
    if let Some(target) = ref_target(value) {
        return format!("Ref:{target}");
    }
    if let Some((resource, attribute)) = getatt_target(value) {
        return format!("GetAtt:{resource}.{attribute}");
    }
    match value {
        Value::Tagged(t) if t.tag == "Sub" => format!("Sub:{}", t.value.as_str().unwrap_or("?")),
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Every (effect, action, resource, condition) a function's role gets, or why it cannot be known.
fn grants(template: &Value, function: &str) -> Result<BTreeSet<String>, String> {
    let resource = &template["Resources"][function];
    if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
        return Err(format!("{function} is not an AWS::Serverless::Function"));
    }
    if !resource["Properties"]["Role"].is_null() {
        return Err(format!("{function} uses a role defined elsewhere"));
    }
    let role = format!("{function}Role");
    for (id, policy) in resources_of_type(template, "AWS::IAM::Policy")
        .into_iter()
        .chain(resources_of_type(template, "AWS::IAM::ManagedPolicy"))
    {
        if list(&policy["Properties"]["Roles"])
            .iter()
            .any(|r| ref_target(r).as_deref() == Some(role.as_str()))
        {
            return Err(format!("{id} attaches a policy to {role} from outside"));
        }
    }
    let mut out = BTreeSet::new();
    for policy in list(&resource["Properties"]["Policies"]) {
        let Some(statements) = policy.get("Statement") else {
            return Err(format!(
                "{function} has a policy that is not an inline statement list: {policy:?}"
            ));
        };
        for statement in list(statements) {
            let effect = statement["Effect"].as_str().unwrap_or("?");
            if !statement["NotAction"].is_null() || !statement["NotResource"].is_null() {
                return Err(format!(
                    "{function}: NotAction/NotResource cannot be checked"
                ));
            }
            let condition = if statement["Condition"].is_null() {
                String::new()
            } else {
                format!(
                    " if {}",
                    serde_json::to_string(&yaml_to_json(&statement["Condition"]))
                        .unwrap_or_default()
                )
            };
            for action in list(&statement["Action"]) {
                for target in list(&statement["Resource"]) {
                    out.insert(format!(
                        "{effect} {} on {}{condition}",
                        action.as_str().unwrap_or("?"),
                        canonical(target)
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn yaml_to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Mapping(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| (canonical(k), yaml_to_json(v)))
                .collect(),
        ),
        Value::Sequence(items) => items.iter().map(yaml_to_json).collect(),
        other => serde_json::Value::String(canonical(other)),
    }
}

const KMS_VIA_S3: &str =
    r#" if {"StringEquals":{"kms:ViaService":"Sub:s3.${AWS::Region}.${AWS::URLSuffix}"}}"#;

fn link_role_problems(template: &Value) -> Vec<String> {
    let expected: BTreeSet<String> = [
        "Allow secretsmanager:GetSecretValue on Ref:MediaLinkSecret".to_owned(),
        "Allow s3:GetObject on Sub:${MediaBucket.Arn}/inbound/*".to_owned(),
        format!("Allow kms:Decrypt on GetAtt:DataKey.Arn{KMS_VIA_S3}"),
    ]
    .into();
    match grants(template, LINK) {
        Err(problem) => vec![problem],
        Ok(actual) if actual == expected => Vec::new(),
        Ok(actual) => vec![format!(
            "{LINK} grants {:?} beyond what it needs, and lacks {:?}",
            actual.difference(&expected).collect::<Vec<_>>(),
            expected.difference(&actual).collect::<Vec<_>>()
        )],
    }
}

#[test]
fn the_link_function_reads_inbound_media_and_its_keys_and_nothing_else() {
    assert_eq!(link_role_problems(&raw_template()), Vec::<String>::new());
}

#[test]
fn the_check_fails_on_templates_that_grant_more() {
    type Breakage = fn(&mut Value);
    fn statements(t: &mut Value) -> &mut Vec<Value> {
        t["Resources"][LINK]["Properties"]["Policies"][0]["Statement"]
            .as_sequence_mut()
            .expect("Statement list")
    }
    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).expect("test YAML")
    }
    let breakages: [(&str, Breakage); 6] = [
        ("PutObject", |t| {
            statements(t).push(yaml(
                "{Effect: Allow, Action: [s3:PutObject], Resource: !Sub '${MediaBucket.Arn}/inbound/*'}",
            ))
        }),
        ("every prefix", |t| {
            statements(t)[1]["Resource"] = yaml("!Sub '${MediaBucket.Arn}/*'");
        }),
        ("listing", |t| {
            statements(t).push(yaml(
                "{Effect: Allow, Action: [s3:ListBucket], Resource: !GetAtt MediaBucket.Arn}",
            ))
        }),
        ("every secret", |t| {
            statements(t)[0]["Resource"] = Value::String("*".into());
        }),
        ("a managed policy", |t| {
            t["Resources"][LINK]["Properties"]["Policies"]
                .as_sequence_mut()
                .expect("Policies")
                .push("AmazonS3ReadOnlyAccess".into());
        }),
        ("the key without its condition", |t| {
            statements(t)[2]
                .as_mapping_mut()
                .expect("statement")
                .remove("Condition");
        }),
    ];
    for (what, breakage) in breakages {
        let mut template = raw_template();
        breakage(&mut template);
        assert!(
            !link_role_problems(&template).is_empty(),
            "the check passed a template with {what}"
        );
    }
}

#[test]
fn the_stage_may_read_the_link_secret_and_no_other() {
    let grants = grants(&raw_template(), "MediaFunction").unwrap();
    let secrets: Vec<&String> = grants
        .iter()
        .filter(|g| g.contains("secretsmanager:"))
        .collect();
    assert_eq!(
        secrets,
        ["Allow secretsmanager:GetSecretValue on Ref:MediaLinkSecret"]
    );
}

#[test]
fn the_link_is_a_get_route_on_the_http_api_wired_to_the_secret_and_the_bucket() {
    let template = raw_template();
    let link = &template["Resources"][LINK]["Properties"];
    let event = &link["Events"]["MediaLink"];
    assert_eq!(event["Type"].as_str(), Some("HttpApi"));
    assert_eq!(
        ref_target(&event["Properties"]["ApiId"]).as_deref(),
        Some("HttpApi")
    );
    assert_eq!(event["Properties"]["Method"].as_str(), Some("GET"));
    assert_eq!(
        event["Properties"]["Path"].as_str(),
        Some("/{tenant}/media/{token}")
    );
    let env = &link["Environment"]["Variables"];
    assert_eq!(
        ref_target(&env["SWITCHBOARD_MEDIA_LINK_SECRET_ARN"]).as_deref(),
        Some("MediaLinkSecret")
    );
    assert_eq!(
        ref_target(&env["SWITCHBOARD_MEDIA_BUCKET"]).as_deref(),
        Some("MediaBucket")
    );

    let stage = &template["Resources"]["MediaFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        ref_target(&stage["SWITCHBOARD_MEDIA_LINK_SECRET_ARN"]).as_deref(),
        Some("MediaLinkSecret")
    );
    assert_eq!(
        canonical(&stage["SWITCHBOARD_MEDIA_LINK_BASE_URL"]),
        "Sub:https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
        "the links point at the HTTP API that serves them"
    );
}

#[test]
fn the_link_secret_is_generated_long_and_random() {
    let template = raw_template();
    let secret = &template["Resources"]["MediaLinkSecret"];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    let properties = &secret["Properties"];
    assert!(
        properties["SecretString"].is_null(),
        "never a value in the template"
    );
    let length = properties["GenerateSecretString"]["PasswordLength"]
        .as_u64()
        .expect("a PasswordLength");
    assert!(length >= 32, "at least 32 characters, found {length}");
}

#[test]
fn failed_link_invocations_are_alarmed() {
    let template = raw_template();
    let watched = resources_of_type(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .any(|(_, alarm)| {
            let p = &alarm["Properties"];
            p["Namespace"].as_str() == Some("AWS/Lambda")
                && p["MetricName"].as_str() == Some("Errors")
                && list(&p["Dimensions"]).iter().any(|d| {
                    d["Name"].as_str() == Some("FunctionName")
                        && ref_target(&d["Value"]).as_deref() == Some(LINK)
                })
                && !p["AlarmActions"].is_null()
        });
    assert!(watched, "an alarm on {LINK}'s Errors, with actions");
}
