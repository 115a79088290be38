//! Media in S3: how long a stored attachment lives and the rule presigned URLs follow
//! (`expiry`), which addresses a media fetch may reach (`address_policy`), and the signed links
//! agents open (`link`) with their keys from Secrets Manager (`link_keys`).

pub mod address_policy;
pub mod expiry;
pub mod link;
pub mod link_keys;
