//! Reads `template.yaml` (SAM) and exposes what the local stack needs from it: the queues,
//! tables and buckets with the properties that change behaviour locally, the parameters, and
//! each function's environment, runtime and HTTP routes.
//!
//! The reader is strict on purpose: a property it does not know on a queue, table or bucket is
//! an error rather than silently dropped, so a template change that matters locally (a new
//! index, a stream, CORS) cannot make the local stack drift from the deployed one unnoticed.
//! Properties with no local meaning (encryption keys, backups, tags, lifecycle expiry, which
//! moto never applies) are listed as ignored, with the reason.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

pub const QUEUE_TYPE: &str = "AWS::SQS::Queue";
pub const TABLE_TYPE: &str = "AWS::DynamoDB::Table";
pub const BUCKET_TYPE: &str = "AWS::S3::Bucket";
pub const FUNCTION_TYPE: &str = "AWS::Serverless::Function";

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("template {path} is not valid YAML: {source}")]
    Yaml {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("template: {location}: {problem}")]
    Invalid { location: String, problem: String },
}

fn invalid(location: impl Into<String>, problem: impl Into<String>) -> TemplateError {
    TemplateError::Invalid {
        location: location.into(),
        problem: problem.into(),
    }
}

/// A value in the template: a literal, or one of the intrinsic functions the local stack can
/// resolve. Anything else is kept as `Unsupported` so that the error names it when (and only
/// when) someone needs its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Literal(String),
    Ref(String),
    GetAtt { resource: String, attribute: String },
    Sub(Vec<SubPart>),
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubPart {
    Text(String),
    Ref(String),
    GetAtt { resource: String, attribute: String },
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(s) => write!(f, "{s:?}"),
            Expr::Ref(name) => write!(f, "!Ref {name}"),
            Expr::GetAtt {
                resource,
                attribute,
            } => write!(f, "!GetAtt {resource}.{attribute}"),
            Expr::Sub(parts) => {
                write!(f, "!Sub '")?;
                for part in parts {
                    match part {
                        SubPart::Text(t) => write!(f, "{t}")?,
                        SubPart::Ref(name) => write!(f, "${{{name}}}")?,
                        SubPart::GetAtt {
                            resource,
                            attribute,
                        } => write!(f, "${{{resource}.{attribute}}}")?,
                    }
                }
                write!(f, "'")
            }
            Expr::Unsupported(function) => write!(f, "{function}"),
        }
    }
}

impl Expr {
    /// Reads a property value in any of CloudFormation's spellings: short form (`!Ref X`,
    /// which serde_yaml hands over as a tagged value), long form (`{Ref: X}`,
    /// `{"Fn::GetAtt": [X, Arn]}`), or a plain scalar.
    pub fn parse(value: &Value, location: &str) -> Result<Expr, TemplateError> {
        match value {
            Value::String(s) => Ok(Expr::Literal(s.clone())),
            Value::Number(n) => Ok(Expr::Literal(n.to_string())),
            Value::Bool(b) => Ok(Expr::Literal(b.to_string())),
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                let function = tag.trim_start_matches('!');
                Self::parse_function(function, &tagged.value, location)
            }
            Value::Mapping(map) if map.len() == 1 => {
                let Some((Value::String(key), argument)) = map.iter().next() else {
                    return Err(invalid(
                        location,
                        "expected a value or an intrinsic function",
                    ));
                };
                match key.as_str() {
                    "Ref" => Self::parse_function("Ref", argument, location),
                    other => match other.strip_prefix("Fn::") {
                        Some(function) => Self::parse_function(function, argument, location),
                        None => Err(invalid(
                            location,
                            format!(
                                "expected a value or an intrinsic function, found a mapping with key {other:?}"
                            ),
                        )),
                    },
                }
            }
            Value::Null => Err(invalid(location, "value is empty")),
            Value::Sequence(_) | Value::Mapping(_) => Err(invalid(
                location,
                "expected a scalar value or an intrinsic function",
            )),
        }
    }

    fn parse_function(
        function: &str,
        argument: &Value,
        location: &str,
    ) -> Result<Expr, TemplateError> {
        match function {
            "Ref" => match argument {
                Value::String(name) => Ok(Expr::Ref(name.clone())),
                _ => Err(invalid(
                    location,
                    "Ref takes a logical id or parameter name",
                )),
            },
            "GetAtt" => {
                let (resource, attribute) = match argument {
                    Value::String(dotted) => dotted
                        .split_once('.')
                        .map(|(r, a)| (r.to_owned(), a.to_owned()))
                        .ok_or_else(|| {
                            invalid(
                                location,
                                format!("GetAtt {dotted:?} is not LogicalId.Attribute"),
                            )
                        })?,
                    Value::Sequence(items) => match items.as_slice() {
                        [Value::String(r), Value::String(a)] => (r.clone(), a.clone()),
                        _ => return Err(invalid(location, "GetAtt takes [LogicalId, Attribute]")),
                    },
                    _ => return Err(invalid(location, "GetAtt takes LogicalId.Attribute")),
                };
                Ok(Expr::GetAtt {
                    resource,
                    attribute,
                })
            }
            "Sub" => match argument {
                Value::String(text) => Ok(Expr::Sub(parse_sub(text, location)?)),
                // The two-argument form defines its own variables; nothing needs it yet.
                _ => Ok(Expr::Unsupported("Fn::Sub with a variable map".to_owned())),
            },
            other => Ok(Expr::Unsupported(format!("Fn::{other}"))),
        }
    }
}

