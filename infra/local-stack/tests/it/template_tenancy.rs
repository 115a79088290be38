//! Tenant isolation and least privilege as template.yaml grants them, read from the raw YAML
//! (cfn-lint sees nothing inside a function's `Policies`, and moto enforces no IAM):
//!
//! - a contact center can write attachments only under `outbound/{its tenant}/` (its principal
//!   tag), and the check fails on copies of the template that would let it write elsewhere;
//! - no Allow statement grants `sqs:SendMessage` or `s3:PutObject` on `*`;
//! - the HTTP API's access log has no path (a media link's token is in it);
//! - uploads that bypass the stack's KMS key are refused; public attachments carry nosniff and a
//!   sandboxing CSP;
//! - every grant of every role is a row of docs/security.md's role table, and every row is a
//!   grant (the table is the template's, kept true here).

use serde_yaml::Value;

use crate::common::{getatt_target, raw_template, ref_target, resources_of_type};

/// Where docs/security.md keeps the role table.
const SECURITY_DOC: &str = "docs/security.md";
/// The principal tag that names a contact center's tenant.
const TENANT_TAG: &str = "${!aws:PrincipalTag/SwitchboardTenant}";

fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(list) => list.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

/// A statement, or the statement inside `!If [condition, statement, !Ref AWS::NoValue]` with its
/// condition's name.
fn unconditional(value: &Value) -> (Option<String>, Option<&Value>) {
    match tagged(value, "If") {
        Some(Value::Sequence(parts)) if parts.len() == 3 => {
            let condition = parts[0].as_str().map(str::to_owned);
            let statement = [&parts[1], &parts[2]]
                .into_iter()
                .find(|p| p.get("Effect").is_some());
            (condition, statement)
        }
        _ => (None, Some(value)),
    }
}

/// The resources a statement's `Resource` can stand for, as short texts: `X` for `!GetAtt X.Arn`,
/// `!Ref X` or `${X.Arn}`, `{tenant tag}` for the principal tag, a parameter's name for a list
/// parameter; both branches of an `!If`.
fn resource_texts(value: &Value) -> Vec<String> {
    if let Some((target, _)) = getatt_target(value) {
        return vec![target];
    }
    if let Some(target) = ref_target(value) {
        return vec![target];
    }
    if let Some(sub) = tagged(value, "Sub") {
        let mut text = sub
            .as_str()
            .unwrap_or_default()
            .replace(TENANT_TAG, "{tenant tag}");
        while let Some(start) = text.find("${") {
            let Some(end) = text[start..].find('}') else {
                break;
            };
            let inner = text[start + 2..start + end].to_owned();
            let short = inner.strip_suffix(".Arn").unwrap_or(&inner).to_owned();
            text.replace_range(start..start + end + 1, &short);
        }
        return vec![text];
    }
    if let Some(Value::Sequence(parts)) = tagged(value, "If") {
        return parts.iter().skip(1).flat_map(resource_texts).collect();
    }
    if let Some(Value::Sequence(parts)) = tagged(value, "Split") {
        return parts.iter().skip(1).flat_map(resource_texts).collect();
    }
    if let Some(Value::Sequence(parts)) = tagged(value, "Join") {
        return parts.iter().skip(1).flat_map(resource_texts).collect();
    }
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Sequence(list) => list.iter().flat_map(resource_texts).collect(),
        other => vec![format!("{other:?}")],
    }
}

/// One statement of a role, in the role table's terms.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    role: String,
    sid: String,
    effect: String,
    actions: String,
    resources: String,
}

