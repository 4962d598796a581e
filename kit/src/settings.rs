//! The connector config from the host's environment, with the same
//! variables and the same grant inference as the `sf-host` CLI. A missing or
//! malformed variable is an `invalid-config` error naming the variable; no
//! message ever carries a value.

use crate::bindings::salesforce::connector::tools::Guardrails;
use crate::bindings::salesforce::connector::types::{
    AccessTokenGrant, ClientCredentialsGrant, Config, Error, FieldProblem, Grant, JwtBearerGrant,
    PasswordGrant, RefreshTokenGrant,
};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The environment as the host hands it over.
pub struct Env(Vec<(String, String)>);

impl Env {
    pub fn new(vars: Vec<(String, String)>) -> Self {
        Env(vars)
    }

    /// A set, non-empty variable.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    }

    fn require(&self, name: &str, grant: &str) -> Result<String, Error> {
        self.get(name)
            .ok_or_else(|| invalid(name, &format!("the {grant} grant needs {name}")))
    }

    fn number<T: core::str::FromStr>(&self, name: &str) -> Result<Option<T>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| invalid(name, &format!("{name} must be a whole number"))),
        }
    }
}

/// `invalid-config` naming `variable`.
pub fn invalid(variable: &str, message: &str) -> Error {
    Error::InvalidConfig(FieldProblem {
        field: variable.to_string(),
        message: message.to_string(),
    })
}

/// Which grant the variables ask for: `SF_GRANT`, else the first of an
/// SFDX auth URL, an access token, a private key, a refresh token, a
/// username with a password, then client credentials.
pub fn grant_kind(env: &Env) -> Result<&'static str, Error> {
    if let Some(g) = env.get("SF_GRANT") {
        return match g.as_str() {
            "jwt" | "jwt-bearer" => Ok("jwt"),
            "client-credentials" => Ok("client-credentials"),
            "password" => Ok("password"),
            "refresh-token" => Ok("refresh-token"),
            "access-token" => Ok("access-token"),
            _ => Err(invalid(
                "SF_GRANT",
                "SF_GRANT must be jwt, client-credentials, refresh-token, access-token or password",
            )),
        };
    }
    let kind = if env.get("SF_AUTH_URL").is_some() {
        "sfdx-url"
    } else if env.get("SF_ACCESS_TOKEN").is_some() {
        "access-token"
    } else if env.get("SF_PRIVATE_KEY").is_some() {
        "jwt"
    } else if env.get("SF_REFRESH_TOKEN").is_some() {
        "refresh-token"
    } else if env.get("SF_USERNAME").is_some() && env.get("SF_PASSWORD").is_some() {
        "password"
    } else {
        "client-credentials"
    };
    Ok(kind)
}

fn grant(env: &Env, kind: &str) -> Result<Grant, Error> {
    Ok(match kind {
        "password" => Grant::Password(PasswordGrant {
            username: env.require("SF_USERNAME", kind)?,
            password: env.require("SF_PASSWORD", kind)?,
            security_token: env.get("SF_SECURITY_TOKEN"),
        }),
        "jwt" => Grant::JwtBearer(JwtBearerGrant {
            username: env.require("SF_USERNAME", kind)?,
            private_key_pem: env.require("SF_PRIVATE_KEY", kind)?,
            audience: env.get("SF_AUDIENCE"),
        }),
        "refresh-token" => Grant::RefreshToken(RefreshTokenGrant {
            refresh_token: env.require("SF_REFRESH_TOKEN", kind)?,
        }),
        "access-token" => Grant::AccessToken(AccessTokenGrant {
            access_token: env.require("SF_ACCESS_TOKEN", kind)?,
            instance_url: env.require("SF_INSTANCE_URL", kind)?,
        }),
        _ => Grant::ClientCredentials(ClientCredentialsGrant { basic_auth: false }),
    })
}