fn parse_sub(text: &str, location: &str) -> Result<Vec<SubPart>, TemplateError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| invalid(location, format!("unterminated ${{ in Sub {text:?}")))?;
        let variable = &after[..end];
        if let Some(escaped) = variable.strip_prefix('!') {
            // `${!Literal}` is how Sub writes a literal `${Literal}`.
            literal.push_str("${");
            literal.push_str(escaped);
            literal.push('}');
        } else {
            if !literal.is_empty() {
                parts.push(SubPart::Text(std::mem::take(&mut literal)));
            }
            // Pseudo parameters contain `::` but no dot; `X.Attr` is a GetAtt.
            match variable.split_once('.') {
                Some((resource, attribute)) if !variable.contains("::") => {
                    parts.push(SubPart::GetAtt {
                        resource: resource.to_owned(),
                        attribute: attribute.to_owned(),
                    })
                }
                _ => parts.push(SubPart::Ref(variable.to_owned())),
            }
        }
        rest = &after[end + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(SubPart::Text(literal));
    }
    Ok(parts)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub kind: String,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// Logical id of the dead-letter queue.
    pub dead_letter_target: String,
    pub max_receive_count: u32,
}

/// The properties of an `AWS::SQS::Queue` that the local stack applies. `None` means the
/// template does not set it, so the service default applies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueSpec {
    pub fifo: bool,
    pub content_based_deduplication: Option<bool>,
    pub deduplication_scope: Option<String>,
    pub fifo_throughput_limit: Option<String>,
    pub visibility_timeout_secs: Option<u32>,
    pub message_retention_secs: Option<u32>,
    pub delay_secs: Option<u32>,
    pub receive_wait_secs: Option<u32>,
    pub maximum_message_size: Option<u32>,
    pub sqs_managed_sse: Option<bool>,
    pub redrive: Option<Redrive>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Hash,
    Range,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Hash => "HASH",
            KeyType::Range => "RANGE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    S,
    N,
    B,
}