fn grant(role: &str, statement: &Value, condition: Option<&str>) -> Grant {
    let mut resources: Vec<String> = items(&statement["Resource"])
        .into_iter()
        .flat_map(resource_texts)
        .collect();
    let mut seen = Vec::new();
    resources.retain(|r| {
        let new = !seen.contains(r);
        seen.push(r.clone());
        new
    });
    let mut actions: Vec<String> = items(&statement["Action"])
        .into_iter()
        .map(|a| a.as_str().unwrap_or_default().to_owned())
        .collect();
    actions.sort();
    let role = match condition {
        Some(condition) => format!("{role} (if {condition})"),
        None => role.to_owned(),
    };
    Grant {
        role,
        sid: statement["Sid"].as_str().unwrap_or_default().to_owned(),
        effect: statement["Effect"].as_str().unwrap_or_default().to_owned(),
        actions: actions.join(", "),
        resources: resources.join(", "),
    }
}

/// Every statement of every role: each function's `Policies`, each managed policy, and the
/// bucket policy (as "MediaBucketPolicy").
fn grants(template: &Value) -> Vec<(Grant, Value)> {
    let mut all = Vec::new();
    let mut add = |role: &str, statements: &Value| {
        for value in items(statements) {
            let (condition, statement) = unconditional(value);
            if let Some(statement) = statement {
                all.push((
                    grant(role, statement, condition.as_deref()),
                    statement.clone(),
                ));
            }
        }
    };
    for (id, function) in resources_of_type(template, "AWS::Serverless::Function") {
        for policy in items(&function["Properties"]["Policies"]) {
            add(&id, &policy["Statement"]);
        }
    }
    for kind in ["AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy"] {
        for (id, policy) in resources_of_type(template, kind) {
            add(&id, &policy["Properties"]["PolicyDocument"]["Statement"]);
        }
    }
    all
}

fn allows(statement: &Value, action: &str) -> bool {
    let service = action.split(':').next().unwrap_or_default();
    statement["Effect"] == "Allow"
        && items(&statement["Action"]).iter().any(|a| {
            let a = a.as_str().unwrap_or_default();
            a == action || a == "*" || a == format!("{service}:*")
        })
}

/// Statements that allow `sqs:SendMessage` or `s3:PutObject` on `*`.
fn star_grants(template: &Value) -> Vec<Grant> {
    grants(template)
        .into_iter()
        .filter(|(grant, statement)| {
            (allows(statement, "sqs:SendMessage") || allows(statement, "s3:PutObject"))
                && grant.resources.split(", ").any(|r| r == "*")
        })
        .map(|(grant, _)| grant)
        .collect()
}

/// Whether the contact center's policy lets a principal tagged `tenant` (or untagged) put
/// `key` into the media bucket. Conditions other than the tag's presence are taken as met, so
/// the answer errs towards "yes".
fn contact_center_may_put(template: &Value, tenant: Option<&str>, key: &str) -> bool {
    let statements =
        &template["Resources"]["ContactCenterPolicy"]["Properties"]["PolicyDocument"]["Statement"];
    items(statements).into_iter().any(|value| {
        let (_, Some(statement)) = unconditional(value) else {
            return false;
        };
        if !allows(statement, "s3:PutObject") {
            return false;
        }
        let needs_tag = statement["Condition"]["Null"]["aws:PrincipalTag/SwitchboardTenant"]
            .as_str()
            == Some("false");
        if needs_tag && tenant.is_none() {
            return false;
        }
        items(&statement["Resource"])
            .into_iter()
            .flat_map(resource_texts)
            .any(|pattern| {
                if pattern.contains("{tenant tag}") && tenant.is_none() {
                    // IAM: a policy variable with no value matches nothing.
                    return false;
                }
                let pattern = pattern.replace("{tenant tag}", tenant.unwrap_or_default());
                let Some(rest) = pattern.strip_prefix("MediaBucket/") else {
                    return pattern == "*";
                };
                wildcard_match(rest, key)
            })
    })
}