/// The config the variables describe. `sfdx` is the connector's parse of
/// `SF_AUTH_URL` when the grant came from one.
pub fn config(env: &Env, sfdx: Option<Config>) -> Result<Config, Error> {
    let kind = grant_kind(env)?;
    let (grant, from_url) = match sfdx {
        Some(parsed) if kind == "sfdx-url" => {
            let grant = parsed.grant.clone();
            (grant, Some(parsed))
        }
        _ => (grant(env, kind)?, None),
    };
    let from_url = |f: fn(&Config) -> Option<String>| from_url.as_ref().and_then(f);
    Ok(Config {
        login_url: env
            .get("SF_LOGIN_URL")
            .or_else(|| from_url(|c| c.login_url.clone())),
        client_id: env
            .get("SF_CLIENT_ID")
            .or_else(|| from_url(|c| c.client_id.clone())),
        client_secret: env
            .get("SF_CLIENT_SECRET")
            .or_else(|| from_url(|c| c.client_secret.clone())),
        grant,
        api_version: env.get("SF_API_VERSION"),
        timeout_ms: env.number("SF_TIMEOUT_MS")?,
        deadline_ms: env.number("SF_DEADLINE_MS")?,
        max_response_bytes: env.number("SF_MAX_RESPONSE_BYTES")?,
        retry: None,
        allowed_hosts: None,
    })
}

/// The owner's guardrails: `SF_READ_ONLY` (true/false, 1/0, yes/no),
/// `SF_ALLOWED_OBJECTS` (comma-separated API names), `SF_MAX_ROWS` (at
/// least 1). Unset means not limited; a malformed one is refused rather than
/// read as "no limit".
pub fn guardrails(env: &Env) -> Result<Guardrails, Error> {
    let read_only = match env
        .get("SF_READ_ONLY")
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => false,
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => true,
        Some(v) if matches!(v.as_str(), "false" | "0" | "no") => false,
        Some(_) => {
            return Err(invalid(
                "SF_READ_ONLY",
                "SF_READ_ONLY must be true or false",
            ))
        }
    };
    let allowed_objects = match env.get("SF_ALLOWED_OBJECTS") {
        None => None,
        Some(list) => Some(object_names(&list)?),
    };
    let max_rows = match env.number::<u32>("SF_MAX_ROWS")? {
        Some(0) => return Err(invalid("SF_MAX_ROWS", "SF_MAX_ROWS must be at least 1")),
        n => n,
    };
    Ok(Guardrails {
        read_only,
        allowed_objects,
        max_rows,
    })
}

