//! Creates, on a local AWS endpoint (moto), the queues, tables and bucket that `template.yaml`
//! declares, and resolves a function's environment the way CloudFormation would.
//!
//! Physical names are `{prefix}-{LogicalId}` (`.fifo` appended for FIFO queues, lower-cased
//! for buckets), so several local stacks (a dev stack, one per test) share one moto.
//! Creation is idempotent and converges: running it again on existing resources reapplies the
//! template's attributes, and refuses only what cannot be changed in place (a table's keys).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types as ddb;
use aws_sdk_s3::types as s3;
use aws_sdk_sqs::types::QueueAttributeName;
use serde::Serialize;

use crate::template::{BillingMode, Expr, QueueSpec, SubPart, TableSpec, Template, TemplateError};

/// moto's and AWS's limits on physical names.
const MAX_QUEUE_NAME: usize = 80;
const MAX_TABLE_NAME: usize = 255;
const MAX_BUCKET_NAME: usize = 63;
/// How long a new table may take to become ACTIVE (moto: immediately).
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum LocalStackError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("invalid prefix {prefix:?}: {reason}")]
    InvalidPrefix { prefix: String, reason: String },
    #[error("{logical_id}: physical name {name:?} is invalid: {reason}")]
    InvalidName {
        logical_id: String,
        name: String,
        reason: String,
    },
    #[error("no AWS region is configured (set AWS_REGION)")]
    NoRegion,
    #[error("{operation} on {resource} failed: {message}")]
    Aws {
        operation: &'static str,
        resource: String,
        message: String,
    },
    #[error("{operation} on {resource}: the response lacks {missing}")]
    IncompleteResponse {
        operation: &'static str,
        resource: String,
        missing: &'static str,
    },
    #[error(
        "{logical_id} ({name}) already exists but differs from the template: {problem}; delete it or use another prefix"
    )]
    Conflict {
        logical_id: String,
        name: String,
        problem: String,
    },
    #[error("table {name} did not become ACTIVE within {timeout:?}", timeout = TABLE_ACTIVE_TIMEOUT)]
    TableNotActive { name: String },
    #[error("queues {0:?} have dead-letter targets that form a cycle")]
    RedriveCycle(Vec<String>),
    #[error("the template has no function {logical_id}; functions: {available:?}")]
    UnknownFunction {
        logical_id: String,
        available: Vec<String>,
    },
    #[error("the template has no parameter {name}; parameters: {available:?}")]
    UnknownParameter {
        name: String,
        available: Vec<String>,
    },
    #[error("parameter {name} does not allow {value:?}; allowed: {allowed:?}")]
    DisallowedParameterValue {
        name: String,
        value: String,
        allowed: Vec<String>,
    },
    #[error(
        "{function}: environment variable {variable} = {expression} cannot be resolved locally: {reason} \
         (give it a local value: `switchboard-admin local-stack --env {variable}=...`)"
    )]
    Unresolvable {
        function: String,
        variable: String,
        expression: String,
        reason: String,
    },
}

fn aws_error(
    operation: &'static str,
    resource: &str,
    error: impl std::error::Error,
) -> LocalStackError {
    LocalStackError::Aws {
        operation,
        resource: resource.to_owned(),
        // The SDK's Display shows only the outermost layer ("service error"); this shows the
        // code and message that say what went wrong.
        message: aws_sdk_sqs::error::DisplayErrorContext(error).to_string(),
    }
}

/// A resource created locally, with what `!Ref` and `!GetAtt` resolve to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum PhysicalResource {
    #[serde(rename = "AWS::SQS::Queue")]
    Queue {
        name: String,
        url: String,
        arn: String,
    },
    #[serde(rename = "AWS::DynamoDB::Table")]
    Table { name: String, arn: String },
    #[serde(rename = "AWS::S3::Bucket")]
    Bucket { name: String, arn: String },
    /// `Ref` returns the secret's ARN, as in CloudFormation.
    #[serde(rename = "AWS::SecretsManager::Secret")]
    Secret { name: String, arn: String },
}