/// IAM's resource matching: `*` any run of characters, `?` one.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let mut matches = vec![vec![false; t.len() + 1]; p.len() + 1];
    matches[0][0] = true;
    for i in 1..=p.len() {
        matches[i][0] = matches[i - 1][0] && p[i - 1] == '*';
        for j in 1..=t.len() {
            matches[i][j] = match p[i - 1] {
                '*' => matches[i - 1][j] || matches[i][j - 1],
                '?' => matches[i - 1][j - 1],
                c => matches[i - 1][j - 1] && c == t[j - 1],
            };
        }
    }
    matches[p.len()][t.len()]
}

/// Whether the contact-center policy keeps every tenant to its own prefix.
fn contact_centers_are_confined(template: &Value) -> bool {
    let own = contact_center_may_put(
        template,
        Some("acme"),
        "outbound/acme/2026-12-07/ab12/f.pdf",
    );
    let other = contact_center_may_put(
        template,
        Some("acme"),
        "outbound/globex/2026-12-07/ab12/f.pdf",
    );
    let inbound = contact_center_may_put(template, Some("acme"), "inbound/acme/2026-12-07/e/f.jpg");
    let untagged = contact_center_may_put(template, None, "outbound/acme/2026-12-07/ab12/f.pdf");
    own && !other && !inbound && !untagged
}

#[test]
fn a_contact_center_writes_only_under_its_own_tenants_prefix() {
    let template = raw_template();
    assert!(contact_center_may_put(
        &template,
        Some("acme"),
        "outbound/acme/2026-12-07/ab12/f.pdf"
    ));
    assert!(!contact_center_may_put(
        &template,
        Some("acme"),
        "outbound/globex/2026-12-07/ab12/f.pdf"
    ));
    assert!(!contact_center_may_put(
        &template,
        Some("acme"),
        "outbound/acme-other/x"
    ));
    assert!(!contact_center_may_put(
        &template,
        Some("acme"),
        "quarantine/acme/x"
    ));
    assert!(!contact_center_may_put(
        &template,
        None,
        "outbound/acme/2026-12-07/ab12/f.pdf"
    ));
    assert!(contact_centers_are_confined(&template));
}

