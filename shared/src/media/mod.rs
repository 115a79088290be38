//! Media in S3: how long a stored attachment lives and the rule presigned URLs follow
//! (`expiry`), which addresses a media fetch may reach (`address_policy`), and the signed links
//! agents open (`link`).

pub mod address_policy;
pub mod expiry;
pub mod link;