impl PhysicalResource {
    pub fn name(&self) -> &str {
        match self {
            PhysicalResource::Queue { name, .. }
            | PhysicalResource::Table { name, .. }
            | PhysicalResource::Bucket { name, .. }
            | PhysicalResource::Secret { name, .. } => name,
        }
    }

    /// What CloudFormation's `Ref` returns: a queue's URL, a table's or bucket's name.
    pub fn ref_value(&self) -> &str {
        match self {
            PhysicalResource::Queue { url, .. } => url,
            PhysicalResource::Table { name, .. } | PhysicalResource::Bucket { name, .. } => name,
            PhysicalResource::Secret { arn, .. } => arn,
        }
    }

    pub fn arn(&self) -> &str {
        match self {
            PhysicalResource::Queue { arn, .. }
            | PhysicalResource::Table { arn, .. }
            | PhysicalResource::Bucket { arn, .. }
            | PhysicalResource::Secret { arn, .. } => arn,
        }
    }

    /// The `Fn::GetAtt` attributes that have a local value.
    pub fn attribute(&self, attribute: &str) -> Option<&str> {
        match (self, attribute) {
            (_, "Arn") => Some(self.arn()),
            (PhysicalResource::Queue { name, .. }, "QueueName") => Some(name),
            (PhysicalResource::Queue { url, .. }, "QueueUrl") => Some(url),
            _ => None,
        }
    }
}

/// `{prefix}-{LogicalId}`, plus `.fifo` for FIFO queues.
pub fn queue_name(prefix: &str, logical_id: &str, fifo: bool) -> String {
    if fifo {
        format!("{prefix}-{logical_id}.fifo")
    } else {
        format!("{prefix}-{logical_id}")
    }
}

pub fn table_name(prefix: &str, logical_id: &str) -> String {
    format!("{prefix}-{logical_id}")
}

/// Bucket names must be lower case.
pub fn bucket_name(prefix: &str, logical_id: &str) -> String {
    format!("{prefix}-{logical_id}").to_ascii_lowercase()
}

fn check_prefix(prefix: &str) -> Result<(), LocalStackError> {
    let reason = if prefix.is_empty() {
        Some("it is empty")
    } else if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Some(
            "use only letters, digits and '-' (the prefix is part of queue, table and bucket names)",
        )
    } else if !prefix.as_bytes()[0].is_ascii_alphanumeric() {
        Some("it must start with a letter or digit")
    } else if prefix.to_ascii_lowercase().starts_with("xn--") {
        Some("bucket names may not start with xn--")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(LocalStackError::InvalidPrefix {
            prefix: prefix.to_owned(),
            reason: reason.to_owned(),
        }),
        None => Ok(()),
    }
}

fn check_length(logical_id: &str, name: &str, max: usize) -> Result<(), LocalStackError> {
    if name.len() > max {
        return Err(LocalStackError::InvalidName {
            logical_id: logical_id.to_owned(),
            name: name.to_owned(),
            reason: format!("longer than {max} characters; use a shorter prefix"),
        });
    }
    Ok(())
}

/// Where `make dev` serves the template's HTTP API (the local gateway).
pub const DEFAULT_HTTP_BASE_URL: &str = "http://127.0.0.1:3000";

#[derive(Debug, Clone)]
pub struct LocalStack {
    prefix: String,
    region: String,
    /// What the HTTP API's invoke URL resolves to locally.
    http_base_url: String,
    template: Template,
    resources: BTreeMap<String, PhysicalResource>,
    parameter_overrides: BTreeMap<String, String>,
    environment_overrides: BTreeMap<String, String>,
}

impl LocalStack {
    pub async fn create(
        sdk_config: &SdkConfig,
        prefix: &str,
        template_path: impl AsRef<Path>,
    ) -> Result<LocalStack, LocalStackError> {
        let template = Template::from_path(template_path)?;
        LocalStack::create_from_template(sdk_config, prefix, template).await
    }

