//! A client for one org: holds the config and the session, re-authenticates
//! once when the session expires, and never logs in per call.

use crate::bindings::wit;
use crate::connector::Connector;
use crate::egress::{Egress, Policy};
use crate::error::HostError;
use crate::send::Sender;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Host-side settings that are not part of the component's config.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// PEM CA certificates to trust besides the web roots (the mock's CA).
    pub extra_ca_pem: Option<String>,
    /// Origins the guest may reach besides the login and instance hosts.
    pub allow_origins: Vec<String>,
}

pub struct Client {
    connector: Arc<Connector>,
    config: wit::Config,
    policy: Arc<Policy>,
    sender: Sender,
    session: Option<wit::Session>,
    logins: usize,
    denied: Arc<AtomicUsize>,
}

/// Never prints the config or session: both hold secrets.
impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("component", &self.connector.path())
            .field("allowed_origins", &self.policy.origins())
            .field("authenticated", &self.session.is_some())
            .field("logins", &self.logins)
            .finish_non_exhaustive()
    }
}

fn login_origin(config: &wit::Config) -> Option<&str> {
    match &config.grant {
        wit::Grant::AccessToken(g) => Some(g.instance_url.as_str()),
        _ => Some(
            config
                .login_url
                .as_deref()
                .unwrap_or("https://login.salesforce.com"),
        ),
    }
}

impl Client {
    pub fn new(
        connector: Arc<Connector>,
        config: wit::Config,
        options: ClientOptions,
    ) -> Result<Self, HostError> {
        let sender = Sender::new(options.extra_ca_pem.as_deref()).map_err(HostError::Usage)?;
        let policy = Arc::new(Policy::default());
        if let Some(o) = login_origin(&config) {
            policy.allow(o);
        }
        for o in &options.allow_origins {
            policy.allow(o);
        }
        Ok(Self {
            connector,
            config,
            policy,
            sender,
            session: None,
            logins: 0,
            denied: Arc::default(),
        })
    }

    fn egress(&self) -> Egress {
        Egress {
            policy: self.policy.clone(),
            sender: self.sender.clone(),
            denied: self.denied.clone(),
        }
    }

    /// How many times `authenticate` ran the OAuth flow.
    pub fn logins(&self) -> usize {
        self.logins
    }

    /// How many requests the egress policy refused.
    pub fn denied_requests(&self) -> usize {
        self.denied.load(Ordering::Relaxed)
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn can_reauthenticate(&self) -> bool {
        !matches!(self.config.grant, wit::Grant::AccessToken(_))
    }

    /// Runs the OAuth flow now and keeps the session.
    pub async fn authenticate(&mut self) -> Result<&wit::Session, HostError> {
        let (mut store, instance) = self.connector.instantiate(self.egress()).await?;
        self.logins += 1;
        let result = instance
            .salesforce_connector_connector()
            .call_authenticate(&mut store, &self.config)
            .await
            .map_err(|e| HostError::Trap(e.to_string()))?;
        let session = result?;
        // The login host chose the instance; trust it only on a Salesforce
        // domain (or loopback). Anything else stays denied, so the guest's
        // calls fail with `denied` instead of carrying the token away.
        if crate::egress::is_trusted_instance(&session.instance_url) {
            self.policy.allow(&session.instance_url);
        }
        Ok(self.session.insert(session))
    }

    /// The current session, authenticating first if there is none.
    pub async fn session(&mut self) -> Result<&wit::Session, HostError> {
        if self.session.is_none() {
            self.authenticate().await?;
        }
        Ok(self.session.as_ref().expect("set above"))
    }

    async fn call_once(
        &mut self,
        request: &wit::Request,
    ) -> Result<Result<wit::Response, wit::Error>, HostError> {
        let session = self.session().await?.clone();
        let (mut store, instance) = self.connector.instantiate(self.egress()).await?;
        instance
            .salesforce_connector_connector()
            .call_call(&mut store, &session, request)
            .await
            .map_err(|e| HostError::Trap(e.to_string()))
    }

    /// One REST call. On `session-expired` it re-authenticates once and
    /// retries once; a second expiry is returned, never looped on.
    pub async fn call(&mut self, request: &wit::Request) -> Result<wit::Response, HostError> {
        match self.call_once(request).await? {
            Err(wit::Error::SessionExpired(_)) if self.can_reauthenticate() => {
                self.session = None;
                self.authenticate().await?;
                Ok(self.call_once(request).await??)
            }
            other => Ok(other?),
        }
    }

    pub async fn authorize_url(
        &self,
        request: &wit::AuthorizeRequest,
    ) -> Result<wit::AuthorizeStart, HostError> {
        let (mut store, instance) = self.connector.instantiate(self.egress()).await?;
        Ok(instance
            .salesforce_connector_connector()
            .call_authorize_url(&mut store, request)
            .await
            .map_err(|e| HostError::Trap(e.to_string()))??)
    }
}

/// Parses an SFDX auth URL with the component.
pub async fn parse_sfdx_url(connector: &Connector, url: &str) -> Result<wit::Config, HostError> {
    let egress = Egress {
        policy: Arc::default(),
        sender: Sender::new(None).map_err(HostError::Usage)?,
        denied: Arc::default(),
    };
    let (mut store, instance) = connector.instantiate(egress).await?;
    Ok(instance
        .salesforce_connector_connector()
        .call_parse_sfdx_url(&mut store, url)
        .await
        .map_err(|e| HostError::Trap(e.to_string()))??)
}

/// A GET request with no query, headers or body.
pub fn get(path: impl Into<String>) -> wit::Request {
    wit::Request {
        method: wit::Method::Get,
        path: path.into(),
        query: Vec::new(),
        headers: Vec::new(),
        body: None,
    }
}