impl AttributeType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::S => "S",
            AttributeType::N => "N",
            AttributeType::B => "B",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: KeyType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillingMode {
    PayPerRequest,
    Provisioned { read_units: i64, write_units: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub key_schema: Vec<KeyElement>,
    pub attribute_definitions: BTreeMap<String, AttributeType>,
    pub billing_mode: BillingMode,
    /// Set when TimeToLiveSpecification is enabled.
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketEncryption {
    /// `aws:kms`, `aws:kms:dsse` or `AES256`. The KMS key itself has no local counterpart.
    pub sse_algorithm: String,
    pub bucket_key_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BucketSpec {
    pub public_access_block: Option<PublicAccessBlock>,
    pub encryption: Option<BucketEncryption>,
    pub object_ownership: Option<String>,
    /// `Enabled` or `Suspended` when VersioningConfiguration is present.
    pub versioning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionEvent {
    pub name: String,
    pub kind: String,
    /// For HttpApi/Api events.
    pub method: Option<String>,
    pub path: Option<String>,
}

/// An `AWS::Serverless::Function` after merging `Globals.Function` into it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FunctionSpec {
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub architectures: Vec<String>,
    pub code_uri: Option<String>,
    pub build_method: Option<String>,
    pub build_binary: Option<String>,
    pub timeout_secs: Option<u32>,
    pub memory_mb: Option<u32>,
    pub environment: BTreeMap<String, Expr>,
    pub events: Vec<FunctionEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pub parameters: BTreeMap<String, Parameter>,
    /// Every resource's logical id and type, including those with no local counterpart.
    pub resource_types: BTreeMap<String, String>,
    pub queues: BTreeMap<String, QueueSpec>,
    pub tables: BTreeMap<String, TableSpec>,
    pub buckets: BTreeMap<String, BucketSpec>,
    pub functions: BTreeMap<String, FunctionSpec>,
}

impl Template {
    pub fn from_path(path: impl AsRef<Path>) -> Result<Template, TemplateError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
        let document: Value =
            serde_yaml::from_str(&text).map_err(|source| TemplateError::Yaml {
                path: path.to_owned(),
                source,
            })?;
        Template::from_value(&document)
    }

    pub fn from_yaml_str(text: &str) -> Result<Template, TemplateError> {
        let document: Value = serde_yaml::from_str(text).map_err(|source| TemplateError::Yaml {
            path: PathBuf::from("<string>"),
            source,
        })?;
        Template::from_value(&document)
    }

    pub fn from_value(document: &Value) -> Result<Template, TemplateError> {
        let root = document
            .as_mapping()
            .ok_or_else(|| invalid("template", "the document is not a mapping"))?;
        let mut template = Template {
            parameters: parse_parameters(root.get("Parameters"))?,
            ..Template::default()
        };
        let globals = match root.get("Globals").and_then(|g| g.get("Function")) {
            Some(Value::Mapping(m)) => Some(m.clone()),
            Some(_) => return Err(invalid("Globals.Function", "expected a mapping")),
            None => None,
        };
        let resources = root
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| invalid("template", "no Resources mapping"))?;
        for (id, resource) in resources {
            let id = id
                .as_str()
                .ok_or_else(|| invalid("Resources", "a logical id is not a string"))?
                .to_owned();
            let kind = resource
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(&id, "resource has no Type"))?
                .to_owned();
            let empty = Mapping::new();
            let properties = match resource.get("Properties") {
                Some(Value::Mapping(m)) => m,
                Some(_) => return Err(invalid(&id, "Properties is not a mapping")),
                None => &empty,
            };
            match kind.as_str() {
                QUEUE_TYPE => {
                    let queue = template.parse_queue(&id, properties)?;
                    template.queues.insert(id.clone(), queue);
                }
                TABLE_TYPE => {
                    let table = template.parse_table(&id, properties)?;
                    template.tables.insert(id.clone(), table);
                }
                BUCKET_TYPE => {
                    let bucket = template.parse_bucket(&id, properties)?;
                    template.buckets.insert(id.clone(), bucket);
                }
                FUNCTION_TYPE => {
                    let function = parse_function(&id, resource, properties, globals.as_ref())?;
                    template.functions.insert(id.clone(), function);
                }
                _ => {}
            }
            template.resource_types.insert(id, kind);
        }
        template.check_references()?;
        Ok(template)
    }

    /// A property that must be a fixed value for the local stack: a literal, or a Ref to a
    /// parameter (its Default). Resource references cannot be known before creation.
    fn static_value(&self, value: &Value, location: &str) -> Result<String, TemplateError> {
        match Expr::parse(value, location)? {
            Expr::Literal(s) => Ok(s),
            Expr::Ref(name) => match self.parameters.get(&name) {
                Some(Parameter {
                    default: Some(default),
                    ..
                }) => Ok(default.clone()),
                Some(_) => Err(invalid(
                    location,
                    format!("parameter {name} has no Default"),
                )),
                None => Err(invalid(
                    location,
                    format!("Ref {name}: only parameters can be used here"),
                )),
            },
            other => Err(invalid(
                location,
                format!("{other} is not supported here by the local stack"),
            )),
        }
    }

    fn static_bool(&self, value: &Value, location: &str) -> Result<bool, TemplateError> {
        match self.static_value(value, location)?.as_str() {
            "true" | "True" => Ok(true),
            "false" | "False" => Ok(false),
            other => Err(invalid(
                location,
                format!("expected true or false, found {other:?}"),
            )),
        }
    }

    fn static_u32(&self, value: &Value, location: &str) -> Result<u32, TemplateError> {
        let text = self.static_value(value, location)?;
        text.parse()
            .map_err(|_| invalid(location, format!("expected a whole number, found {text:?}")))
    }

    fn static_i64(&self, value: &Value, location: &str) -> Result<i64, TemplateError> {
        let text = self.static_value(value, location)?;
        text.parse()
            .map_err(|_| invalid(location, format!("expected a whole number, found {text:?}")))
    }

    fn parse_queue(&self, id: &str, properties: &Mapping) -> Result<QueueSpec, TemplateError> {
        let mut queue = QueueSpec::default();
        for (key, value) in properties {
            let key = property_name(id, key)?;
            let location = format!("{id}.Properties.{key}");
            match key {
                "FifoQueue" => queue.fifo = self.static_bool(value, &location)?,
                "ContentBasedDeduplication" => {
                    queue.content_based_deduplication = Some(self.static_bool(value, &location)?)
                }
                "DeduplicationScope" => {
                    queue.deduplication_scope = Some(self.static_value(value, &location)?)
                }
                "FifoThroughputLimit" => {
                    queue.fifo_throughput_limit = Some(self.static_value(value, &location)?)
                }
                "VisibilityTimeout" => {
                    queue.visibility_timeout_secs = Some(self.static_u32(value, &location)?)
                }
                "MessageRetentionPeriod" => {
                    queue.message_retention_secs = Some(self.static_u32(value, &location)?)
                }
                "DelaySeconds" => queue.delay_secs = Some(self.static_u32(value, &location)?),
                "ReceiveMessageWaitTimeSeconds" => {
                    queue.receive_wait_secs = Some(self.static_u32(value, &location)?)
                }
                "MaximumMessageSize" => {
                    queue.maximum_message_size = Some(self.static_u32(value, &location)?)
                }
                "SqsManagedSseEnabled" => {
                    queue.sqs_managed_sse = Some(self.static_bool(value, &location)?)
                }
                "RedrivePolicy" => queue.redrive = Some(self.parse_redrive(value, &location)?),
                // KMS has no local counterpart; tags change nothing; the local stack names
                // every resource itself ({prefix}-{LogicalId}).
                "KmsMasterKeyId" | "KmsDataKeyReusePeriodSeconds" | "Tags" | "QueueName" => {}
                other => {
                    return Err(invalid(
                        location,
                        format!(
                            "{QUEUE_TYPE} property {other} is not supported by the local stack (infra/src/template.rs)"
                        ),
                    ));
                }
            }
        }
        Ok(queue)
    }

    fn parse_redrive(&self, value: &Value, location: &str) -> Result<Redrive, TemplateError> {
        let map = value.as_mapping().ok_or_else(|| {
            invalid(
                location,
                "expected a mapping with deadLetterTargetArn: !GetAtt Queue.Arn and maxReceiveCount",
            )
        })?;
        let target = map
            .get("deadLetterTargetArn")
            .ok_or_else(|| invalid(location, "deadLetterTargetArn is missing"))?;
        let dead_letter_target = match Expr::parse(
            target,
            &format!("{location}.deadLetterTargetArn"),
        )? {
            Expr::GetAtt {
                resource,
                attribute,
            } if attribute == "Arn" => resource,
            other => {
                return Err(invalid(
                    format!("{location}.deadLetterTargetArn"),
                    format!(
                        "expected !GetAtt SomeQueue.Arn of a queue in this template, found {other}"
                    ),
                ));
            }
        };
        let count = map
            .get("maxReceiveCount")
            .ok_or_else(|| invalid(location, "maxReceiveCount is missing"))?;
        let max_receive_count = self.static_u32(count, &format!("{location}.maxReceiveCount"))?;
        Ok(Redrive {
            dead_letter_target,
            max_receive_count,
        })
    }

    fn parse_table(&self, id: &str, properties: &Mapping) -> Result<TableSpec, TemplateError> {
        let mut key_schema = Vec::new();
        let mut attribute_definitions = BTreeMap::new();
        let mut billing = None;
        let mut provisioned = None;
        let mut ttl_attribute = None;
        for (key, value) in properties {
            let key = property_name(id, key)?;
            let location = format!("{id}.Properties.{key}");
            match key {
                "KeySchema" => {
                    for (i, element) in sequence(value, &location)?.iter().enumerate() {
                        let at = format!("{location}[{i}]");
                        let attribute_name =
                            self.static_value(field(element, "AttributeName", &at)?, &at)?;
                        let key_type = match self
                            .static_value(field(element, "KeyType", &at)?, &at)?
                            .as_str()
                        {
                            "HASH" => KeyType::Hash,
                            "RANGE" => KeyType::Range,
                            other => {
                                return Err(invalid(
                                    at,
                                    format!("KeyType {other:?} is not HASH or RANGE"),
                                ));
                            }
                        };
                        key_schema.push(KeyElement {
                            attribute_name,
                            key_type,
                        });
                    }
                }
                "AttributeDefinitions" => {
                    for (i, element) in sequence(value, &location)?.iter().enumerate() {
                        let at = format!("{location}[{i}]");
                        let name = self.static_value(field(element, "AttributeName", &at)?, &at)?;
                        let kind = match self
                            .static_value(field(element, "AttributeType", &at)?, &at)?
                            .as_str()
                        {
                            "S" => AttributeType::S,
                            "N" => AttributeType::N,
                            "B" => AttributeType::B,
                            other => {
                                return Err(invalid(
                                    at,
                                    format!("AttributeType {other:?} is not S, N or B"),
                                ));
                            }
                        };
                        attribute_definitions.insert(name, kind);
                    }
                }
                "BillingMode" => billing = Some(self.static_value(value, &location)?),
                "ProvisionedThroughput" => {
                    let read =
                        self.static_i64(field(value, "ReadCapacityUnits", &location)?, &location)?;
                    let write =
                        self.static_i64(field(value, "WriteCapacityUnits", &location)?, &location)?;
                    provisioned = Some((read, write));
                }
                "TimeToLiveSpecification" => {
                    let enabled =
                        self.static_bool(field(value, "Enabled", &location)?, &location)?;
                    if enabled {
                        ttl_attribute =
                            Some(self.static_value(
                                field(value, "AttributeName", &location)?,
                                &location,
                            )?);
                    }
                }
                // Encryption keys, backups, deletion protection, tags and table classes change
                // nothing that the functions can observe against moto.
                "SSESpecification"
                | "PointInTimeRecoverySpecification"
                | "DeletionProtectionEnabled"
                | "Tags"
                | "TableClass"
                | "ContributorInsightsSpecification"
                | "TableName" => {}
                other => {
                    return Err(invalid(
                        location,
                        format!(
                            "{TABLE_TYPE} property {other} is not supported by the local stack (infra/src/template.rs)"
                        ),
                    ));
                }
            }
        }
        if key_schema.is_empty() {
            return Err(invalid(id, "KeySchema is missing or empty"));
        }
        if !key_schema
            .first()
            .is_some_and(|k| k.key_type == KeyType::Hash)
        {
            return Err(invalid(
                id,
                "the first KeySchema element must be the HASH key",
            ));
        }
        for key in &key_schema {
            if !attribute_definitions.contains_key(&key.attribute_name) {
                return Err(invalid(
                    id,
                    format!(
                        "key attribute {} has no AttributeDefinitions entry",
                        key.attribute_name
                    ),
                ));
            }
        }
        let billing_mode = match (billing.as_deref(), provisioned) {
            (Some("PAY_PER_REQUEST"), None) => BillingMode::PayPerRequest,
            (Some("PAY_PER_REQUEST"), Some(_)) => {
                return Err(invalid(
                    id,
                    "PAY_PER_REQUEST tables take no ProvisionedThroughput",
                ));
            }
            (Some("PROVISIONED") | None, Some((read_units, write_units))) => {
                BillingMode::Provisioned {
                    read_units,
                    write_units,
                }
            }
            (Some("PROVISIONED") | None, None) => {
                return Err(invalid(id, "provisioned tables need ProvisionedThroughput"));
            }
            (Some(other), _) => {
                return Err(invalid(id, format!("BillingMode {other:?} is not known")));
            }
        };
        Ok(TableSpec {
            key_schema,
            attribute_definitions,
            billing_mode,
            ttl_attribute,
        })
    }

    fn parse_bucket(&self, id: &str, properties: &Mapping) -> Result<BucketSpec, TemplateError> {
        let mut bucket = BucketSpec::default();
        for (key, value) in properties {
            let key = property_name(id, key)?;
            let location = format!("{id}.Properties.{key}");
            match key {
                "PublicAccessBlockConfiguration" => {
                    let flag = |name: &str| match value.get(name) {
                        Some(v) => self.static_bool(v, &format!("{location}.{name}")),
                        None => Ok(false),
                    };
                    bucket.public_access_block = Some(PublicAccessBlock {
                        block_public_acls: flag("BlockPublicAcls")?,
                        block_public_policy: flag("BlockPublicPolicy")?,
                        ignore_public_acls: flag("IgnorePublicAcls")?,
                        restrict_public_buckets: flag("RestrictPublicBuckets")?,
                    });
                }
                "BucketEncryption" => {
                    let rules = sequence(
                        field(value, "ServerSideEncryptionConfiguration", &location)?,
                        &location,
                    )?;
                    let [rule] = rules.as_slice() else {
                        return Err(invalid(
                            location,
                            "expected exactly one ServerSideEncryptionConfiguration rule",
                        ));
                    };
                    let by_default = field(rule, "ServerSideEncryptionByDefault", &location)?;
                    let sse_algorithm = self
                        .static_value(field(by_default, "SSEAlgorithm", &location)?, &location)?;
                    let bucket_key_enabled = match rule.get("BucketKeyEnabled") {
                        Some(v) => Some(self.static_bool(v, &location)?),
                        None => None,
                    };
                    bucket.encryption = Some(BucketEncryption {
                        sse_algorithm,
                        bucket_key_enabled,
                    });
                }
                "OwnershipControls" => {
                    let rules = sequence(field(value, "Rules", &location)?, &location)?;
                    let [rule] = rules.as_slice() else {
                        return Err(invalid(
                            location,
                            "expected exactly one OwnershipControls rule",
                        ));
                    };
                    bucket.object_ownership = Some(
                        self.static_value(field(rule, "ObjectOwnership", &location)?, &location)?,
                    );
                }
                "VersioningConfiguration" => {
                    bucket.versioning =
                        Some(self.static_value(field(value, "Status", &location)?, &location)?);
                }
                // moto accepts lifecycle rules but never expires anything (see local-aws.md),
                // and tags change nothing locally.
                "LifecycleConfiguration" | "Tags" | "BucketName" => {}
                other => {
                    return Err(invalid(
                        location,
                        format!(
                            "{BUCKET_TYPE} property {other} is not supported by the local stack (infra/src/template.rs)"
                        ),
                    ));
                }
            }
        }
        Ok(bucket)
    }

    /// Redrive targets must be queues of this template, and a FIFO queue's dead-letter queue
    /// must be FIFO too (SQS refuses anything else).
    fn check_references(&self) -> Result<(), TemplateError> {
        for (id, queue) in &self.queues {
            if let Some(redrive) = &queue.redrive {
                let target = self
                    .queues
                    .get(&redrive.dead_letter_target)
                    .ok_or_else(|| {
                        invalid(
                            format!("{id}.Properties.RedrivePolicy"),
                            format!(
                                "dead-letter target {} is not a queue of this template",
                                redrive.dead_letter_target
                            ),
                        )
                    })?;
                if target.fifo != queue.fifo {
                    return Err(invalid(
                        format!("{id}.Properties.RedrivePolicy"),
                        "a queue and its dead-letter queue must both be FIFO or both standard",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn property_name<'a>(id: &str, key: &'a Value) -> Result<&'a str, TemplateError> {
    key.as_str().ok_or_else(|| {
        invalid(
            format!("{id}.Properties"),
            "a property name is not a string",
        )
    })
}

fn field<'a>(value: &'a Value, name: &str, location: &str) -> Result<&'a Value, TemplateError> {
    value
        .get(name)
        .ok_or_else(|| invalid(location, format!("{name} is missing")))
}

fn sequence<'a>(value: &'a Value, location: &str) -> Result<&'a Vec<Value>, TemplateError> {
    value
        .as_sequence()
        .ok_or_else(|| invalid(location, "expected a list"))
}

fn parse_parameters(value: Option<&Value>) -> Result<BTreeMap<String, Parameter>, TemplateError> {
    let mut parameters = BTreeMap::new();
    let Some(value) = value else {
        return Ok(parameters);
    };
    let map = value
        .as_mapping()
        .ok_or_else(|| invalid("Parameters", "expected a mapping"))?;
    for (name, definition) in map {
        let name = name
            .as_str()
            .ok_or_else(|| invalid("Parameters", "a parameter name is not a string"))?;
        let location = format!("Parameters.{name}");
        let kind = definition
            .get("Type")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(&location, "Type is missing"))?
            .to_owned();
        let default = match definition.get("Default") {
            None => None,
            Some(value) => match Expr::parse(value, &location)? {
                Expr::Literal(s) => Some(s),
                other => {
                    return Err(invalid(
                        &location,
                        format!("Default must be a literal, found {other}"),
                    ));
                }
            },
        };
        let mut allowed_values = Vec::new();
        if let Some(values) = definition.get("AllowedValues") {
            for value in sequence(values, &location)? {
                match Expr::parse(value, &location)? {
                    Expr::Literal(s) => allowed_values.push(s),
                    other => {
                        return Err(invalid(
                            &location,
                            format!("AllowedValues must be literals, found {other}"),
                        ));
                    }
                }
            }
        }
        parameters.insert(
            name.to_owned(),
            Parameter {
                kind,
                default,
                allowed_values,
            },
        );
    }
    Ok(parameters)
}