/// `Account, Contact` as API names; anything else is refused, so a typo can
/// never widen or empty the list unnoticed.
fn object_names(list: &str) -> Result<Vec<String>, Error> {
    let names: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    let api_name = |n: &String| {
        n.starts_with(|c: char| c.is_ascii_alphabetic())
            && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    match names.is_empty() || !names.iter().all(api_name) {
        true => Err(invalid(
            "SF_ALLOWED_OBJECTS",
            "SF_ALLOWED_OBJECTS must list object API names separated by commas, e.g. Account,Contact",
        )),
        false => Ok(names),
    }
}

/// The variable behind a config field the connector refused, so its error
/// names what the user sets.
pub fn variable_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "login-url" => "SF_LOGIN_URL",
        "client-id" => "SF_CLIENT_ID",
        "client-secret" => "SF_CLIENT_SECRET",
        "api-version" => "SF_API_VERSION",
        "timeout-ms" => "SF_TIMEOUT_MS",
        "deadline-ms" => "SF_DEADLINE_MS",
        "max-response-bytes" => "SF_MAX_RESPONSE_BYTES",
        "username" => "SF_USERNAME",
        "password" => "SF_PASSWORD",
        "security-token" => "SF_SECURITY_TOKEN",
        "private-key-pem" => "SF_PRIVATE_KEY",
        "audience" => "SF_AUDIENCE",
        "refresh-token" => "SF_REFRESH_TOKEN",
        "access-token" => "SF_ACCESS_TOKEN",
        "instance-url" => "SF_INSTANCE_URL",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::new(
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn infers_the_grant_as_the_cli_does() {
        let cases = [
            (vec![("SF_AUTH_URL", "force://a:b:c@x")], "sfdx-url"),
            (
                vec![("SF_ACCESS_TOKEN", "t"), ("SF_PRIVATE_KEY", "k")],
                "access-token",
            ),
            (
                vec![("SF_PRIVATE_KEY", "k"), ("SF_REFRESH_TOKEN", "r")],
                "jwt",
            ),
            (
                vec![("SF_REFRESH_TOKEN", "r"), ("SF_PASSWORD", "p")],
                "refresh-token",
            ),
            (vec![("SF_USERNAME", "u"), ("SF_PASSWORD", "p")], "password"),
            (vec![("SF_USERNAME", "u")], "client-credentials"),
            (
                vec![("SF_GRANT", "password"), ("SF_PRIVATE_KEY", "k")],
                "password",
            ),
        ];
        for (vars, kind) in cases {
            assert_eq!(grant_kind(&env(&vars)).ok(), Some(kind), "{vars:?}");
        }
    }

    #[test]
    fn a_missing_or_bad_variable_is_named_and_its_value_never_shown() {
        let secret = "s3cr3t-value";
        let cases = [
            (
                vec![("SF_GRANT", "jwt"), ("SF_PRIVATE_KEY", secret)],
                "SF_USERNAME",
            ),
            (
                vec![("SF_GRANT", "magic"), ("SF_PASSWORD", secret)],
                "SF_GRANT",
            ),
            (vec![("SF_ACCESS_TOKEN", secret)], "SF_INSTANCE_URL"),
            (
                vec![("SF_TIMEOUT_MS", "soon"), ("SF_CLIENT_SECRET", secret)],
                "SF_TIMEOUT_MS",
            ),
        ];
        for (vars, variable) in cases {
            match config(&env(&vars), None) {
                Err(Error::InvalidConfig(p)) => {
                    assert_eq!(p.field, variable);
                    assert!(!p.message.contains(secret) && p.message.contains(variable));
                }
                other => panic!("{vars:?}: {:?}", other.map(|_| ())),
            }
        }
    }

    #[test]
    fn guardrails_are_read_strictly() {
        let g = guardrails(&env(&[
            ("SF_READ_ONLY", "Yes"),
            ("SF_ALLOWED_OBJECTS", " Account, Invoice__c ,"),
            ("SF_MAX_ROWS", "200"),
        ]))
        .unwrap_or_else(|_| panic!("guardrails"));
        assert!(g.read_only);
        assert_eq!(
            g.allowed_objects,
            Some(vec!["Account".into(), "Invoice__c".into()])
        );
        assert_eq!(g.max_rows, Some(200));
        let none = guardrails(&env(&[])).unwrap_or_else(|_| panic!("none"));
        assert!(!none.read_only && none.allowed_objects.is_none() && none.max_rows.is_none());
        for (name, value) in [
            ("SF_READ_ONLY", "sure"),
            ("SF_ALLOWED_OBJECTS", ","),
            ("SF_ALLOWED_OBJECTS", "Account;Contact"),
            ("SF_MAX_ROWS", "0"),
            ("SF_MAX_ROWS", "lots"),
        ] {
            match guardrails(&env(&[(name, value)])) {
                Err(Error::InvalidConfig(p)) => assert_eq!(p.field, name),
                _ => panic!("{name}={value} is refused"),
            }
        }
    }

    #[test]
    fn the_variables_fill_the_config() {
        let vars = [
            ("SF_LOGIN_URL", "https://acme.my.salesforce.com"),
            ("SF_CLIENT_ID", "3MVG9"),
            ("SF_USERNAME", "u@acme.example"),
            ("SF_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----"),
            ("SF_DEADLINE_MS", "30000"),
        ];
        let c = config(&env(&vars), None).unwrap_or_else(|_| panic!("config"));
        assert_eq!(
            c.login_url.as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(c.deadline_ms, Some(30_000));
        assert!(matches!(c.grant, Grant::JwtBearer(ref g) if g.username == "u@acme.example"));
    }
}
