//! An `AWS::Serverless::Function` as the local stack needs it: how it is built and run, its
//! environment, and the event sources that invoke it.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::events::{EventSource, parse_event};
use super::{Expr, Template, TemplateError, invalid, sequence};

/// The build method whose functions are Rust binaries of this workspace: the ones the local
/// tooling builds, runs and benchmarks.
pub const CARGO_LAMBDA: &str = "rust-cargolambda";

/// One entry of a function's `Events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionEvent {
    pub name: String,
    pub source: EventSource,
}

/// An `AWS::Serverless::Function` after merging `Globals.Function` into it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FunctionSpec {
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub architectures: Vec<String>,
    pub code_uri: Option<String>,
    pub build_method: Option<String>,
    /// `Metadata.BuildProperties.Binary`: the workspace binary cargo-lambda builds.
    pub build_binary: Option<String>,
    pub timeout_secs: Option<u32>,
    pub memory_mb: Option<u32>,
    /// `ReservedConcurrentExecutions` (a literal, or a parameter's default): the most instances
    /// of the function that may run at once.
    pub reserved_concurrency: Option<u32>,
    pub environment: BTreeMap<String, Expr>,
    pub events: Vec<FunctionEvent>,
}

impl FunctionSpec {
    /// The cargo binary of a function built by cargo-lambda; `None` for any other function.
    pub fn cargo_binary(&self) -> Option<&str> {
        match self.build_method.as_deref() {
            Some(CARGO_LAMBDA) => self.build_binary.as_deref(),
            _ => None,
        }
    }

    /// Lambda's default when the template sets no Timeout.
    pub fn timeout_secs_or_default(&self) -> u32 {
        self.timeout_secs.unwrap_or(3)
    }
}

pub(super) fn parse_function(
    template: &Template,
    id: &str,
    resource: &Value,
    properties: &Mapping,
    globals: Option<&Mapping>,
) -> Result<FunctionSpec, TemplateError> {
    // SAM's Globals: a function's own value wins; environment variables are merged.
    let property = |name: &str| {
        properties
            .get(name)
            .or_else(|| globals.and_then(|g| g.get(name)))
    };
    let location = |name: &str| format!("{id}.Properties.{name}");
    let string = |name: &str| -> Result<Option<String>, TemplateError> {
        match property(name) {
            None => Ok(None),
            Some(value) => match Expr::parse(value, &location(name))? {
                Expr::Literal(s) => Ok(Some(s)),
                other => Err(invalid(
                    location(name),
                    format!("expected a literal, found {other}"),
                )),
            },
        }
    };
    let number = |name: &str| -> Result<Option<u32>, TemplateError> {
        match string(name)? {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                invalid(
                    location(name),
                    format!("expected a whole number, found {text:?}"),
                )
            }),
        }
    };

    let mut architectures = Vec::new();
    if let Some(value) = property("Architectures") {
        for item in sequence(value, &location("Architectures"))? {
            match Expr::parse(item, &location("Architectures"))? {
                Expr::Literal(s) => architectures.push(s),
                other => {
                    return Err(invalid(
                        location("Architectures"),
                        format!("expected a literal, found {other}"),
                    ));
                }
            }
        }
    }

    let mut environment = BTreeMap::new();
    let global_variables = globals
        .and_then(|g| g.get("Environment"))
        .and_then(|e| e.get("Variables"));
    let own_variables = properties
        .get("Environment")
        .and_then(|e| e.get("Variables"));
    for variables in [global_variables, own_variables].into_iter().flatten() {
        let map = variables
            .as_mapping()
            .ok_or_else(|| invalid(location("Environment.Variables"), "expected a mapping"))?;
        for (name, value) in map {
            let name = name.as_str().ok_or_else(|| {
                invalid(
                    location("Environment.Variables"),
                    "a variable name is not a string",
                )
            })?;
            let expr = Expr::parse(value, &location(&format!("Environment.Variables.{name}")))?;
            environment.insert(name.to_owned(), expr);
        }
    }

    let mut events = Vec::new();
    if let Some(value) = properties.get("Events") {
        let map = value
            .as_mapping()
            .ok_or_else(|| invalid(location("Events"), "expected a mapping"))?;
        for (name, event) in map {
            let name = name
                .as_str()
                .ok_or_else(|| invalid(location("Events"), "an event name is not a string"))?;
            let at = location(&format!("Events.{name}"));
            events.push(FunctionEvent {
                name: name.to_owned(),
                source: parse_event(template, event, &at)?,
            });
        }
    }

    let build = |key: &str| {
        resource
            .get("Metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let build_binary = resource
        .get("Metadata")
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|p| p.get("Binary"))
        .and_then(Value::as_str)
        .map(str::to_owned);

    let build_method = build("BuildMethod");
    if build_method.as_deref() == Some(CARGO_LAMBDA) && build_binary.is_none() {
        return Err(invalid(
            format!("{id}.Metadata.BuildProperties.Binary"),
            "a rust-cargolambda function must name its workspace binary",
        ));
    }

    Ok(FunctionSpec {
        runtime: string("Runtime")?,
        handler: string("Handler")?,
        architectures,
        code_uri: string("CodeUri")?,
        build_method,
        build_binary,
        timeout_secs: number("Timeout")?,
        memory_mb: number("MemorySize")?,
        reserved_concurrency: match property("ReservedConcurrentExecutions") {
            None => None,
            Some(value) => {
                let at = location("ReservedConcurrentExecutions");
                let text = template.static_value(value, &at)?;
                Some(
                    text.parse().map_err(|_| {
                        invalid(at, format!("expected a whole number, found {text:?}"))
                    })?,
                )
            }
        },
        environment,
        events,
    })
}
