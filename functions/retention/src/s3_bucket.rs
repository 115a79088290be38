//! The bucket port on S3: ListObjectsV2 and DeleteObjects, errors kept as retryable or
//! permanent ([`AwsError`]).

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use switchboard_shared::error::{AwsError, Retry};

use crate::bucket::{Bucket, KeyFailure, MAX_BATCH, Page, StoredObject};

#[derive(Debug, Clone)]
pub struct S3Bucket {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Bucket {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> S3Bucket {
        S3Bucket {
            client,
            bucket: bucket.into(),
        }
    }
}

/// A request the SDK refused to build: a bug here, not something a retry fixes.
fn unbuildable(operation: &'static str, problem: impl std::fmt::Display) -> AwsError {
    AwsError {
        operation,
        code: None,
        http_status: None,
        retry: Retry::Permanent,
        message: format!("the request could not be built: {problem}"),
    }
}

impl Bucket for S3Bucket {
    async fn list(
        &self,
        prefix: &str,
        delimited: bool,
        continuation: Option<&str>,
    ) -> Result<Page, AwsError> {
        let mut request = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(MAX_BATCH as i32)
            .set_continuation_token(continuation.map(str::to_owned));
        if delimited {
            request = request.delimiter("/");
        }
        let answer = request
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("ListObjectsV2", &err))?;
        Ok(Page {
            prefixes: answer
                .common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned))
                .collect(),
            objects: answer
                .contents()
                .iter()
                .filter_map(|object| {
                    Some(StoredObject {
                        key: object.key()?.to_owned(),
                        size: object.size().unwrap_or(0).max(0) as u64,
                        last_modified: object.last_modified().and_then(|t| {
                            chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
                        }),
                    })
                })
                .collect(),
            next: if answer.is_truncated() == Some(true) {
                answer.next_continuation_token().map(str::to_owned)
            } else {
                None
            },
        })
    }

    async fn delete(&self, keys: &[String]) -> Result<Vec<KeyFailure>, AwsError> {
        let objects = keys
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| unbuildable("DeleteObjects", err))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            // Quiet: S3 answers with the failures only; everything else was deleted.
            .quiet(true)
            .build()
            .map_err(|err| unbuildable("DeleteObjects", err))?;
        let answer = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("DeleteObjects", &err))?;
        Ok(answer
            .errors()
            .iter()
            .map(|error| KeyFailure {
                key: error.key().unwrap_or_default().to_owned(),
                code: error.code().unwrap_or("unknown").to_owned(),
            })
            .collect())
    }
}
