//! Values in a CloudFormation template: literals and the intrinsic functions the local stack
//! can resolve (`Ref`, `Fn::GetAtt`, `Fn::Sub`), in their short (`!Ref X`) and long
//! (`{Ref: X}`) spellings.

use std::fmt;

use serde_yaml::Value;

use super::{TemplateError, invalid};

/// A value in the template: a literal, or one of the intrinsic functions the local stack can
/// resolve. Anything else is kept as `Unsupported` so that the error names it when (and only
/// when) someone needs its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Literal(String),
    Ref(String),
    GetAtt { resource: String, attribute: String },
    Sub(Vec<SubPart>),
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubPart {
    Text(String),
    Ref(String),
    GetAtt { resource: String, attribute: String },
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(s) => write!(f, "{s:?}"),
            Expr::Ref(name) => write!(f, "!Ref {name}"),
            Expr::GetAtt {
                resource,
                attribute,
            } => write!(f, "!GetAtt {resource}.{attribute}"),
            Expr::Sub(parts) => {
                write!(f, "!Sub '")?;
                for part in parts {
                    match part {
                        SubPart::Text(t) => write!(f, "{t}")?,
                        SubPart::Ref(name) => write!(f, "${{{name}}}")?,
                        SubPart::GetAtt {
                            resource,
                            attribute,
                        } => write!(f, "${{{resource}.{attribute}}}")?,
                    }
                }
                write!(f, "'")
            }
            Expr::Unsupported(function) => write!(f, "{function}"),
        }
    }
}

impl Expr {
    /// Reads a property value in any of CloudFormation's spellings: short form (`!Ref X`,
    /// which serde_yaml hands over as a tagged value), long form (`{Ref: X}`,
    /// `{"Fn::GetAtt": [X, Arn]}`), or a plain scalar.
    pub fn parse(value: &Value, location: &str) -> Result<Expr, TemplateError> {
        match value {
            Value::String(s) => Ok(Expr::Literal(s.clone())),
            Value::Number(n) => Ok(Expr::Literal(n.to_string())),
            Value::Bool(b) => Ok(Expr::Literal(b.to_string())),
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                let function = tag.trim_start_matches('!');
                Self::parse_function(function, &tagged.value, location)
            }
            Value::Mapping(map) if map.len() == 1 => {
                let Some((Value::String(key), argument)) = map.iter().next() else {
                    return Err(invalid(
                        location,
                        "expected a value or an intrinsic function",
                    ));
                };
                match key.as_str() {
                    "Ref" => Self::parse_function("Ref", argument, location),
                    other => match other.strip_prefix("Fn::") {
                        Some(function) => Self::parse_function(function, argument, location),
                        None => Err(invalid(
                            location,
                            format!(
                                "expected a value or an intrinsic function, found a mapping with key {other:?}"
                            ),
                        )),
                    },
                }
            }
            Value::Null => Err(invalid(location, "value is empty")),
            Value::Sequence(_) | Value::Mapping(_) => Err(invalid(
                location,
                "expected a scalar value or an intrinsic function",
            )),
        }
    }

    fn parse_function(
        function: &str,
        argument: &Value,
        location: &str,
    ) -> Result<Expr, TemplateError> {
        match function {
            "Ref" => match argument {
                Value::String(name) => Ok(Expr::Ref(name.clone())),
                _ => Err(invalid(
                    location,
                    "Ref takes a logical id or parameter name",
                )),
            },
            "GetAtt" => {
                let (resource, attribute) = match argument {
                    Value::String(dotted) => dotted
                        .split_once('.')
                        .map(|(r, a)| (r.to_owned(), a.to_owned()))
                        .ok_or_else(|| {
                            invalid(
                                location,
                                format!("GetAtt {dotted:?} is not LogicalId.Attribute"),
                            )
                        })?,
                    Value::Sequence(items) => match items.as_slice() {
                        [Value::String(r), Value::String(a)] => (r.clone(), a.clone()),
                        _ => return Err(invalid(location, "GetAtt takes [LogicalId, Attribute]")),
                    },
                    _ => return Err(invalid(location, "GetAtt takes LogicalId.Attribute")),
                };
                Ok(Expr::GetAtt {
                    resource,
                    attribute,
                })
            }
            "Sub" => match argument {
                Value::String(text) => Ok(Expr::Sub(parse_sub(text, location)?)),
                // The two-argument form defines its own variables; nothing needs it yet.
                _ => Ok(Expr::Unsupported("Fn::Sub with a variable map".to_owned())),
            },
            other => Ok(Expr::Unsupported(format!("Fn::{other}"))),
        }
    }
}

