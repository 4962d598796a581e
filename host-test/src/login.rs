//! `login` (any grant, or the device flow; `--alias` stores the org) and
//! `logout` (revoke at Salesforce, forget here).

use crate::cli::{Cli, Connection, GrantKind, Login};
use crate::orgs::{Alias, OrgFile, OrgStore, StoredOrg};
use crate::output;
use salesforce_host::{wit, Client, Connector, HostError};
use std::sync::Arc;
use std::time::Duration;

pub async fn login(cli: &Cli, args: &Login) -> Result<(), HostError> {
    // `login --org NAME` logs in again with the stored settings and stores
    // the result under the same name, unless --alias names another.
    let stored = cli.conn.org.as_deref().map(OrgFile::open).transpose()?;
    let conn = match &stored {
        Some(file) => file.org().options(&cli.conn)?,
        None => cli.conn.clone(),
    };
    let connector = crate::connector(cli)?;
    let (config, grant) = login_config(&connector, &conn, args.device).await?;
    let file = match target(args, stored.as_deref())? {
        Some(alias) => {
            // A secret stored before stays stored when `login --org` logs in again.
            let kept = stored
                .as_ref()
                .is_some_and(|f| f.org().client_secret.is_some());
            let org = StoredOrg::new(&conn, &config, grant, args.save_secret || kept);
            Some(OrgFile::new(OrgStore::locate()?, alias, org))
        }
        None => None,
    };
    if matches!(config.grant, wit::Grant::Password(_)) {
        eprintln!("{}", crate::cli::PASSWORD_FLOW_WARNING);
    }
    let options = crate::client_options(cli, file.as_ref().map(OrgFile::hook))?;
    let mut client = Client::new(connector, config, options)?;
    let session = if args.device {
        device_login(&mut client, args).await?
    } else {
        client.authenticate().await?.clone()
    };
    if let Some(file) = &file {
        store(&mut client, file, &session).await?;
    }
    if cli.json {
        println!("{}", output::session_json(&session, args.show_token));
    } else {
        print!("{}", output::session_text(&session, args.show_token));
    }
    Ok(())
}

/// The alias to store the login under: --alias, else the --org logged in again.
fn target(args: &Login, stored: Option<&OrgFile>) -> Result<Option<Alias>, HostError> {
    match (&args.alias, stored) {
        (Some(name), _) => Alias::parse(name).map(Some),
        (None, Some(file)) => Ok(Some(file.alias().clone())),
        (None, None) if args.save_secret => Err(HostError::Usage(
            "--save-secret stores the secret with the org: add --alias NAME".into(),
        )),
        (None, None) => Ok(None),
    }
}

/// The config to log in with, and the grant that will renew the stored org.
async fn login_config(
    connector: &Connector,
    conn: &Connection,
    device: bool,
) -> Result<(wit::Config, GrantKind), HostError> {
    if !device {
        return Ok((crate::config(connector, conn).await?, conn.inferred_grant()));
    }
    // The device flow uses the config's app and limits, never its grant; the
    // session it gives carries the refresh token that renews it.
    let mut conn = conn.clone();
    conn.grant = Some(GrantKind::ClientCredentials);
    Ok((conn.config(None)?, GrantKind::RefreshToken))
}

async fn device_login(client: &mut Client, args: &Login) -> Result<wit::Session, HostError> {
    let deadline = Duration::from_secs(args.approval_timeout);
    let show = |d: &wit::DeviceAuthorization| {
        eprintln!("Open {} and enter {}", d.verification_uri, d.user_code);
        eprintln!("Waiting up to {} s for approval...", deadline.as_secs());
    };
    let session = client
        .device_login(args.scope.as_deref(), deadline, show)
        .await?;
    Ok(session.clone())
}

/// The session hook stored the session as it arrived; add what only the
/// finished login knows: who logged in, and whether a refresh token renews it.
async fn store(
    client: &mut Client,
    file: &Arc<OrgFile>,
    session: &wit::Session,
) -> Result<(), HostError> {
    let username = match file.org().username {
        Some(known) => Some(known),
        None => username(client).await,
    };
    let renewable = session.refresh_token.is_some();
    let path = file.update(|org| {
        org.username = username;
        if org.grant == GrantKind::RefreshToken && !renewable {
            // A device login without the `refresh_token` scope: the session
            // works until it expires, then the org needs a new login.
            org.grant = GrantKind::AccessToken;
        }
    })?;
    if file.org().grant == GrantKind::AccessToken {
        eprintln!(
            "note: org `{}` has no refresh token; log in again when its session expires",
            file.alias()
        );
    }
    eprintln!(
        "stored org `{}` in {} (mode 0600)",
        file.alias(),
        path.display()
    );
    Ok(())
}

/// `preferred_username` from the identity service; none if it cannot tell.
async fn username(client: &mut Client) -> Option<String> {
    let info = client.userinfo().await.ok()?;
    let v: serde_json::Value = serde_json::from_str(&info.body).ok()?;
    v["preferred_username"].as_str().map(str::to_string)
}

pub async fn logout(cli: &Cli, all: bool) -> Result<(), HostError> {
    let aliases = match (all, &cli.conn.org) {
        (true, _) => OrgStore::locate()?.aliases()?,
        (false, Some(name)) => vec![Alias::parse(name)?],
        (false, None) => {
            return Err(HostError::Usage(
                "logout needs --org NAME (or SF_ORG), or --all".into(),
            ))
        }
    };
    // The first failure is returned (main prints it, and its exit code is
    // the command's); later ones are printed here.
    let mut first_failure = None;
    for alias in aliases {
        match (logout_one(cli, &alias.to_string()).await, &first_failure) {
            (Ok(()), _) => {}
            (Err(e), None) => first_failure = Some(e),
            (Err(e), Some(_)) => eprintln!("error: {e}"),
        }
    }
    first_failure.map_or(Ok(()), Err)
}

/// Revokes and forgets one org. A refusal from Salesforce (the token is
/// already revoked or invalid) leaves nothing worth keeping, so the file
/// goes; any other failure may have left the token valid, so it stays.
async fn logout_one(cli: &Cli, name: &str) -> Result<(), HostError> {
    let file = OrgFile::open(name)?;
    let mut conn = file.org().options(&cli.conn)?;
    // Revocation uses the login URL and limits, never the grant: a password
    // org logs out without its password, a JWT org without its key.
    conn.grant = Some(GrantKind::ClientCredentials);
    let config = conn.config(None)?;
    let options = crate::client_options(cli, None)?;
    let mut client = Client::new(crate::connector(cli)?, config, options)?;
    let Some(session) = file.org().stored_session(&conn) else {
        file.forget()?;
        eprintln!("org `{name}` had no session to revoke; forgotten here");
        return Ok(());
    };
    client.restore_session(session);
    let revoked = client.revoke().await;
    match &revoked {
        Ok(()) => {
            file.forget()?;
            eprintln!("logged out of `{name}`: revoked at Salesforce and forgotten here");
        }
        Err(e) if refused_by_salesforce(e) => {
            file.forget()?;
            eprintln!("org `{name}` forgotten here, but Salesforce refused to revoke its token");
        }
        Err(_) => eprintln!(
            "org `{name}` is still stored in {}: revoking it failed",
            file.path().display()
        ),
    }
    revoked
}

fn refused_by_salesforce(e: &HostError) -> bool {
    matches!(e, HostError::Component(wit::Error::AuthenticationFailed(o)) if (400..500).contains(&o.status))
}