    pub async fn create_from_template(
        sdk_config: &SdkConfig,
        prefix: &str,
        template: Template,
    ) -> Result<LocalStack, LocalStackError> {
        check_prefix(prefix)?;
        let region = sdk_config
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or(LocalStackError::NoRegion)?;
        let sqs = switchboard_shared::aws::sqs_client(sdk_config);
        let dynamodb = switchboard_shared::aws::dynamodb_client(sdk_config);
        // Path-style addressing under a local endpoint: moto serves every bucket under one host.
        let s3 = switchboard_shared::aws::s3_client(sdk_config);

        let mut resources = BTreeMap::new();
        for id in redrive_order(&template)? {
            let spec = &template.queues[&id];
            let dead_letter_arn = match &spec.redrive {
                Some(redrive) => match resources.get(&redrive.dead_letter_target) {
                    Some(PhysicalResource::Queue { arn, .. }) => Some(arn.clone()),
                    // redrive_order puts every target first, and check_references made it a queue.
                    _ => return Err(LocalStackError::RedriveCycle(vec![id.clone()])),
                },
                None => None,
            };
            let queue = create_queue(&sqs, prefix, &id, spec, dead_letter_arn.as_deref()).await?;
            resources.insert(id, queue);
        }
        for (id, spec) in &template.tables {
            let table = create_table(&dynamodb, prefix, id, spec).await?;
            resources.insert(id.clone(), table);
        }
        for (id, spec) in &template.buckets {
            let bucket = create_bucket(&s3, &region, prefix, id, spec).await?;
            resources.insert(id.clone(), bucket);
        }
        let secrets = aws_sdk_secretsmanager::Client::new(sdk_config);
        for (id, spec) in &template.secrets {
            let secret = create_secret(&secrets, prefix, id, spec).await?;
            resources.insert(id.clone(), secret);
        }

        Ok(LocalStack {
            prefix: prefix.to_owned(),
            region,
            http_base_url: DEFAULT_HTTP_BASE_URL.to_owned(),
            template,
            resources,
            parameter_overrides: BTreeMap::new(),
            environment_overrides: BTreeMap::new(),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    /// Every created resource by logical id.
    pub fn resources(&self) -> &BTreeMap<String, PhysicalResource> {
        &self.resources
    }

    pub fn resource(&self, logical_id: &str) -> Option<&PhysicalResource> {
        self.resources.get(logical_id)
    }

    /// Like `sam deploy --parameter-overrides`: the value `!Ref Name` resolves to instead of
    /// the parameter's Default.
    pub fn set_parameter(&mut self, name: &str, value: &str) -> Result<(), LocalStackError> {
        let parameter = self.template.parameters.get(name).ok_or_else(|| {
            LocalStackError::UnknownParameter {
                name: name.to_owned(),
                available: self.template.parameters.keys().cloned().collect(),
            }
        })?;
        if !parameter.allowed_values.is_empty()
            && !parameter.allowed_values.iter().any(|v| v == value)
        {
            return Err(LocalStackError::DisallowedParameterValue {
                name: name.to_owned(),
                value: value.to_owned(),
                allowed: parameter.allowed_values.clone(),
            });
        }
        self.parameter_overrides
            .insert(name.to_owned(), value.to_owned());
        Ok(())
    }

    /// The local value of an environment variable that points at something with no local
    /// counterpart, such as the CloudFront distribution's URL (`make dev` serves its paths
    /// from moto on a local port: README "Public URLs for agents' attachments"). It replaces
    /// the template's expression, unresolved, in every function that declares the variable;
    /// functions that do not declare it are left alone.
    pub fn set_environment(&mut self, name: &str, value: &str) {
        self.environment_overrides
            .insert(name.to_owned(), value.to_owned());
    }

    /// Where the template's HTTP API is served locally (default [`DEFAULT_HTTP_BASE_URL`]):
    /// `!Sub https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}…` resolves to it.
    pub fn set_http_base_url(&mut self, base_url: &str) {
        self.http_base_url = base_url.trim_end_matches('/').to_owned();
    }

    /// The function's environment variables with every reference resolved to the local
    /// resources, as the deployed function would see them (overridden variables excepted:
    /// [`LocalStack::set_environment`]).
    pub fn function_environment(
        &self,
        logical_function_id: &str,
    ) -> Result<BTreeMap<String, String>, LocalStackError> {
        let function = self
            .template
            .functions
            .get(logical_function_id)
            .ok_or_else(|| LocalStackError::UnknownFunction {
                logical_id: logical_function_id.to_owned(),
                available: self.template.functions.keys().cloned().collect(),
            })?;
        function
            .environment
            .iter()
            .map(|(variable, expression)| {
                match self.environment_overrides.get(variable) {
                    Some(value) => Ok(value.clone()),
                    None => self.resolve(expression),
                }
                .map(|value| (variable.clone(), value))
                .map_err(|reason| LocalStackError::Unresolvable {
                    function: logical_function_id.to_owned(),
                    variable: variable.clone(),
                    expression: expression.to_string(),
                    reason,
                })
            })
            .collect()
    }

    fn resolve(&self, expression: &Expr) -> Result<String, String> {
        match expression {
            Expr::Literal(value) => Ok(value.clone()),
            Expr::Ref(name) => self.resolve_ref(name),
            Expr::GetAtt {
                resource,
                attribute,
            } => self.resolve_attribute(resource, attribute),
            Expr::Sub(parts) => {
                // The HTTP API's invoke URL is where the local gateway serves it.
                let (base, parts) = match self.http_api_url(parts) {
                    Some(rest) => (self.http_base_url.clone(), rest),
                    None => (String::new(), parts.as_slice()),
                };
                let rest: String = parts
                    .iter()
                    .map(|part| match part {
                        SubPart::Text(text) => Ok(text.clone()),
                        SubPart::Ref(name) => self.resolve_ref(name),
                        SubPart::GetAtt {
                            resource,
                            attribute,
                        } => self.resolve_attribute(resource, attribute),
                    })
                    .collect::<Result<_, _>>()?;
                Ok(base + &rest)
            }
            Expr::Unsupported(function) => Err(format!(
                "{function} is not supported by the local stack (supported: literals, Ref, Fn::GetAtt, Fn::Sub)"
            )),
        }
    }

    /// `https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}` followed by anything, with
    /// `Api` an HTTP API of the template: the parts after the invoke URL.
    fn http_api_url<'a>(&self, parts: &'a [SubPart]) -> Option<&'a [SubPart]> {
        let [
            SubPart::Text(scheme),
            SubPart::Ref(api),
            SubPart::Text(service),
            SubPart::Ref(region),
            SubPart::Text(dot),
            SubPart::Ref(suffix),
            rest @ ..,
        ] = parts
        else {
            return None;
        };
        let is_api = self
            .template
            .resource_types
            .get(api)
            .is_some_and(|kind| kind == crate::template::HTTP_API_TYPE);
        (is_api
            && scheme == "https://"
            && service == ".execute-api."
            && region == "AWS::Region"
            && dot == "."
            && suffix == "AWS::URLSuffix")
            .then_some(rest)
    }

    fn resolve_ref(&self, name: &str) -> Result<String, String> {
        match name {
            "AWS::Region" => return Ok(self.region.clone()),
            "AWS::StackName" => return Ok(self.prefix.clone()),
            "AWS::Partition" => return Ok("aws".to_owned()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".to_owned()),
            _ if name.starts_with("AWS::") => {
                return Err(format!("pseudo parameter {name} has no local value"));
            }
            _ => {}
        }
        if let Some(value) = self.parameter_overrides.get(name) {
            return Ok(value.clone());
        }
        if let Some(parameter) = self.template.parameters.get(name) {
            return parameter
                .default
                .clone()
                .ok_or_else(|| format!("parameter {name} has no Default; set it as an override"));
        }
        self.physical(name).map(|r| r.ref_value().to_owned())
    }

    fn resolve_attribute(&self, resource: &str, attribute: &str) -> Result<String, String> {
        let physical = self.physical(resource)?;
        physical
            .attribute(attribute)
            .map(str::to_owned)
            .ok_or_else(|| format!("attribute {attribute} of {resource} has no local value"))
    }

    fn physical(&self, logical_id: &str) -> Result<&PhysicalResource, String> {
        if let Some(resource) = self.resources.get(logical_id) {
            return Ok(resource);
        }
        match self.template.resource_types.get(logical_id) {
            Some(kind) => Err(format!(
                "{logical_id} is a {kind}, which has no local counterpart"
            )),
            None => Err(format!(
                "the template has no parameter or resource named {logical_id}"
            )),
        }
    }
}

/// Queues in an order where every dead-letter queue comes before the queues that use it.
fn redrive_order(template: &Template) -> Result<Vec<String>, LocalStackError> {
    let mut ordered: Vec<String> = Vec::new();
    let mut pending: Vec<&String> = template.queues.keys().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|id| {
            let ready = match &template.queues[*id].redrive {
                Some(redrive) => ordered.contains(&redrive.dead_letter_target),
                None => true,
            };
            if ready {
                ordered.push((*id).clone());
            }
            !ready
        });
        if pending.len() == before {
            return Err(LocalStackError::RedriveCycle(
                pending.into_iter().cloned().collect(),
            ));
        }
    }
    Ok(ordered)
}

