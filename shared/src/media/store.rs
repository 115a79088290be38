//! Streaming a download into S3 as it arrives: bytes are buffered up to one part, so memory is
//! bounded by the part size whatever the file size. Below one part, a single PutObject; above,
//! a multipart upload (aborted if anything goes wrong, and the bucket's lifecycle rule removes
//! any upload left incomplete). A SHA-256 of the bytes is computed on the way.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};

use crate::error::AwsError;

/// S3's smallest part (except the last) is 5 MiB; 8 MiB keeps the request count low.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub size_bytes: u64,
    pub sha256_hex: String,
}

pub trait MediaStore: Send + Sync {
    type Upload: Upload;
    fn begin(&self, key: &str, content_type: &str, filename: &str) -> Self::Upload;
}

pub trait Upload: Send {
    fn write(&mut self, chunk: Bytes) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn finish(self) -> impl Future<Output = Result<StoredObject, AwsError>> + Send;
    fn abort(self) -> impl Future<Output = ()> + Send;
}

/// `attachment; filename="…"` with only safe characters, so a browser saves rather than renders.
pub fn content_disposition(filename: &str) -> String {
    format!(
        "attachment; filename=\"{}\"",
        filename.replace(['"', '\\'], "_")
    )
}

#[derive(Debug, Clone)]
pub struct S3MediaStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3MediaStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> S3MediaStore {
        S3MediaStore {
            client,
            bucket: bucket.into(),
        }
    }
}

pub struct S3Upload {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    content_type: String,
    disposition: String,
    buffer: BytesMut,
    hasher: Sha256,
    size: u64,
    multipart: Option<(String, Vec<CompletedPart>)>,
}

impl MediaStore for S3MediaStore {
    type Upload = S3Upload;

    fn begin(&self, key: &str, content_type: &str, filename: &str) -> S3Upload {
        S3Upload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            content_type: content_type.to_owned(),
            disposition: content_disposition(filename),
            buffer: BytesMut::new(),
            hasher: Sha256::new(),
            size: 0,
            multipart: None,
        }
    }
}

impl S3Upload {
    async fn flush_part(&mut self) -> Result<(), AwsError> {
        if self.multipart.is_none() {
            let created = self
                .client
                .create_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type(&self.content_type)
                .content_disposition(&self.disposition)
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("CreateMultipartUpload", &err))?;
            let id = created.upload_id.unwrap_or_default();
            self.multipart = Some((id, Vec::new()));
        }
        let part = self.buffer.split().freeze();
        let Some((upload_id, parts)) = self.multipart.as_mut() else {
            return Ok(());
        };
        let number = parts.len() as i32 + 1;
        let uploaded = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id.as_str())
            .part_number(number)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("UploadPart", &err))?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(uploaded.e_tag)
                .build(),
        );
        Ok(())
    }
}

impl Upload for S3Upload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), AwsError> {
        self.hasher.update(&chunk);
        self.size += chunk.len() as u64;
        self.buffer.extend_from_slice(&chunk);
        while self.buffer.len() >= PART_SIZE {
            let rest = self.buffer.split_off(PART_SIZE);
            self.flush_part().await?;
            self.buffer = rest;
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<StoredObject, AwsError> {
        let stored = StoredObject {
            size_bytes: self.size,
            sha256_hex: hex::encode(self.hasher.clone().finalize()),
        };
        if self.multipart.is_none() {
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type(&self.content_type)
                .content_disposition(&self.disposition)
                .metadata("sha256", &stored.sha256_hex)
                .body(ByteStream::from(self.buffer.split().freeze()))
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("PutObject", &err))?;
            return Ok(stored);
        }
        if !self.buffer.is_empty() {
            self.flush_part().await?;
        }
        let Some((upload_id, parts)) = self.multipart.take() else {
            return Ok(stored);
        };
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("CompleteMultipartUpload", &err))?;
        Ok(stored)
    }

    async fn abort(mut self) {
        if let Some((upload_id, _)) = self.multipart.take() {
            // Best effort: the lifecycle rule removes incomplete uploads anyway.
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .upload_id(upload_id)
                .send()
                .await;
        }
    }
}

/// Objects kept in memory: key → (content type, bytes).
pub type MemoryObjects = Arc<Mutex<HashMap<String, (String, Vec<u8>)>>>;

/// For handler tests.
#[derive(Default, Clone)]
pub struct MemoryMediaStore {
    pub objects: MemoryObjects,
}

pub struct MemoryUpload {
    objects: MemoryObjects,
    key: String,
    content_type: String,
    bytes: Vec<u8>,
}

impl MediaStore for MemoryMediaStore {
    type Upload = MemoryUpload;

    fn begin(&self, key: &str, content_type: &str, _filename: &str) -> MemoryUpload {
        MemoryUpload {
            objects: Arc::clone(&self.objects),
            key: key.to_owned(),
            content_type: content_type.to_owned(),
            bytes: Vec::new(),
        }
    }
}

impl Upload for MemoryUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), AwsError> {
        self.bytes.extend_from_slice(&chunk);
        Ok(())
    }

    async fn finish(self) -> Result<StoredObject, AwsError> {
        let stored = StoredObject {
            size_bytes: self.bytes.len() as u64,
            sha256_hex: hex::encode(Sha256::digest(&self.bytes)),
        };
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(self.key, (self.content_type, self.bytes));
        Ok(stored)
    }

    async fn abort(self) {}
}
