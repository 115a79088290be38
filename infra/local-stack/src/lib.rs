//! The local stack: `template.yaml` read (resources, parameters, functions with their event
//! sources) and its queues, tables and bucket created on a local AWS endpoint (moto), so
//! `make dev` and `make test` run against what the template deploys.

pub mod local_stack;
pub mod template;

pub use local_stack::{LocalStack, LocalStackError, PhysicalResource};
pub use template::{Template, TemplateError};
