//! Plugin options: a TOML table deserialized into a plugin's own config struct.
//!
//! Every plugin (method, dataset, encoder) declares a `serde` struct with defaults and
//! `#[serde(deny_unknown_fields, rename_all = "kebab-case")]`. [`parse_options`] turns the table
//! from `benchmarks.toml` into that struct, and an unknown key becomes an error that names the
//! valid keys.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The raw options of a plugin, as written in `benchmarks.toml`.
pub type Options = toml::Table;

/// Deserializes `options` into `T`, naming `context` (for example "options of method `g2d`") in
/// the error.
pub fn parse_options<T: DeserializeOwned>(context: &str, options: &Options) -> Result<T> {
    T::deserialize(toml::Value::Table(options.clone()))
        .map_err(|e| Error::config(context, e.message().trim().to_string()))
}

/// Serializes a plugin config back into a TOML table, for the resolved config of a cell.
pub fn to_options<T: serde::Serialize>(value: &T) -> Options {
    match toml::Value::try_from(value) {
        Ok(toml::Value::Table(t)) => t,
        _ => Options::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct Demo {
        #[serde(default)]
        alpha: f64,
        #[serde(default)]
        hidden_dim: i64,
    }

    #[test]
    fn unknown_key_error_lists_valid_keys() {
        let opts: Options = toml::from_str("alpah = 1.0").unwrap();
        let err = parse_options::<Demo>("options of method `demo`", &opts).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("options of method `demo`"), "{msg}");
        assert!(msg.contains("alpah"), "{msg}");
        assert!(msg.contains("alpha") && msg.contains("hidden-dim"), "{msg}");
    }

    #[test]
    fn kebab_case_keys_parse() {
        let opts: Options = toml::from_str("alpha = 0.5\nhidden-dim = 3").unwrap();
        let d: Demo = parse_options("x", &opts).unwrap();
        assert_eq!(d.alpha, 0.5);
        assert_eq!(d.hidden_dim, 3);
    }
}
