//! Proof, read from template.yaml, that the public URL of agents' attachments exposes
//! `outbound/` and nothing else: the media bucket stays private (public access blocked, no
//! statement for everyone), CloudFront reaches it through Origin Access Control (SigV4) and may
//! read `outbound/*` only, and only this distribution; every other path is answered 404 at the
//! edge; the answers are HTTPS, uncompressed (Content-Length as stored), cached briefly, with
//! nothing of the request forwarded.
//!
//! Neither cfn-lint nor moto can see any of this (moto has no CloudFront and enforces no
//! policy), so this test is the guard. The checker is also run on broken copies of the template
//! to show that it fails.

use crate::common;

use common::{getatt_target, raw_template, ref_target, resources_of_type};
use serde_yaml::{Mapping, Value};

const BUCKET: &str = "MediaBucket";
const KEY: &str = "DataKey";
const DISTRIBUTION: &str = "PublicMediaDistribution";
const CLOUDFRONT: &str = "cloudfront.amazonaws.com";
/// The longest an object deleted by retention may still be served from the cache.
const MAX_CACHE_SECONDS: u64 = 300;

fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(list) => list.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The text of `!Sub 'text'` (or `{"Fn::Sub": text}`).
fn sub_text(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(t) if t.tag == "Sub" => t.value.as_str(),
        Value::Mapping(m) => m.get("Fn::Sub").and_then(Value::as_str),
        _ => None,
    }
}

fn resource<'a>(template: &'a Value, id: &str) -> &'a Value {
    &template["Resources"][id]
}

fn is_cloudfront(principal: &Value) -> bool {
    items(&principal["Service"])
        .iter()
        .any(|s| s.as_str() == Some(CLOUDFRONT))
}

fn is_everyone(principal: &Value) -> bool {
    principal.as_str() == Some("*")
        || items(&principal["AWS"])
            .iter()
            .any(|p| p.as_str() == Some("*"))
}

fn bucket_policy_statements(template: &Value) -> Vec<&Value> {
    let policies: Vec<_> = resources_of_type(template, "AWS::S3::BucketPolicy")
        .into_iter()
        .filter(|(_, p)| ref_target(&p["Properties"]["Bucket"]).as_deref() == Some(BUCKET))
        .collect();
    policies
        .iter()
        .flat_map(|(_, p)| items(&p["Properties"]["PolicyDocument"]["Statement"]))
        .collect()
}

/// The cache policy a behaviour names, if it is one of the template's.
fn cache_policy<'a>(template: &'a Value, behaviour: &Value) -> Option<&'a Value> {
    let id = ref_target(&behaviour["CachePolicyId"])?;
    let policy = resource(template, &id);
    (policy["Type"].as_str() == Some("AWS::CloudFront::CachePolicy"))
        .then(|| &policy["Properties"]["CachePolicyConfig"])
}

fn check_bucket(template: &Value, problems: &mut Vec<String>) {
    let bucket = &resource(template, BUCKET)["Properties"];
    let block = &bucket["PublicAccessBlockConfiguration"];
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        if block[setting].as_bool() != Some(true) {
            problems.push(format!("the bucket's {setting} is not true"));
        }
    }
    if !bucket["AccessControl"].is_null() || !bucket["WebsiteConfiguration"].is_null() {
        problems.push("the bucket has an ACL or a website configuration".into());
    }

    let allows: Vec<&Value> = bucket_policy_statements(template)
        .into_iter()
        .filter(|s| s["Effect"].as_str() == Some("Allow"))
        .collect();
    for statement in &allows {
        let principal = &statement["Principal"];
        if is_everyone(principal) {
            problems.push(format!(
                "bucket policy {:?} allows everyone",
                statement["Sid"]
            ));
        }
        if !is_cloudfront(principal) {
            problems.push(format!(
                "bucket policy {:?} allows someone other than CloudFront",
                statement["Sid"]
            ));
            continue;
        }
        let actions: Vec<_> = items(&statement["Action"])
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        if actions != ["s3:GetObject"] {
            problems.push(format!(
                "CloudFront may do {actions:?}, not only s3:GetObject"
            ));
        }
        let resources: Vec<_> = items(&statement["Resource"])
            .iter()
            .map(|r| sub_text(r))
            .collect();
        if resources != [Some("${MediaBucket.Arn}/outbound/*")] {
            problems.push(format!(
                "CloudFront may read {resources:?}, not only ${{MediaBucket.Arn}}/outbound/*"
            ));
        }
        let conditions = statement["Condition"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        let source = conditions
            .get("StringEquals")
            .map(|c| &c["AWS:SourceArn"])
            .and_then(sub_text);
        let names_the_distribution = source.is_some_and(|arn| {
            arn.starts_with("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/")
                && arn.ends_with(&format!("/${{{DISTRIBUTION}}}"))
        });
        if !names_the_distribution || conditions.len() != 1 {
            problems.push(format!(
                "CloudFront's read is not limited to {DISTRIBUTION} by StringEquals AWS:SourceArn alone: {conditions:?}"
            ));
        }
    }
    if !allows.iter().any(|s| is_cloudfront(&s["Principal"])) {
        problems.push("no bucket policy statement lets the distribution read outbound/".into());
    }
}

