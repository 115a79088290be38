//! What template.yaml grants the outbound function and the contact center, read from the
//! template (cfn-lint sees nothing inside a function's `Policies`, and moto enforces no IAM):
//! the outbound function is the only one that may read Sinch API credentials (`SECRETS#`), and
//! only by key; it writes only its own state records and reads and writes only `outbound/`
//! objects (writes: copies of media URLs for tenants that ask for them); the
//! contact center's managed policy grants exactly PutObject under `outbound/{its tenant tag}/`,
//! the bucket key through S3, SendMessage on the replies queue and, in a stack for one contact
//! center, Receive/DeleteMessage on the events queue (template_tenancy.rs checks the rest).

use crate::common;

use common::{getatt_target, raw_template, ref_target, resources_of_type};
use serde_yaml::Value;

fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(list) => list.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn strings(value: &Value) -> Vec<String> {
    items(value)
        .into_iter()
        .map(|v| v.as_str().expect("a literal").to_owned())
        .collect()
}

fn statements(function: &Value) -> Vec<&Value> {
    items(&function["Properties"]["Policies"])
        .into_iter()
        .flat_map(|policy| items(&policy["Statement"]))
        .collect()
}

fn statement<'a>(statements: &[&'a Value], sid: &str) -> &'a Value {
    statements
        .iter()
        .find(|s| s["Sid"].as_str() == Some(sid))
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

fn sub_text(value: &Value) -> String {
    match value {
        Value::Tagged(t) if t.tag == "Sub" => t.value.as_str().unwrap_or_default().to_owned(),
        other => format!("{other:?}"),
    }
}

#[test]
fn the_outbound_function_is_built_and_triggered_like_the_others() {
    let template = raw_template();
    let function = &template["Resources"]["OutboundFunction"];
    assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"],
        "outbound"
    );
    let properties = &function["Properties"];
    assert_eq!(properties["Runtime"], "provided.al2023");
    assert_eq!(strings(&properties["Architectures"]), ["arm64"]);
    let event = &properties["Events"]["Replies"];
    assert_eq!(event["Type"], "SQS");
    let queue = getatt_target(&event["Properties"]["Queue"]);
    assert_eq!(queue, Some(("RepliesQueue".into(), "Arn".into())));
    assert_eq!(
        strings(&event["Properties"]["FunctionResponseTypes"]),
        ["ReportBatchItemFailures"]
    );
    assert!(
        !event["Properties"]["ScalingConfig"]["MaximumConcurrency"].is_null(),
        "bounded concurrency"
    );
}

