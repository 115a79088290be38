//! Reads `template.yaml` (SAM) and exposes what the local stack needs from it: the queues,
//! tables and buckets with the properties that change behaviour locally, the parameters, and
//! each function's build, environment and event sources (HTTP routes, SQS, schedules).
//!
//! The reader is strict on purpose: a property it does not know on a queue, table or bucket is
//! an error rather than silently dropped, so a template change that matters locally (a new
//! index, a stream, CORS) cannot make the local stack drift from the deployed one unnoticed.
//! Properties with no local meaning (encryption keys, backups, tags, lifecycle expiry, which
//! moto never applies) are listed as ignored, with the reason.

mod events;
mod expr;
mod function;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

pub use events::{
    DEFAULT_VISIBILITY_TIMEOUT_SECS, EventSource, REPORT_BATCH_ITEM_FAILURES, ScheduleFlavour,
    ScheduleSource, SqsSource, parse_rate,
};
pub use expr::{Expr, SubPart};
pub use function::{CARGO_LAMBDA, FunctionEvent, FunctionSpec};

pub const QUEUE_TYPE: &str = "AWS::SQS::Queue";
pub const TABLE_TYPE: &str = "AWS::DynamoDB::Table";
pub const BUCKET_TYPE: &str = "AWS::S3::Bucket";
pub const FUNCTION_TYPE: &str = "AWS::Serverless::Function";
pub const SECRET_TYPE: &str = "AWS::SecretsManager::Secret";
pub const HTTP_API_TYPE: &str = "AWS::Serverless::HttpApi";

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

pub(super) fn invalid(location: impl Into<String>, problem: impl Into<String>) -> TemplateError {
    TemplateError::Invalid {
        location: location.into(),
        problem: problem.into(),
    }
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

/// An `AWS::SecretsManager::Secret` with a generated value (`GenerateSecretString`): the local
/// stack makes one just as random.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpec {
    pub password_length: u32,
    pub exclude_punctuation: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BucketSpec {
    pub public_access_block: Option<PublicAccessBlock>,
    pub encryption: Option<BucketEncryption>,
    pub object_ownership: Option<String>,
    /// `Enabled` or `Suspended` when VersioningConfiguration is present.
    pub versioning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pub parameters: BTreeMap<String, Parameter>,
    /// Every resource's logical id and type, including those with no local counterpart.
    pub resource_types: BTreeMap<String, String>,
    pub queues: BTreeMap<String, QueueSpec>,
    pub tables: BTreeMap<String, TableSpec>,
    pub buckets: BTreeMap<String, BucketSpec>,
    pub secrets: BTreeMap<String, SecretSpec>,
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
                SECRET_TYPE => {
                    let secret = template.parse_secret(&id, properties)?;
                    template.secrets.insert(id.clone(), secret);
                }
                FUNCTION_TYPE => {
                    let function = function::parse_function(
                        &template,
                        &id,
                        resource,
                        properties,
                        globals.as_ref(),
                    )?;
                    template.functions.insert(id.clone(), function);
                }
                _ => {}
            }
            template.resource_types.insert(id, kind);
        }
        template.check_references()?;
        Ok(template)
    }

    /// The functions the local tooling builds and runs (BuildMethod rust-cargolambda), with
    /// their cargo binary, in logical-id order. Adding a function to the template adds it here,
    /// and so to `make dev`, `make test` and `make bench`.
    pub fn cargo_functions(&self) -> impl Iterator<Item = (&str, &str, &FunctionSpec)> {
        self.functions.iter().filter_map(|(id, function)| {
            function
                .cargo_binary()
                .map(|binary| (id.as_str(), binary, function))
        })
    }

    /// A property that must be a fixed value for the local stack: a literal, or a Ref to a
    /// parameter (its Default). Resource references cannot be known before creation.
    pub(super) fn static_value(
        &self,
        value: &Value,
        location: &str,
    ) -> Result<String, TemplateError> {
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

    pub(super) fn static_bool(&self, value: &Value, location: &str) -> Result<bool, TemplateError> {
        match self.static_value(value, location)?.as_str() {
            "true" | "True" => Ok(true),
            "false" | "False" => Ok(false),
            other => Err(invalid(
                location,
                format!("expected true or false, found {other:?}"),
            )),
        }
    }

    pub(super) fn static_u32(&self, value: &Value, location: &str) -> Result<u32, TemplateError> {
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
                            "{QUEUE_TYPE} property {other} is not supported by the local stack (infra/local-stack/src/template.rs)"
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
                            "{TABLE_TYPE} property {other} is not supported by the local stack (infra/local-stack/src/template.rs)"
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

    /// Only generated secrets: a literal `SecretString` would put a secret in the template.
    fn parse_secret(&self, id: &str, properties: &Mapping) -> Result<SecretSpec, TemplateError> {
        let location = format!("{id}.Properties.GenerateSecretString");
        let generate = properties.get("GenerateSecretString").ok_or_else(|| {
            invalid(
                &location,
                "the local stack creates only generated secrets (GenerateSecretString)",
            )
        })?;
        let password_length = match generate.get("PasswordLength") {
            // CloudFormation's default.
            None => 32,
            Some(value) => self.static_u32(value, &format!("{location}.PasswordLength"))?,
        };
        let exclude_punctuation = match generate.get("ExcludePunctuation") {
            None => false,
            Some(value) => self.static_bool(value, &format!("{location}.ExcludePunctuation"))?,
        };
        if !(1..=4096).contains(&password_length) {
            return Err(invalid(
                format!("{location}.PasswordLength"),
                "must be 1 to 4096",
            ));
        }
        Ok(SecretSpec {
            password_length,
            exclude_punctuation,
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
                            "{BUCKET_TYPE} property {other} is not supported by the local stack (infra/local-stack/src/template.rs)"
                        ),
                    ));
                }
            }
        }
        Ok(bucket)
    }

    /// Redrive targets must be queues of this template, and a FIFO queue's dead-letter queue
    /// must be FIFO too (SQS refuses anything else).
    fn check_references(&mut self) -> Result<(), TemplateError> {
        // Event sources learn their queue's facts; the queues are all read by now.
        let mut functions = std::mem::take(&mut self.functions);
        for (id, function) in &mut functions {
            for event in &mut function.events {
                if let EventSource::Sqs(source) = &mut event.source {
                    let at = format!("{id}.Properties.Events.{}", event.name);
                    events::attach_queue(source, self, &at)?;
                }
            }
        }
        self.functions = functions;

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

pub(super) fn sequence<'a>(
    value: &'a Value,
    location: &str,
) -> Result<&'a Vec<Value>, TemplateError> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

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
        assert_eq!(
            function.events[0].source,
            EventSource::Http {
                kind: "HttpApi".into(),
                api: None,
                method: Some("POST".into()),
                path: Some("/x".into())
            }
        );
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

    const WORKERS: &str = r#"