fn check_key(template: &Value, problems: &mut Vec<String>) {
    let statements = items(&resource(template, KEY)["Properties"]["KeyPolicy"]["Statement"]);
    let cloudfront: Vec<_> = statements
        .into_iter()
        .filter(|s| is_cloudfront(&s["Principal"]))
        .collect();
    if cloudfront.is_empty() {
        problems.push("the key policy does not let CloudFront decrypt outbound/ objects".into());
    }
    for statement in cloudfront {
        let actions: Vec<_> = items(&statement["Action"])
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        if statement["Effect"].as_str() == Some("Allow") && actions != ["kms:Decrypt"] {
            problems.push(format!(
                "CloudFront may do {actions:?} with the key, not only kms:Decrypt"
            ));
        }
        let condition = &statement["Condition"];
        let account = ref_target(&condition["StringEquals"]["AWS:SourceAccount"]);
        let source = sub_text(&condition["ArnLike"]["AWS:SourceArn"])
            .or_else(|| sub_text(&condition["StringEquals"]["AWS:SourceArn"]));
        let own_distributions = source.is_some_and(|arn| {
            arn.starts_with("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/")
        });
        if account.as_deref() != Some("AWS::AccountId") || !own_distributions {
            problems.push(format!(
                "CloudFront's use of the key is not limited to this account's distributions: {condition:?}"
            ));
        }
    }
}

