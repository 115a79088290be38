//! The `KEY=VALUE` file format of `switchboard-admin local-stack`: read alike by a POSIX shell
//! (`set -a; . file`) and by make (`include`), which means no quoting at all.

use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
#[error(
    "{variable}={value:?} cannot be written as an unquoted KEY=VALUE line (for both shell and make); \
     use --format json"
)]
pub struct UnsafeEnvValue {
    pub variable: String,
    pub value: String,
}

/// KEY=VALUE lines, sorted; values that would need quoting are refused instead.
pub fn env_lines(environment: &BTreeMap<String, String>) -> Result<String, UnsafeEnvValue> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.:/@%+,=~".contains(c);
    let mut lines = String::new();
    for (variable, value) in environment {
        if !value.chars().all(safe) {
            return Err(UnsafeEnvValue {
                variable: variable.clone(),
                value: value.clone(),
            });
        }
        lines.push_str(variable);
        lines.push('=');
        lines.push_str(value);
        lines.push('\n');
    }
    Ok(lines)
}

/// Reads the lines [`env_lines`] writes (blank lines and `#` comments skipped).
pub fn read_env_lines(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut environment = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| format!("line {}: expected KEY=VALUE", number + 1))?;
        environment.insert(name.to_owned(), value.to_owned());
    }
    Ok(environment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        let environment = BTreeMap::from([
            ("A".to_owned(), "x=y".to_owned()),
            ("B".to_owned(), "http://h:1/q.fifo".to_owned()),
        ]);
        let text = env_lines(&environment).unwrap();
        assert_eq!(read_env_lines(&text).unwrap(), environment);
        assert!(read_env_lines("no equals sign").is_err());
        assert!(read_env_lines("=value").is_err());
    }

    #[test]
    fn env_lines_are_sorted_and_refuse_values_that_need_quoting() {
        let mut environment = BTreeMap::new();
        environment.insert(
            "B".to_owned(),
            "http://127.0.0.1:5000/123456789012/x-Q.fifo".to_owned(),
        );
        environment.insert("A".to_owned(), "info".to_owned());
        assert_eq!(
            env_lines(&environment).unwrap(),
            "A=info\nB=http://127.0.0.1:5000/123456789012/x-Q.fifo\n"
        );
        environment.insert("C".to_owned(), "two words".to_owned());
        assert!(env_lines(&environment).is_err());
        environment.insert("C".to_owned(), "$(x)".to_owned());
        assert!(env_lines(&environment).is_err());
    }
}