fn parse_function(
    id: &str,
    resource: &Value,
    properties: &Mapping,
    globals: Option<&Mapping>,
) -> Result<FunctionSpec, TemplateError> {
    // SAM's Globals: a function's own value wins; environment variables are merged.
    let property = |name: &str| {
        properties
            .get(name)
            .or_else(|| globals.and_then(|g| g.get(name)))
    };
    let location = |name: &str| format!("{id}.Properties.{name}");
    let string = |name: &str| -> Result<Option<String>, TemplateError> {
        match property(name) {
            None => Ok(None),
            Some(value) => match Expr::parse(value, &location(name))? {
                Expr::Literal(s) => Ok(Some(s)),
                other => Err(invalid(
                    location(name),
                    format!("expected a literal, found {other}"),
                )),
            },
        }
    };
    let number = |name: &str| -> Result<Option<u32>, TemplateError> {
        match string(name)? {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                invalid(
                    location(name),
                    format!("expected a whole number, found {text:?}"),
                )
            }),
        }
    };

    let mut architectures = Vec::new();
    if let Some(value) = property("Architectures") {
        for item in sequence(value, &location("Architectures"))? {
            match Expr::parse(item, &location("Architectures"))? {
                Expr::Literal(s) => architectures.push(s),
                other => {
                    return Err(invalid(
                        location("Architectures"),
                        format!("expected a literal, found {other}"),
                    ));
                }
            }
        }
    }

    let mut environment = BTreeMap::new();
    let global_variables = globals
        .and_then(|g| g.get("Environment"))
        .and_then(|e| e.get("Variables"));
    let own_variables = properties
        .get("Environment")
        .and_then(|e| e.get("Variables"));
    for variables in [global_variables, own_variables].into_iter().flatten() {
        let map = variables
            .as_mapping()
            .ok_or_else(|| invalid(location("Environment.Variables"), "expected a mapping"))?;
        for (name, value) in map {
            let name = name.as_str().ok_or_else(|| {
                invalid(
                    location("Environment.Variables"),
                    "a variable name is not a string",
                )
            })?;
            let expr = Expr::parse(value, &location(&format!("Environment.Variables.{name}")))?;
            environment.insert(name.to_owned(), expr);
        }
    }

    let mut events = Vec::new();
    if let Some(value) = properties.get("Events") {
        let map = value
            .as_mapping()
            .ok_or_else(|| invalid(location("Events"), "expected a mapping"))?;
        for (name, event) in map {
            let name = name
                .as_str()
                .ok_or_else(|| invalid(location("Events"), "an event name is not a string"))?;
            let at = location(&format!("Events.{name}"));
            let kind = event
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(&at, "Type is missing"))?
                .to_owned();
            let text = |key: &str| {
                event
                    .get("Properties")
                    .and_then(|p| p.get(key))
                    .and_then(Value::as_str)
            };
            events.push(FunctionEvent {
                name: name.to_owned(),
                kind,
                method: text("Method").map(str::to_owned),
                path: text("Path").map(str::to_owned),
            });
        }
    }

    let build = |key: &str| {
        resource
            .get("Metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let build_binary = resource
        .get("Metadata")
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|p| p.get("Binary"))
        .and_then(Value::as_str)
        .map(str::to_owned);

    Ok(FunctionSpec {
        runtime: string("Runtime")?,
        handler: string("Handler")?,
        architectures,
        code_uri: string("CodeUri")?,
        build_method: build("BuildMethod"),
        build_binary,
        timeout_secs: number("Timeout")?,
        memory_mb: number("MemorySize")?,
        environment,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(yaml: &str) -> Expr {
        let value: Value = serde_yaml::from_str(yaml).unwrap();
        Expr::parse(&value, "test").unwrap()
    }

    #[test]
    fn intrinsics_in_short_and_long_form() {
        assert_eq!(expr("!Ref Queue"), Expr::Ref("Queue".into()));
        assert_eq!(expr("{Ref: Queue}"), Expr::Ref("Queue".into()));
        let arn = Expr::GetAtt {
            resource: "Queue".into(),
            attribute: "Arn".into(),
        };
        assert_eq!(expr("!GetAtt Queue.Arn"), arn);
        assert_eq!(expr("!GetAtt [Queue, Arn]"), arn);
        assert_eq!(expr("{'Fn::GetAtt': [Queue, Arn]}"), arn);
        assert_eq!(expr("300"), Expr::Literal("300".into()));
        assert_eq!(expr("true"), Expr::Literal("true".into()));
        assert_eq!(expr("'x'"), Expr::Literal("x".into()));
        assert_eq!(expr("!If [C, a, b]"), Expr::Unsupported("Fn::If".into()));
        assert_eq!(
            expr("{'Fn::ImportValue': x}"),
            Expr::Unsupported("Fn::ImportValue".into())
        );
    }

    #[test]
    fn sub_splits_references_attributes_and_escapes() {
        assert_eq!(
            expr("!Sub 'arn:${AWS::Partition}:s3:::${Bucket}/${Queue.Arn}/${!Literal}'"),
            Expr::Sub(vec![
                SubPart::Text("arn:".into()),
                SubPart::Ref("AWS::Partition".into()),
                SubPart::Text(":s3:::".into()),
                SubPart::Ref("Bucket".into()),
                SubPart::Text("/".into()),
                SubPart::GetAtt {
                    resource: "Queue".into(),
                    attribute: "Arn".into()
                },
                SubPart::Text("/${Literal}".into()),
            ])
        );
        let value: Value = serde_yaml::from_str("!Sub 'broken ${x'").unwrap();
        assert!(Expr::parse(&value, "test").is_err());
    }

    const SMALL: &str = r#"
Parameters:
  Visibility: {Type: Number, Default: 42}
  Level: {Type: String, Default: info, AllowedValues: [info, debug]}
Globals:
  Function:
    Runtime: provided.al2023
    Environment:
      Variables:
        FROM_GLOBALS: g
        OVERRIDDEN: g
Resources:
  Dlq:
    Type: AWS::SQS::Queue
    Properties: {FifoQueue: true}
  Work:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: 'true'
      VisibilityTimeout: !Ref Visibility
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: '3'}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
  Key:
    Type: AWS::KMS::Key
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Environment:
        Variables:
          OVERRIDDEN: !Ref Work
          LEVEL: !Ref Level
      Events:
        Api: {Type: HttpApi, Properties: {Method: POST, Path: /x}}
"#;

    #[test]
    fn reads_queues_tables_parameters_and_merges_globals() {
        let t = Template::from_yaml_str(SMALL).unwrap();
        let work = &t.queues["Work"];
        assert!(work.fifo);
        assert_eq!(work.visibility_timeout_secs, Some(42));
        assert_eq!(
            work.redrive,
            Some(Redrive {
                dead_letter_target: "Dlq".into(),
                max_receive_count: 3
            })
        );
        let table = &t.tables["Table"];
        assert_eq!(table.ttl_attribute.as_deref(), Some("ttl"));
        assert_eq!(table.billing_mode, BillingMode::PayPerRequest);
        assert_eq!(t.resource_types["Key"], "AWS::KMS::Key");
        let function = &t.functions["Fn"];
        assert_eq!(function.runtime.as_deref(), Some("provided.al2023"));
        assert_eq!(
            function.environment["FROM_GLOBALS"],
            Expr::Literal("g".into())
        );
        assert_eq!(function.environment["OVERRIDDEN"], Expr::Ref("Work".into()));
        assert_eq!(function.events[0].path.as_deref(), Some("/x"));
        assert_eq!(t.parameters["Level"].allowed_values, vec!["info", "debug"]);
    }

    #[test]
    fn unknown_properties_and_bad_redrive_targets_are_errors() {
        let gsi = SMALL.replace(
            "      TimeToLiveSpecification:",
            "      GlobalSecondaryIndexes: []\n      TimeToLiveSpecification:",
        );
        let err = Template::from_yaml_str(&gsi).unwrap_err().to_string();
        assert!(err.contains("GlobalSecondaryIndexes"), "{err}");

        let missing = SMALL.replace("!GetAtt Dlq.Arn", "!GetAtt Nowhere.Arn");
        let err = Template::from_yaml_str(&missing).unwrap_err().to_string();
        assert!(err.contains("Nowhere"), "{err}");

        let standard_dlq = SMALL.replace("Properties: {FifoQueue: true}", "Properties: {}");
        assert!(Template::from_yaml_str(&standard_dlq).is_err());
    }
}