fn contact_center_statement<'a>(template: &'a mut Value, sid: &str) -> &'a mut Value {
    template["Resources"]["ContactCenterPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence_mut()
        .expect("statements")
        .iter_mut()
        .find(|s| s["Sid"].as_str() == Some(sid))
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

#[test]
fn the_confinement_check_fails_on_templates_that_let_a_contact_center_write_elsewhere() {
    let sid = "PutAgentAttachmentsOfItsTenant";
    let every_tenant: Value = serde_yaml::from_str("!Sub '${MediaBucket.Arn}/outbound/*'").unwrap();
    let whole_bucket: Value = serde_yaml::from_str("!Sub '${MediaBucket.Arn}/*'").unwrap();
    let star: Value = serde_yaml::from_str("'*'").unwrap();
    for resource in [every_tenant, whole_bucket, star] {
        let mut template = raw_template();
        contact_center_statement(&mut template, sid)["Resource"] = resource.clone();
        assert!(
            !contact_centers_are_confined(&template),
            "{resource:?} would let acme write globex's attachments"
        );
    }
    // A second statement granting the old prefix, beside the confined one.
    let mut template = raw_template();
    let mut loose = contact_center_statement(&mut template, sid).clone();
    loose["Sid"] = "Loose".into();
    loose["Resource"] = serde_yaml::from_str("!Sub '${MediaBucket.Arn}/outbound/*'").unwrap();
    template["Resources"]["ContactCenterPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence_mut()
        .unwrap()
        .push(loose);
    assert!(!contact_centers_are_confined(&template));
}

#[test]
fn no_statement_allows_send_message_or_put_object_on_star() {
    let template = raw_template();
    assert_eq!(star_grants(&template), Vec::<Grant>::new());
    // The check sees the grant this replaced.
    let mut loose = raw_template();
    let statements = loose["Resources"]["MediaFunction"]["Properties"]["Policies"][0]["Statement"]
        .as_sequence_mut()
        .expect("the media function's statements");
    let forward = statements
        .iter_mut()
        .find(|s| s["Sid"] == "ForwardEvents")
        .expect("ForwardEvents");
    forward["Resource"] = "*".into();
    assert_eq!(star_grants(&loose).len(), 1);
}

#[test]
fn the_functions_send_only_to_the_stacks_events_queue_and_the_tenants_own() {
    let template = raw_template();
    for (function, sid) in [
        ("MediaFunction", "ForwardEvents"),
        ("OutboundFunction", "EmitSendResults"),
    ] {
        let (grant, _) = grants(&template)
            .into_iter()
            .find(|(g, s)| g.role == function && s["Sid"] == sid)
            .unwrap_or_else(|| panic!("{function} {sid}"));
        assert_eq!(grant.actions, "sqs:SendMessage");
        assert_eq!(
            grant.resources, "EventsQueue, TenantEventQueueArns",
            "{function}"
        );
    }
    let parameter = &template["Parameters"]["TenantEventQueueArns"];
    assert_eq!(parameter["Type"], "CommaDelimitedList");
    assert_eq!(parameter["Default"], "");
}

#[test]
fn the_access_log_records_no_path() {
    let template = raw_template();
    let format = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
        .as_str()
        .expect("an access log format");
    let fields: serde_json::Value =
        serde_json::from_str(format).expect("the access log format is one JSON object");
    let values: Vec<&str> = fields
        .as_object()
        .expect("an object")
        .values()
        .filter_map(|v| v.as_str())
        .collect();
    for leak in ["$context.path", "$context.resourcePath", "$request.path"] {
        assert!(
            !values.iter().any(|v| v.contains(leak)),
            "{leak} in {format}"
        );
    }
    assert!(
        values.contains(&"$context.routeKey"),
        "the route, without its values"
    );
}

fn bucket_statement<'a>(template: &'a Value, sid: &str) -> &'a Value {
    items(&template["Resources"]["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"])
        .into_iter()
        .find(|s| s["Sid"].as_str() == Some(sid))
        .unwrap_or_else(|| panic!("no bucket statement {sid}"))
}