fn check_distribution(template: &Value, problems: &mut Vec<String>) {
    let config = &resource(template, DISTRIBUTION)["Properties"]["DistributionConfig"];
    if resource(template, DISTRIBUTION)["Type"].as_str() != Some("AWS::CloudFront::Distribution") {
        problems.push(format!("{DISTRIBUTION} is not a CloudFront distribution"));
        return;
    }
    let origins = items(&config["Origins"]);
    let [origin] = origins.as_slice() else {
        problems.push(format!(
            "the distribution has {} origins, not one",
            origins.len()
        ));
        return;
    };
    if getatt_target(&origin["DomainName"])
        != Some((BUCKET.to_owned(), "RegionalDomainName".to_owned()))
    {
        problems.push("the origin is not the media bucket's regional domain".into());
    }
    if !origin["CustomOriginConfig"].is_null()
        || origin["S3OriginConfig"]["OriginAccessIdentity"].as_str() != Some("")
    {
        problems.push("the origin is not an S3 origin without a legacy access identity".into());
    }
    match getatt_target(&origin["OriginAccessControlId"]) {
        Some((id, attribute)) if attribute == "Id" => {
            let oac = resource(template, &id);
            let oac_config = &oac["Properties"]["OriginAccessControlConfig"];
            if oac["Type"].as_str() != Some("AWS::CloudFront::OriginAccessControl")
                || oac_config["SigningProtocol"].as_str() != Some("sigv4")
                || oac_config["SigningBehavior"].as_str() != Some("always")
                || oac_config["OriginAccessControlOriginType"].as_str() != Some("s3")
            {
                problems.push(format!(
                    "{id} is not an S3 origin access control signing every request with SigV4"
                ));
            }
        }
        _ => problems.push("the origin does not use an origin access control".into()),
    }

    // Every behaviour: HTTPS, GET/HEAD, served as stored, short cache, nothing forwarded.
    let default = &config["DefaultCacheBehavior"];
    let others = items(&config["CacheBehaviors"]);
    for behaviour in others.iter().copied().chain([default]) {
        let name = behaviour["PathPattern"].as_str().unwrap_or("default");
        if !matches!(
            behaviour["ViewerProtocolPolicy"].as_str(),
            Some("https-only" | "redirect-to-https")
        ) {
            problems.push(format!("behaviour {name} serves plain http"));
        }
        let methods: Vec<_> = items(&behaviour["AllowedMethods"])
            .iter()
            .filter_map(|m| m.as_str())
            .collect();
        if methods.iter().any(|m| !matches!(*m, "GET" | "HEAD")) {
            problems.push(format!("behaviour {name} allows {methods:?}"));
        }
        if behaviour["Compress"].as_bool() != Some(false) {
            problems.push(format!(
                "behaviour {name} may compress (no Content-Length as stored)"
            ));
        }
        match cache_policy(template, behaviour) {
            None => problems.push(format!(
                "behaviour {name} has no cache policy of this template"
            )),
            Some(policy) => {
                let max = policy["MaxTTL"].as_u64();
                if max.is_none_or(|max| max > MAX_CACHE_SECONDS) {
                    problems.push(format!("behaviour {name} caches up to {max:?} s"));
                }
                let forwarded = &policy["ParametersInCacheKeyAndForwardedToOrigin"];
                if forwarded["QueryStringsConfig"]["QueryStringBehavior"].as_str() != Some("none")
                    || forwarded["CookiesConfig"]["CookieBehavior"].as_str() != Some("none")
                    || forwarded["HeadersConfig"]["HeaderBehavior"].as_str() != Some("none")
                {
                    problems.push(format!("behaviour {name} forwards part of the request"));
                }
                if forwarded["EnableAcceptEncodingGzip"].as_bool() != Some(false)
                    || forwarded["EnableAcceptEncodingBrotli"].as_bool() != Some(false)
                {
                    problems.push(format!("behaviour {name} caches compressed variants"));
                }
            }
        }
        if !behaviour["OriginRequestPolicyId"].is_null() {
            problems.push(format!(
                "behaviour {name} forwards request parts to the origin"
            ));
        }
    }

    // Only outbound/* reaches the bucket; everything else meets the 404 function first.
    let patterns: Vec<_> = others
        .iter()
        .map(|b| b["PathPattern"].as_str().unwrap_or(""))
        .collect();
    if patterns != ["outbound/*"] {
        problems.push(format!("path patterns {patterns:?}, not only outbound/*"));
    }
    if others
        .iter()
        .any(|b| !b["FunctionAssociations"].is_null() || !b["LambdaFunctionAssociations"].is_null())
    {
        problems.push("outbound/* runs code at the edge".into());
    }
    let associations = items(&default["FunctionAssociations"]);
    let answers_404 = associations.iter().any(|association| {
        association["EventType"].as_str() == Some("viewer-request")
            && getatt_target(&association["FunctionARN"]).is_some_and(|(id, attribute)| {
                let function = resource(template, &id);
                let code = function["Properties"]["FunctionCode"]
                    .as_str()
                    .unwrap_or("");
                attribute == "FunctionMetadata.FunctionARN"
                    && function["Type"].as_str() == Some("AWS::CloudFront::Function")
                    && function["Properties"]["AutoPublish"].as_bool() == Some(true)
                    && code.contains("statusCode: 404")
                    && !code.contains("return request")
            })
    });
    if !answers_404 {
        problems.push("the default behaviour does not answer 404 at the edge".into());
    }
}