fn parse_sub(text: &str, location: &str) -> Result<Vec<SubPart>, TemplateError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| invalid(location, format!("unterminated ${{ in Sub {text:?}")))?;
        let variable = &after[..end];
        if let Some(escaped) = variable.strip_prefix('!') {
            // `${!Literal}` is how Sub writes a literal `${Literal}`.
            literal.push_str("${");
            literal.push_str(escaped);
            literal.push('}');
        } else {
            if !literal.is_empty() {
                parts.push(SubPart::Text(std::mem::take(&mut literal)));
            }
            // Pseudo parameters contain `::` but no dot; `X.Attr` is a GetAtt.
            match variable.split_once('.') {
                Some((resource, attribute)) if !variable.contains("::") => {
                    parts.push(SubPart::GetAtt {
                        resource: resource.to_owned(),
                        attribute: attribute.to_owned(),
                    })
                }
                _ => parts.push(SubPart::Ref(variable.to_owned())),
            }
        }
        rest = &after[end + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(SubPart::Text(literal));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(yaml: &str) -> Expr {
        let value: Value = serde_yaml::from_str(yaml).unwrap();
        Expr::parse(&value, "test").unwrap()
    }

    #[test]
    fn intrinsics_in_short_and_long_form() {
        assert_eq!(expr("!Ref Queue"), Expr::Ref("Queue".into()));
        assert_eq!(expr("{Ref: Queue}"), Expr::Ref("Queue".into()));
        let arn = Expr::GetAtt {
            resource: "Queue".into(),
            attribute: "Arn".into(),
        };
        assert_eq!(expr("!GetAtt Queue.Arn"), arn);
        assert_eq!(expr("!GetAtt [Queue, Arn]"), arn);
        assert_eq!(expr("{'Fn::GetAtt': [Queue, Arn]}"), arn);
        assert_eq!(expr("300"), Expr::Literal("300".into()));
        assert_eq!(expr("true"), Expr::Literal("true".into()));
        assert_eq!(expr("'x'"), Expr::Literal("x".into()));
        assert_eq!(expr("!If [C, a, b]"), Expr::Unsupported("Fn::If".into()));
        assert_eq!(
            expr("{'Fn::ImportValue': x}"),
            Expr::Unsupported("Fn::ImportValue".into())
        );
    }

    #[test]
    fn sub_splits_references_attributes_and_escapes() {
        assert_eq!(
            expr("!Sub 'arn:${AWS::Partition}:s3:::${Bucket}/${Queue.Arn}/${!Literal}'"),
            Expr::Sub(vec![
                SubPart::Text("arn:".into()),
                SubPart::Ref("AWS::Partition".into()),
                SubPart::Text(":s3:::".into()),
                SubPart::Ref("Bucket".into()),
                SubPart::Text("/".into()),
                SubPart::GetAtt {
                    resource: "Queue".into(),
                    attribute: "Arn".into()
                },
                SubPart::Text("/${Literal}".into()),
            ])
        );
        let value: Value = serde_yaml::from_str("!Sub 'broken ${x'").unwrap();
        assert!(Expr::parse(&value, "test").is_err());
    }
}