fn queue_attributes(
    spec: &QueueSpec,
    dead_letter_arn: Option<&str>,
) -> Vec<(QueueAttributeName, String)> {
    let mut attributes = Vec::new();
    let mut set = |name: QueueAttributeName, value: Option<String>| {
        if let Some(value) = value {
            attributes.push((name, value));
        }
    };
    set(
        QueueAttributeName::ContentBasedDeduplication,
        spec.content_based_deduplication.map(|b| b.to_string()),
    );
    set(
        QueueAttributeName::DeduplicationScope,
        spec.deduplication_scope.clone(),
    );
    set(
        QueueAttributeName::FifoThroughputLimit,
        spec.fifo_throughput_limit.clone(),
    );
    set(
        QueueAttributeName::VisibilityTimeout,
        spec.visibility_timeout_secs.map(|v| v.to_string()),
    );
    set(
        QueueAttributeName::MessageRetentionPeriod,
        spec.message_retention_secs.map(|v| v.to_string()),
    );
    set(
        QueueAttributeName::DelaySeconds,
        spec.delay_secs.map(|v| v.to_string()),
    );
    set(
        QueueAttributeName::ReceiveMessageWaitTimeSeconds,
        spec.receive_wait_secs.map(|v| v.to_string()),
    );
    set(
        QueueAttributeName::MaximumMessageSize,
        spec.maximum_message_size.map(|v| v.to_string()),
    );
    set(
        QueueAttributeName::SqsManagedSseEnabled,
        spec.sqs_managed_sse.map(|b| b.to_string()),
    );
    if let (Some(redrive), Some(arn)) = (&spec.redrive, dead_letter_arn) {
        let policy = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": redrive.max_receive_count,
        });
        set(QueueAttributeName::RedrivePolicy, Some(policy.to_string()));
    }
    attributes
}

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
    logical_id: &str,
    spec: &QueueSpec,
    dead_letter_arn: Option<&str>,
) -> Result<PhysicalResource, LocalStackError> {
    let name = queue_name(prefix, logical_id, spec.fifo);
    check_length(logical_id, &name, MAX_QUEUE_NAME)?;
    // Create with the one attribute that cannot change, then set the rest: CreateQueue on an
    // existing queue fails when any given attribute differs, SetQueueAttributes converges.
    let mut create = sqs.create_queue().queue_name(&name);
    if spec.fifo {
        create = create.attributes(QueueAttributeName::FifoQueue, "true");
    }
    let url = create
        .send()
        .await
        .map_err(|e| aws_error("CreateQueue", &name, e))?
        .queue_url
        .ok_or_else(|| LocalStackError::IncompleteResponse {
            operation: "CreateQueue",
            resource: name.clone(),
            missing: "QueueUrl",
        })?;
    let attributes = queue_attributes(spec, dead_letter_arn);
    if !attributes.is_empty() {
        let mut set = sqs.set_queue_attributes().queue_url(&url);
        for (attribute, value) in attributes {
            set = set.attributes(attribute, value);
        }
        set.send()
            .await
            .map_err(|e| aws_error("SetQueueAttributes", &name, e))?;
    }
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| aws_error("GetQueueAttributes", &name, e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| LocalStackError::IncompleteResponse {
            operation: "GetQueueAttributes",
            resource: name.clone(),
            missing: "QueueArn",
        })?;
    Ok(PhysicalResource::Queue { name, url, arn })
}

