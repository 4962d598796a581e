//! Component configs for the mock's org: the one place that knows both the
//! mock's credentials and the component's config record.

use salesforce_host::wit;
use salesforce_mock::Mock;

/// Configs and grants for a [`Mock`]'s connected app and integration user.
pub trait MockConfig {
    /// A config for this org's connected app at `login_url` (either
    /// listener), every other setting at its default.
    fn config(&self, login_url: &str, grant: wit::Grant) -> wit::Config;
    /// The integration user's password grant, security token included.
    fn password_grant(&self) -> wit::Grant;
}

impl MockConfig for Mock {
    fn config(&self, login_url: &str, grant: wit::Grant) -> wit::Config {
        let c = self.credentials();
        let mut config = wit::Config::new(grant);
        config.login_url = Some(login_url.to_string());
        config.client_id = Some(c.client_id.clone());
        config.client_secret = Some(c.client_secret.clone());
        config
    }

    fn password_grant(&self) -> wit::Grant {
        let c = self.credentials();
        wit::Grant::Password(wit::PasswordGrant {
            username: c.username.clone(),
            password: c.password.clone(),
            security_token: Some(c.security_token.clone()),
        })
    }
}