Parameters:
  Batch: {Type: Number, Default: 5}
Resources:
  Fifo:
    Type: AWS::SQS::Queue
    Properties: {FifoQueue: true, VisibilityTimeout: 360}
  Standard:
    Type: AWS::SQS::Queue
  Media:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: media}}
    Properties:
      Timeout: 60
      Events:
        Ingest:
          Type: SQS
          Properties:
            Queue: !GetAtt Fifo.Arn
            BatchSize: !Ref Batch
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 4}
  Bulk:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: bulk}}
    Properties:
      Events:
        Work:
          Type: SQS
          Properties: {Queue: !GetAtt Standard.Arn, BatchSize: 100, MaximumBatchingWindowInSeconds: 2}
  Retention:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: retention}}
    Properties:
      Events:
        Nightly:
          Type: Schedule
          Properties: {Schedule: rate(1 hour), Input: '{"dry_run": false}'}
        Sweep:
          Type: ScheduleV2
          Properties: {ScheduleExpression: 'cron(0 3 * * ? *)', State: DISABLED, ScheduleExpressionTimezone: Europe/Berlin}
  Elsewhere:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Events:
        Upload: {Type: S3, Properties: {Bucket: !Ref B, Events: 's3:ObjectCreated:*'}}
"#;

    fn sqs(t: &Template, function: &str) -> SqsSource {
        match &t.functions[function].events[0].source {
            EventSource::Sqs(source) => source.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sqs_sources_carry_batching_and_their_queue() {
        let t = Template::from_yaml_str(WORKERS).unwrap();
        let media = sqs(&t, "Media");
        assert_eq!(media.queue, "Fifo");
        assert_eq!(media.batch_size, 5, "a parameter's default");
        assert_eq!(media.maximum_batching_window_secs, 0);
        assert!(media.reports_batch_item_failures());
        assert!(media.enabled);
        assert_eq!(media.maximum_concurrency, Some(4));
        assert!(media.queue_fifo);
        assert_eq!(media.queue_visibility_timeout(), Duration::from_secs(360));

        let bulk = sqs(&t, "Bulk");
        assert_eq!(bulk.batch_size, 100);
        assert_eq!(bulk.maximum_batching_window(), Duration::from_secs(2));
        assert!(!bulk.reports_batch_item_failures());
        assert!(!bulk.queue_fifo);
        assert_eq!(
            bulk.queue_visibility_timeout_secs,
            DEFAULT_VISIBILITY_TIMEOUT_SECS
        );
    }

    #[test]
    fn schedules_carry_expression_input_and_state() {
        let t = Template::from_yaml_str(WORKERS).unwrap();
        let schedules: Vec<&ScheduleSource> = t.functions["Retention"]
            .events
            .iter()
            .map(|e| match &e.source {
                EventSource::Schedule(s) => s,
                other => panic!("{other:?}"),
            })
            .collect();
        let [hourly, nightly] = schedules.as_slice() else {
            panic!("two schedules")
        };
        assert_eq!(hourly.flavour, ScheduleFlavour::EventBridgeRule);
        assert_eq!(hourly.rate(), Some(Duration::from_secs(3600)));
        assert_eq!(hourly.input.as_deref(), Some(r#"{"dry_run": false}"#));
        assert!(hourly.enabled);
        assert_eq!(nightly.flavour, ScheduleFlavour::Scheduler);
        assert_eq!(nightly.expression, "cron(0 3 * * ? *)");
        assert_eq!(nightly.rate(), None);
        assert!(!nightly.enabled);
        assert_eq!(
            t.functions["Elsewhere"].events[0].source,
            EventSource::Other { kind: "S3".into() }
        );
    }

    #[test]
    fn cargo_functions_are_listed_with_their_binary() {
        let t = Template::from_yaml_str(WORKERS).unwrap();
        let listed: Vec<(&str, &str)> = t.cargo_functions().map(|(id, bin, _)| (id, bin)).collect();
        assert_eq!(
            listed,
            [
                ("Bulk", "bulk"),
                ("Media", "media"),
                ("Retention", "retention")
            ]
        );
        let unnamed = WORKERS.replace(", BuildProperties: {Binary: media}", "");
        let err = Template::from_yaml_str(&unnamed).unwrap_err().to_string();
        assert!(
            err.contains("Media.Metadata.BuildProperties.Binary"),
            "{err}"
        );
    }

    #[test]
    fn event_sources_that_would_not_deploy_or_would_behave_differently_are_errors() {
        let cases = [
            // FIFO: at most 10 per batch, and no batching window.
            ("BatchSize: !Ref Batch", "BatchSize: 11", "BatchSize 11"),
            (
                "BatchSize: !Ref Batch",
                "BatchSize: 2\n            MaximumBatchingWindowInSeconds: 1",
                "MaximumBatchingWindowInSeconds",
            ),
            // Standard: above 10 needs a window.
            (", MaximumBatchingWindowInSeconds: 2", "", "at least 1"),
            ("!GetAtt Fifo.Arn", "!GetAtt Nowhere.Arn", "Nowhere"),
            ("!GetAtt Fifo.Arn", "!Ref Fifo", "!GetAtt SomeQueue.Arn"),
            (
                "FunctionResponseTypes: [ReportBatchItemFailures]",
                "FilterCriteria: {Filters: []}",
                "FilterCriteria",
            ),
            ("[ReportBatchItemFailures]", "[Other]", "Other"),
            (
                "Input: '{\"dry_run\": false}'",
                "Input: 'not json'",
                "Input",
            ),
            ("Schedule: rate(1 hour), ", "", "Schedule is missing"),
        ];
        for (from, to, expected) in cases {
            assert!(WORKERS.contains(from), "{from}");
            let broken = WORKERS.replace(from, to);
            let err = Template::from_yaml_str(&broken).unwrap_err().to_string();
            assert!(err.contains(expected), "{from} -> {to}: {err}");
        }
    }
}