fn build_error(what: &str, error: impl std::error::Error) -> LocalStackError {
    LocalStackError::Aws {
        operation: "building the request",
        resource: what.to_owned(),
        message: error.to_string(),
    }
}

async fn create_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    prefix: &str,
    logical_id: &str,
    spec: &TableSpec,
) -> Result<PhysicalResource, LocalStackError> {
    let name = table_name(prefix, logical_id);
    check_length(logical_id, &name, MAX_TABLE_NAME)?;

    let mut key_schema = Vec::new();
    for key in &spec.key_schema {
        key_schema.push(
            ddb::KeySchemaElement::builder()
                .attribute_name(&key.attribute_name)
                .key_type(ddb::KeyType::from(key.key_type.as_str()))
                .build()
                .map_err(|e| build_error(&name, e))?,
        );
    }
    // DynamoDB accepts only the attributes used by keys; others in the template would be an
    // error on deploy too, so pass them all and let the service say so.
    let mut definitions = Vec::new();
    for (attribute, kind) in &spec.attribute_definitions {
        definitions.push(
            ddb::AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ddb::ScalarAttributeType::from(kind.as_str()))
                .build()
                .map_err(|e| build_error(&name, e))?,
        );
    }
    let mut create = dynamodb
        .create_table()
        .table_name(&name)
        .set_key_schema(Some(key_schema))
        .set_attribute_definitions(Some(definitions));
    create = match spec.billing_mode {
        BillingMode::PayPerRequest => create.billing_mode(ddb::BillingMode::PayPerRequest),
        BillingMode::Provisioned {
            read_units,
            write_units,
        } => create
            .billing_mode(ddb::BillingMode::Provisioned)
            .provisioned_throughput(
                ddb::ProvisionedThroughput::builder()
                    .read_capacity_units(read_units)
                    .write_capacity_units(write_units)
                    .build()
                    .map_err(|e| build_error(&name, e))?,
            ),
    };
    let arn = match create.send().await {
        Ok(output) => output.table_description.and_then(|d| d.table_arn),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            None
        }
        Err(e) => return Err(aws_error("CreateTable", &name, e)),
    };
    // Also for a new table: it must be ACTIVE before UpdateTimeToLive.
    let description = wait_active(dynamodb, &name).await?;
    check_keys(logical_id, &name, spec, &description)?;
    let arn = arn
        .or(description.table_arn)
        .ok_or_else(|| LocalStackError::IncompleteResponse {
            operation: "DescribeTable",
            resource: name.clone(),
            missing: "TableArn",
        })?;

    if let Some(attribute) = &spec.ttl_attribute {
        enable_ttl(dynamodb, logical_id, &name, attribute).await?;
    }
    Ok(PhysicalResource::Table { name, arn })
}