fn check_output(template: &Value, problems: &mut Vec<String>) {
    let output = &template["Outputs"]["PublicMediaBaseUrl"]["Value"];
    if sub_text(output) != Some("https://${PublicMediaDistribution.DomainName}") {
        problems.push(format!("output PublicMediaBaseUrl is {output:?}"));
    }
}

fn public_media_problems(template: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check_bucket(template, &mut problems);
    check_key(template, &mut problems);
    check_distribution(template, &mut problems);
    check_output(template, &mut problems);
    problems
}

#[test]
fn only_outbound_objects_are_public_through_the_distribution() {
    let problems = public_media_problems(&raw_template());
    assert!(problems.is_empty(), "{problems:#?}");
}

fn bucket_statement_mut(template: &mut Value) -> &mut Mapping {
    let policy =
        template["Resources"]["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
            .as_sequence_mut()
            .expect("statements");
    policy
        .iter_mut()
        .find(|s| is_cloudfront(&s["Principal"]))
        .and_then(Value::as_mapping_mut)
        .expect("the CloudFront statement")
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("YAML")
}

/// Each change below would expose more than outbound/ or break the URL's promises; the checker
/// must report every one.
#[test]
fn the_check_fails_on_templates_that_expose_more() {
    type Breakage = fn(&mut Value);
    let breakages: [(&str, Breakage); 12] = [
        ("the whole bucket readable", |t| {
            bucket_statement_mut(t).insert("Resource".into(), yaml("!Sub '${MediaBucket.Arn}/*'"));
        }),
        ("inbound readable too", |t| {
            bucket_statement_mut(t).insert(
                "Resource".into(),
                yaml("[!Sub '${MediaBucket.Arn}/outbound/*', !Sub '${MediaBucket.Arn}/inbound/*']"),
            );
        }),
        ("any distribution", |t| {
            bucket_statement_mut(t).remove("Condition");
        }),
        ("listing allowed", |t| {
            bucket_statement_mut(t).insert("Action".into(), yaml("[s3:GetObject, s3:ListBucket]"));
        }),
        ("public to everyone", |t| {
            bucket_statement_mut(t).insert("Principal".into(), yaml("'*'"));
        }),
        ("public access not blocked", |t| {
            t["Resources"]["MediaBucket"]["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] =
                Value::Bool(false);
        }),
        ("no origin access control", |t| {
            t["Resources"]["PublicMediaDistribution"]["Properties"]["DistributionConfig"]
                ["Origins"][0]
                .as_mapping_mut()
                .unwrap()
                .remove("OriginAccessControlId");
        }),
        ("a second public path", |t| {
            let behaviours = t["Resources"]["PublicMediaDistribution"]["Properties"]
                ["DistributionConfig"]["CacheBehaviors"]
                .as_sequence_mut()
                .unwrap();
            let mut inbound = behaviours[0].clone();
            inbound["PathPattern"] = Value::String("inbound/*".into());
            behaviours.push(inbound);
        }),
        ("the default behaviour reaches the bucket", |t| {
            t["Resources"]["PublicMediaDistribution"]["Properties"]["DistributionConfig"]
                ["DefaultCacheBehavior"]
                .as_mapping_mut()
                .unwrap()
                .remove("FunctionAssociations");
        }),
        ("cached for a day", |t| {
            t["Resources"]["PublicMediaCachePolicy"]["Properties"]["CachePolicyConfig"]["MaxTTL"] =
                yaml("86400");
        }),
        ("query strings forwarded", |t| {
            t["Resources"]["PublicMediaCachePolicy"]["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
                ["QueryStringsConfig"]["QueryStringBehavior"] = Value::String("all".into());
        }),
        ("plain http", |t| {
            t["Resources"]["PublicMediaDistribution"]["Properties"]["DistributionConfig"]["CacheBehaviors"]
                [0]["ViewerProtocolPolicy"] = Value::String("allow-all".into());
        }),
    ];
    for (what, breakage) in breakages {
        let mut template = raw_template();
        breakage(&mut template);
        assert!(
            !public_media_problems(&template).is_empty(),
            "the check missed: {what}"
        );
    }
}