#[test]
fn uploads_that_bypass_the_stacks_key_are_refused_by_the_bucket_policy() {
    let template = raw_template();
    let other_key = bucket_statement(&template, "DenyUploadsWithAnotherKey");
    assert_eq!(other_key["Effect"], "Deny");
    assert_eq!(other_key["Principal"], "*");
    assert_eq!(other_key["Action"], "s3:PutObject");
    assert_eq!(
        getatt_target(
            &other_key["Condition"]["StringNotEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"]
        ),
        Some(("DataKey".into(), "Arn".into()))
    );
    assert_eq!(
        other_key["Condition"]["Null"]["s3:x-amz-server-side-encryption-aws-kms-key-id"], "false",
        "only when a key is named (the bucket's default needs no header)"
    );
    let no_key = bucket_statement(&template, "DenyUploadsWithoutTheStackKey");
    assert_eq!(no_key["Effect"], "Deny");
    let kinds: Vec<&str> =
        items(&no_key["Condition"]["StringEquals"]["s3:x-amz-server-side-encryption"])
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
    assert_eq!(kinds, ["AES256", "aws:kms", "aws:kms:dsse"]);
    assert_eq!(
        no_key["Condition"]["Null"]["s3:x-amz-server-side-encryption-aws-kms-key-id"],
        "true"
    );
    // The bucket's default is the stack's key.
    let encryption = &template["Resources"]["MediaBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        [0]["ServerSideEncryptionByDefault"];
    assert_eq!(encryption["SSEAlgorithm"], "aws:kms");
    assert_eq!(
        getatt_target(&encryption["KMSMasterKeyID"]),
        Some(("DataKey".into(), "Arn".into()))
    );
}

#[test]
fn public_attachments_carry_nosniff_and_a_sandboxing_csp() {
    let template = raw_template();
    let policy = &template["Resources"]["PublicMediaResponseHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
        ["SecurityHeadersConfig"];
    assert_eq!(policy["ContentTypeOptions"]["Override"], true);
    let csp = policy["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        .as_str()
        .expect("a CSP");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );
    assert_eq!(policy["ContentSecurityPolicy"]["Override"], true);
    let behaviors = &template["Resources"]["PublicMediaDistribution"]["Properties"]["DistributionConfig"]
        ["CacheBehaviors"];
    let outbound = items(behaviors)
        .into_iter()
        .find(|b| b["PathPattern"] == "outbound/*")
        .expect("the outbound/* behaviour");
    assert_eq!(
        ref_target(&outbound["ResponseHeadersPolicyId"]).as_deref(),
        Some("PublicMediaResponseHeaders")
    );
}

#[test]
fn the_inbound_stage_is_capped_and_keyed_and_uses_the_key_only_through_its_services() {
    let template = raw_template();
    let media = &template["Resources"]["MediaFunction"]["Properties"];
    assert_eq!(
        ref_target(&media["ReservedConcurrentExecutions"]).as_deref(),
        Some("MediaReservedConcurrency")
    );
    for (grant, statement) in grants(&template) {
        if grant.role != "MediaFunction" {
            continue;
        }
        if grant.resources == "StateTable" {
            assert!(
                !statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                    .is_null(),
                "{grant:?} names its keys"
            );
        }
        if grant.actions.contains("kms:") {
            assert!(
                !statement["Condition"]["StringEquals"]["kms:ViaService"].is_null(),
                "{grant:?} only through S3 and DynamoDB"
            );
        }
    }
    let window = &template["Parameters"]["SignatureWindowSeconds"];
    assert_eq!(window["MaxValue"].as_u64(), Some(900));
}

/// The rows of docs/security.md's role table:
/// `| role | statement | effect | actions | resources | why |`.
fn documented_grants() -> Vec<Grant> {
    let path = switchboard_testkit::repo_root().join(SECURITY_DOC);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table = text
        .split("<!-- role table -->")
        .nth(1)
        .unwrap_or_else(|| panic!("{SECURITY_DOC} has no <!-- role table --> marker"));
    table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|line| {
            let cells: Vec<String> = line
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect();
            assert!(cells.len() >= 5, "a role table row has 6 cells: {line}");
            Grant {
                role: cells[0].clone(),
                sid: cells[1].clone(),
                effect: cells[2].clone(),
                actions: cells[3].clone(),
                resources: cells[4].clone(),
            }
        })
        .collect()
}

#[test]
fn every_grant_of_the_template_is_a_row_of_the_security_docs_role_table_and_back() {
    let template = raw_template();
    let mut granted: Vec<Grant> = grants(&template).into_iter().map(|(g, _)| g).collect();
    granted.sort();
    if std::env::var_os("SWITCHBOARD_PRINT_ROLE_TABLE").is_some() {
        for g in &granted {
            println!(
                "| {} | {} | {} | `{}` | `{}` | |",
                g.role, g.sid, g.effect, g.actions, g.resources
            );
        }
    }
    let mut documented = documented_grants();
    documented.sort();
    let missing: Vec<&Grant> = granted.iter().filter(|g| !documented.contains(g)).collect();
    let stale: Vec<&Grant> = documented.iter().filter(|g| !granted.contains(g)).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "{SECURITY_DOC}'s role table and template.yaml disagree.\nin the template, not the table: {missing:#?}\nin the table, not the template: {stale:#?}"
    );
}

#[test]
fn wildcards_match_as_iam_matches() {
    assert!(wildcard_match("outbound/acme/*", "outbound/acme/x/y"));
    assert!(!wildcard_match("outbound/acme/*", "outbound/acmex/y"));
    assert!(wildcard_match("*", ""));
    assert!(wildcard_match("a?c", "abc"));
    assert!(!wildcard_match("a?c", "ac"));
}
