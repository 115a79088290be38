//! The key schema of both Switchboard tables, config and state: `pk` (partition) and `sk`
//! (sort), strings, on demand, as template.yaml declares them. For tests and local tools that
//! need a table of their own; deployed stacks and `make dev` get theirs from the template.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

use crate::error::AwsError;

/// Creates an empty table named `name` with the tables' key schema.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), AwsError> {
    let built = |what: &str, err: aws_sdk_dynamodb::error::BuildError| AwsError {
        operation: "CreateTable",
        code: None,
        http_status: None,
        retry: crate::error::Retry::Permanent,
        message: format!("{what}: {err}"),
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attribute, kind) in [("pk", KeyType::Hash), ("sk", KeyType::Range)] {
        request = request
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(attribute)
                    .key_type(kind)
                    .build()
                    .map_err(|err| built("key schema", err))?,
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|err| built("attribute", err))?,
            );
    }
    request
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("CreateTable", &err))?;
    Ok(())
}
