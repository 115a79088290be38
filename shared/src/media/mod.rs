//! Media in S3: how long a stored attachment lives, and the rule presigned URLs follow.

pub mod expiry;
