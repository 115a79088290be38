//! Deployment and operations for Switchboard: the local stack derived from `template.yaml`
//! (moto stands in for AWS in `make dev` and `make test`), and what the `switchboard-admin`
//! CLI does with it.

pub mod local_stack;
pub mod template;

pub use local_stack::{LocalStack, LocalStackError, PhysicalResource};
pub use template::{Template, TemplateError};
