//! Helpers shared by the infra tests. They read template.yaml on their own, with serde_yaml
//! and nothing from switchboard_local_stack::template, so a bug in the crate's reader cannot hide
//! the same bug in what the tests expect.

use aws_config::SdkConfig;
use serde_yaml::Value;
pub use switchboard_testkit::{moto_config, template_path, unique_prefix};

pub fn raw_template() -> Value {
    let path = template_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// (logical id, resource) of every resource of this type, in template order.
pub fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources is a mapping")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (id.as_str().expect("logical ids are strings").to_owned(), r))
        .collect()
}

/// `!Ref X` or `{Ref: X}`.
pub fn ref_target(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(t) if t.tag == "Ref" => t.value.as_str().map(str::to_owned),
        Value::Mapping(m) => m.get("Ref").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// `!GetAtt X.Attr`, `!GetAtt [X, Attr]` or `{"Fn::GetAtt": [X, Attr]}`.
pub fn getatt_target(value: &Value) -> Option<(String, String)> {
    let argument = match value {
        Value::Tagged(t) if t.tag == "GetAtt" => &t.value,
        Value::Mapping(m) => m.get("Fn::GetAtt")?,
        _ => return None,
    };
    match argument {
        Value::String(s) => s.split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())),
        Value::Sequence(items) => Some((
            items.first()?.as_str()?.to_owned(),
            items.get(1)?.as_str()?.to_owned(),
        )),
        _ => None,
    }
}

/// A literal scalar as text (`true`, `360`, `'360'` all compare as strings).
pub fn literal(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn literal_or(value: &Value, default: &str) -> String {
    if value.is_null() {
        default.to_owned()
    } else {
        literal(value)
            .unwrap_or_else(|| panic!("expected a literal in the template, found {value:?}"))
    }
}

pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}
