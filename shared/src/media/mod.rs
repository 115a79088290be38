//! Media in S3: how long a stored attachment lives and the rule presigned URLs follow
//! (`expiry`), which addresses a media fetch may reach (`address_policy`), the SSRF-safe fetch
//! (`fetch`) streamed into S3 (`store`) within a tenant's limits (`download`), shared by the
//! inbound stage and the outbound function, and the signed links agents open (`link`) with
//! their keys from Secrets Manager (`link_keys`).

pub mod address_policy;
pub mod download;
pub mod expiry;
pub mod fetch;
pub mod link;
pub mod link_keys;
pub mod store;