#[test]
fn only_the_sending_functions_read_sinch_credentials_and_only_by_key() {
    let template = raw_template();
    for (id, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        for statement in statements(function) {
            if statement["Effect"] != "Allow" {
                continue;
            }
            let keys = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            let reads_secrets = items(keys)
                .into_iter()
                .filter_map(Value::as_str)
                .any(|k| k.starts_with("SECRETS") || k.starts_with('*'));
            if reads_secrets {
                // The outbound function sends as a service; the inbound stage looks display
                // names up as one. Nothing else, and the stage reads one item at a time.
                let actions = strings(&statement["Action"]);
                match id.as_str() {
                    "OutboundFunction" => {
                        assert_eq!(actions, ["dynamodb:GetItem", "dynamodb:Query"])
                    }
                    "MediaFunction" => assert_eq!(actions, ["dynamodb:GetItem"]),
                    other => panic!("{other} may read SECRETS#"),
                }
                assert_eq!(
                    getatt_target(&statement["Resource"]),
                    Some(("ConfigTable".into(), "Arn".into()))
                );
            }
        }
    }
    let outbound = &template["Resources"]["OutboundFunction"];
    let statements = statements(outbound);
    let read = statement(&statements, "ReadTenantsAndSinchCredentials");
    assert_eq!(
        strings(&read["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]),
        ["TENANT#*", "TENANTS", "SECRETS#*"]
    );
}

#[test]
fn the_outbound_function_writes_only_its_own_state_and_touches_only_outbound_objects() {
    let template = raw_template();
    let statements = statements(&template["Resources"]["OutboundFunction"]);
    let state = statement(&statements, "ReplyClaimsAndMessageMap");
    assert_eq!(
        getatt_target(&state["Resource"]),
        Some(("StateTable".into(), "Arn".into()))
    );
    assert_eq!(
        strings(&state["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]),
        ["IDEM#reply#*", "MSG#*"],
        "the scope and key prefixes of shared/src/state (IDEMPOTENCY_SCOPE = reply)"
    );
    let s3: Vec<&&Value> = statements
        .iter()
        .filter(|s| strings(&s["Action"]).iter().any(|a| a.starts_with("s3:")))
        .collect();
    assert_eq!(s3.len(), 2);
    let read = statement(&statements, "CheckAgentAttachments");
    assert_eq!(strings(&read["Action"]), ["s3:GetObject"]);
    // Copies of media URLs (tenants with outbound.fetch_media_urls): written, multipart
    // included, under outbound/ only; never deleted, listed or read elsewhere.
    let write = statement(&statements, "StoreFetchedMediaUrls");
    assert_eq!(
        strings(&write["Action"]),
        ["s3:PutObject", "s3:AbortMultipartUpload"]
    );
    for s3 in [read, write] {
        assert_eq!(s3["Effect"], "Allow");
        assert_eq!(sub_text(&s3["Resource"]), "${MediaBucket.Arn}/outbound/*");
    }
    // The bucket key, through S3 only: GenerateDataKey to write, Decrypt for the multipart parts.
    let key = statement(&statements, "UseDataKeyThroughDynamoDbAndS3");
    assert_eq!(
        strings(&key["Action"]),
        ["kms:Decrypt", "kms:GenerateDataKey"]
    );
    assert_eq!(
        getatt_target(&key["Resource"]),
        Some(("DataKey".into(), "Arn".into()))
    );
    let via: Vec<String> = items(&key["Condition"]["StringEquals"]["kms:ViaService"])
        .into_iter()
        .map(sub_text)
        .collect();
    assert!(
        via.contains(&"s3.${AWS::Region}.${AWS::URLSuffix}".to_owned()),
        "{via:?}"
    );
}

#[test]
fn the_contact_center_policy_grants_exactly_what_it_needs_and_is_an_output() {
    let template = raw_template();
    let policy = &template["Resources"]["ContactCenterPolicy"];
    assert_eq!(policy["Type"], "AWS::IAM::ManagedPolicy");
    assert!(
        policy["Properties"]["Roles"].is_null(),
        "attached by the contact center, not here"
    );
    // `!If [OneContactCenter, statement, !Ref AWS::NoValue]` stands for its statement.
    let statements: Vec<&Value> = items(&policy["Properties"]["PolicyDocument"]["Statement"])
        .into_iter()
        .map(|s| match s {
            Value::Tagged(t) if t.tag == "If" => {
                assert_eq!(t.value[0], "OneContactCenter", "{s:?}");
                &t.value[1]
            }
            other => other,
        })
        .collect();
    let mut grants: Vec<(Vec<String>, String)> = statements
        .iter()
        .map(|s| {
            assert_eq!(s["Effect"], "Allow");
            let resource = match getatt_target(&s["Resource"]) {
                Some((target, attribute)) => format!("{target}.{attribute}"),
                None => sub_text(&s["Resource"]),
            };
            (strings(&s["Action"]), resource)
        })
        .collect();
    grants.sort();
    let expected: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "kms:GenerateDataKey".into(),
                "kms:Encrypt".into(),
                "kms:Decrypt".into(),
            ],
            "DataKey.Arn".into(),
        ),
        (
            vec!["s3:PutObject".into()],
            "${MediaBucket.Arn}/outbound/${!aws:PrincipalTag/SwitchboardTenant}/*".into(),
        ),
        (
            vec!["sqs:ReceiveMessage".into(), "sqs:DeleteMessage".into()],
            "EventsQueue.Arn".into(),
        ),
        (vec!["sqs:SendMessage".into()], "RepliesQueue.Arn".into()),
    ];
    assert_eq!(grants, expected);
    // The key only through S3, for the attachments.
    let kms = statements
        .iter()
        .find(|s| strings(&s["Action"]).iter().any(|a| a.starts_with("kms:")))
        .unwrap();
    assert_eq!(
        sub_text(&kms["Condition"]["StringEquals"]["kms:ViaService"]),
        "s3.${AWS::Region}.${AWS::URLSuffix}"
    );
    assert_eq!(
        ref_target(&template["Outputs"]["ContactCenterPolicyArn"]["Value"]).as_deref(),
        Some("ContactCenterPolicy")
    );
}