async fn wait_active(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<ddb::TableDescription, LocalStackError> {
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
    loop {
        let description = dynamodb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| aws_error("DescribeTable", name, e))?
            .table
            .ok_or_else(|| LocalStackError::IncompleteResponse {
                operation: "DescribeTable",
                resource: name.to_owned(),
                missing: "Table",
            })?;
        if description.table_status == Some(ddb::TableStatus::Active) {
            return Ok(description);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(LocalStackError::TableNotActive {
                name: name.to_owned(),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Keys cannot change in place: an existing table with other keys is stale local state.
fn check_keys(
    logical_id: &str,
    name: &str,
    spec: &TableSpec,
    description: &ddb::TableDescription,
) -> Result<(), LocalStackError> {
    let actual: Vec<(String, String)> = description
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_owned(),
                k.key_type().as_str().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = spec
        .key_schema
        .iter()
        .map(|k| (k.attribute_name.clone(), k.key_type.as_str().to_owned()))
        .collect();
    if actual != expected {
        return Err(LocalStackError::Conflict {
            logical_id: logical_id.to_owned(),
            name: name.to_owned(),
            problem: format!("key schema is {actual:?}, the template says {expected:?}"),
        });
    }
    Ok(())
}

async fn enable_ttl(
    dynamodb: &aws_sdk_dynamodb::Client,
    logical_id: &str,
    name: &str,
    attribute: &str,
) -> Result<(), LocalStackError> {
    let current = dynamodb
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| aws_error("DescribeTimeToLive", name, e))?
        .time_to_live_description;
    let status = current.as_ref().and_then(|d| d.time_to_live_status.clone());
    let current_attribute = current.as_ref().and_then(|d| d.attribute_name.as_deref());
    if matches!(
        status,
        Some(ddb::TimeToLiveStatus::Enabled | ddb::TimeToLiveStatus::Enabling)
    ) {
        // DynamoDB refuses to enable TTL twice, and a different attribute needs a disable first.
        if current_attribute == Some(attribute) {
            return Ok(());
        }
        return Err(LocalStackError::Conflict {
            logical_id: logical_id.to_owned(),
            name: name.to_owned(),
            problem: format!(
                "TTL is on attribute {current_attribute:?}, the template says {attribute:?}"
            ),
        });
    }
    dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            ddb::TimeToLiveSpecification::builder()
                .attribute_name(attribute)
                .enabled(true)
                .build()
                .map_err(|e| build_error(name, e))?,
        )
        .send()
        .await
        .map_err(|e| aws_error("UpdateTimeToLive", name, e))?;
    Ok(())
}

/// A secret with a random value made by the service itself (`GetRandomPassword`, as
/// `GenerateSecretString` does), or the existing one when it is there already: a rerun keeps
/// the key, so links issued before it keep working.
async fn create_secret(
    client: &aws_sdk_secretsmanager::Client,
    prefix: &str,
    logical_id: &str,
    spec: &crate::template::SecretSpec,
) -> Result<PhysicalResource, LocalStackError> {
    let name = format!("{prefix}-{logical_id}");
    if let Ok(existing) = client.describe_secret().secret_id(&name).send().await
        && let Some(arn) = existing.arn()
    {
        return Ok(PhysicalResource::Secret {
            name,
            arn: arn.to_owned(),
        });
    }
    let value = client
        .get_random_password()
        .password_length(i64::from(spec.password_length))
        .exclude_punctuation(spec.exclude_punctuation)
        .send()
        .await
        .map_err(|e| aws_error("GetRandomPassword", &name, e))?;
    let value = value
        .random_password()
        .ok_or(LocalStackError::IncompleteResponse {
            operation: "GetRandomPassword",
            resource: name.clone(),
            missing: "RandomPassword",
        })?;
    let created = client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| aws_error("CreateSecret", &name, e))?;
    let arn = created
        .arn()
        .ok_or(LocalStackError::IncompleteResponse {
            operation: "CreateSecret",
            resource: name.clone(),
            missing: "ARN",
        })?
        .to_owned();
    Ok(PhysicalResource::Secret { name, arn })
}

async fn create_bucket(
    s3: &aws_sdk_s3::Client,
    region: &str,
    prefix: &str,
    logical_id: &str,
    spec: &crate::template::BucketSpec,
) -> Result<PhysicalResource, LocalStackError> {
    let name = bucket_name(prefix, logical_id);
    check_length(logical_id, &name, MAX_BUCKET_NAME)?;
    let mut create = s3.create_bucket().bucket(&name);
    // us-east-1 is the one region that refuses an explicit location constraint.
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            s3::CreateBucketConfiguration::builder()
                .location_constraint(s3::BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
        Err(e) => return Err(aws_error("CreateBucket", &name, e)),
    }

    if let Some(block) = &spec.public_access_block {
        s3.put_public_access_block()
            .bucket(&name)
            .public_access_block_configuration(
                s3::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(block.block_public_acls)
                    .block_public_policy(block.block_public_policy)
                    .ignore_public_acls(block.ignore_public_acls)
                    .restrict_public_buckets(block.restrict_public_buckets)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| aws_error("PutPublicAccessBlock", &name, e))?;
    }
    if let Some(encryption) = &spec.encryption {
        // The algorithm as declared, without the template's KMS key (no KMS locally): moto
        // then behaves as with the AWS-managed key.
        let by_default = s3::ServerSideEncryptionByDefault::builder()
            .sse_algorithm(s3::ServerSideEncryption::from(
                encryption.sse_algorithm.as_str(),
            ))
            .build()
            .map_err(|e| build_error(&name, e))?;
        let rule = s3::ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(by_default)
            .set_bucket_key_enabled(encryption.bucket_key_enabled)
            .build();
        s3.put_bucket_encryption()
            .bucket(&name)
            .server_side_encryption_configuration(
                s3::ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| build_error(&name, e))?,
            )
            .send()
            .await
            .map_err(|e| aws_error("PutBucketEncryption", &name, e))?;
    }
    if let Some(ownership) = &spec.object_ownership {
        s3.put_bucket_ownership_controls()
            .bucket(&name)
            .ownership_controls(
                s3::OwnershipControls::builder()
                    .rules(
                        s3::OwnershipControlsRule::builder()
                            .object_ownership(s3::ObjectOwnership::from(ownership.as_str()))
                            .build()
                            .map_err(|e| build_error(&name, e))?,
                    )
                    .build()
                    .map_err(|e| build_error(&name, e))?,
            )
            .send()
            .await
            .map_err(|e| aws_error("PutBucketOwnershipControls", &name, e))?;
    }
    if let Some(status) = &spec.versioning {
        s3.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(
                s3::VersioningConfiguration::builder()
                    .status(s3::BucketVersioningStatus::from(status.as_str()))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| aws_error("PutBucketVersioning", &name, e))?;
    }
    // The bucket's TLS-only policy is not applied: the local endpoint is plain http.
    let arn = format!("arn:aws:s3:::{name}");
    Ok(PhysicalResource::Bucket { name, arn })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_that_would_make_invalid_names_are_refused() {
        assert!(check_prefix("dev").is_ok());
        assert!(check_prefix("t-1a2b").is_ok());
        for bad in ["", "-dev", "my_stack", "a.b", "xn--abc", "with space"] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_follow_prefix_and_logical_id() {
        assert_eq!(
            queue_name("dev", "IngestQueue", true),
            "dev-IngestQueue.fifo"
        );
        assert_eq!(queue_name("dev", "Plain", false), "dev-Plain");
        assert_eq!(table_name("dev", "ConfigTable"), "dev-ConfigTable");
        assert_eq!(bucket_name("Dev", "MediaBucket"), "dev-mediabucket");
    }

    #[test]
    fn dead_letter_queues_come_first() {
        let template = Template::from_yaml_str(
            r#"
Resources:
  A: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt B.Arn, maxReceiveCount: 1}}}
  B: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt C.Arn, maxReceiveCount: 1}}}
  C: {Type: AWS::SQS::Queue}
"#,
        )
        .unwrap();
        assert_eq!(redrive_order(&template).unwrap(), vec!["C", "B", "A"]);
    }
}
