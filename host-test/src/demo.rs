//! `sf-host demo`: every OAuth flow (recommended first), renewal with
//! rotation, a paged query and writes against the embedded mock, printed as
//! a transcript a newcomer can follow.

use salesforce_host::{wit, Client, ClientOptions, Connector, HostError};
use salesforce_mock::{Mock, MockOptions};
use serde_json::Value;
use sf_host::MockConfig;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn step(title: &str) {
    println!("\n== {title}");
}

fn describe(s: &wit::Session) -> String {
    format!(
        "instance {} · org {} · user {} · signature {}",
        s.instance_url,
        s.org_id.as_deref().unwrap_or("-"),
        s.user_id.as_deref().unwrap_or("-"),
        if s.signature_verified {
            "verified"
        } else {
            "not sent"
        }
    )
}

pub async fn run(component: Option<PathBuf>) -> Result<(), HostError> {
    let mock = Mock::start(MockOptions::default())
        .await
        .map_err(|e| HostError::Usage(format!("cannot start the mock: {e}")))?;
    let options = ClientOptions {
        extra_ca_pem: Some(mock.ca_pem().to_string()),
        ..Default::default()
    };
    step("mock Salesforce");
    println!(
        "http  {}\nhttps {} (CA {})",
        mock.http_url(),
        mock.https_url(),
        mock.ca_file().display()
    );

    let started = Instant::now();
    let connector = Arc::new(crate::load_component(component.as_deref())?);
    let size = match &component {
        Some(path) => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        None => sf_host::BUILTIN_COMPONENT.len() as u64,
    };
    step("component");
    println!(
        "{} ({} KB) loaded in {:.1?}",
        connector.path().display(),
        size / 1024,
        started.elapsed()
    );

    let first = oauth_flows(&mock, &connector, &options).await?;
    access_token_reuse(&connector, &options, &first).await?;

    // One client for the rest, as a platform would keep it.
    let creds = mock.credentials().clone();
    let key = std::fs::read_to_string(&creds.private_key_file)
        .map_err(|e| HostError::Usage(e.to_string()))?;
    let grant = wit::Grant::JwtBearer(wit::JwtBearerGrant {
        username: creds.username.clone(),
        private_key_pem: key,
        audience: None,
    });
    let mut client = Client::new(
        connector.clone(),
        mock.config(&mock.http_url(), grant),
        options.clone(),
    )?;
    paged_query(&mut client).await?;
    typed_operations(&mut client).await?;
    create_update_read_delete(&mut client).await?;
    expiry_and_refusal(&mock, &mut client).await?;
    typed_errors(&mock, &connector, &options, &mut client).await?;
    let logins = mock.token_requests();
    mock.shutdown().await;
    println!("\ndone: the mock served {logins} token requests in all");
    Ok(())
}

/// Every OAuth flow, recommended first; returns the first session.
async fn oauth_flows(
    mock: &Mock,
    connector: &Arc<Connector>,
    options: &ClientOptions,
) -> Result<wit::Session, HostError> {
    let creds = mock.credentials().clone();
    let key = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| HostError::Usage(e.to_string()));
    let (http, https) = (mock.http_url(), mock.https_url());
    let jwt = |file: &PathBuf| -> Result<wit::Grant, HostError> {
        Ok(wit::Grant::JwtBearer(wit::JwtBearerGrant {
            username: creds.username.clone(),
            private_key_pem: key(file)?,
            audience: None,
        }))
    };
    let cc = |basic_auth| wit::Grant::ClientCredentials(wit::ClientCredentialsGrant { basic_auth });
    let grants: Vec<(&str, wit::Config)> = vec![
        (
            "jwt-bearer (servers), PKCS#8 key signed inside the component, aud https://login.salesforce.com",
            mock.config(&https, jwt(&creds.private_key_file)?),
        ),
        ("jwt-bearer, PKCS#1 key", mock.config(&http, jwt(&creds.private_key_pkcs1_file)?)),
        ("client-credentials (servers), secret in the body", mock.config(&http, cc(false))),
        ("client-credentials, HTTP Basic", mock.config(&https, cc(true))),
    ];
    step("OAuth flows, recommended first");
    let mut first_session = None;
    for (name, config) in grants {
        let mut client = Client::new(connector.clone(), config, options.clone())?;
        let session = client.authenticate().await?;
        println!("ok  {name}\n    {}", describe(session));
        first_session.get_or_insert_with(|| session.clone());
    }

    people_flows(mock, connector, options).await?;
    Ok(first_session.expect("at least one grant ran"))
}

/// The flows for people: web server + PKCE with renewal, the device flow,
/// an SFDX auth URL, and the legacy password flow, shown blocked too.
async fn people_flows(
    mock: &Mock,
    connector: &Arc<Connector>,
    options: &ClientOptions,
) -> Result<(), HostError> {
    web_server_flow(mock, connector, options).await?;
    device_flow(mock, connector, options).await?;
    sfdx_url_flow(mock, connector, options).await?;
    password_flow(mock, connector, options).await
}

/// Web server flow: the component builds the authorize URL; the mock plays
/// the browser and the user's consent.
async fn web_server_flow(
    mock: &Mock,
    connector: &Arc<Connector>,
    options: &ClientOptions,
) -> Result<(), HostError> {
    let http = mock.http_url();
    let cc = wit::Grant::ClientCredentials(wit::ClientCredentialsGrant { basic_auth: false });
    let redirect = "http://localhost:1717/OauthRedirect";
    let web = Client::new(connector.clone(), mock.config(&http, cc), options.clone())?;
    let start = web
        .authorize_url(&wit::AuthorizeRequest {
            login_url: Some(http.clone()),
            client_id: mock.credentials().client_id.clone(),
            redirect_uri: redirect.into(),
            scope: Some("api refresh_token".into()),
            prompt: None,
            login_hint: None,
        })
        .await?;
    let challenge = url::Url::parse(&start.url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "code_challenge")
            .map(|(_, v)| v.into_owned())
    });
    let code = mock.issue_auth_code(redirect, challenge.as_deref());
    let mut web = Client::new(
        connector.clone(),
        mock.config(
            &http,
            wit::Grant::AuthorizationCode(wit::AuthorizationCodeGrant {
                code,
                redirect_uri: redirect.into(),
                code_verifier: Some(start.code_verifier.clone()),
            }),
        ),
        options.clone(),
    )?;
    let session = web.authenticate().await?;
    println!(
        "ok  web server + PKCE (people, with a browser)\n    {}\n    refresh token issued: {}",
        describe(session),
        session.refresh_token.is_some()
    );
    let issued = session.refresh_token.clone();
    let renewed = web.renew().await?;
    println!(
        "ok  renew: refreshed with that token; the org rotated it: {}",
        renewed.refresh_token != issued
    );

    Ok(())
}

/// The device flow: the person approves on another device.
async fn device_flow(
    mock: &Mock,
    connector: &Arc<Connector>,
    options: &ClientOptions,
) -> Result<(), HostError> {
    let http = mock.http_url();
    let cc = wit::Grant::ClientCredentials(wit::ClientCredentialsGrant { basic_auth: false });
    mock.knobs().set_device_interval(std::time::Duration::ZERO);
    let mut device = Client::new(connector.clone(), mock.config(&http, cc), options.clone())?;
    let session = device
        .device_login(
            Some("api refresh_token"),
            std::time::Duration::from_secs(30),
            |d| {
                println!("    open {} and enter {}", d.verification_uri, d.user_code);
                mock.approve_device(&d.user_code);
            },
        )
        .await?;
    println!(
        "ok  device flow (people, no browser here)\n    {}",
        describe(session)
    );
    Ok(())
}

/// An SFDX auth URL, as `sf org display --verbose` prints it.
async fn sfdx_url_flow(
    mock: &Mock,
    connector: &Arc<Connector>,
    options: &ClientOptions,
) -> Result<(), HostError> {
    let creds = mock.credentials().clone();
    let sfdx_url = format!(
        "force://{}:{}:{}@{}",
        creds.client_id,
        creds.client_secret,
        mock.issue_refresh_token(),
        mock.http_url()
    );
    let parsed = salesforce_host::parse_sfdx_url(connector, &sfdx_url).await?;
    let mut sfdx = Client::new(connector.clone(), parsed, options.clone())?;
    println!(
        "ok  SFDX auth URL -> refresh-token\n    {}",
        describe(sfdx.authenticate().await?)
    );
    Ok(())
}

/// The legacy password flow, then blocked as in orgs created since Summer '23.
async fn password_flow(
    mock: &Mock,
    connector: &Arc<Connector>,
    options: &ClientOptions,
) -> Result<(), HostError> {
    let https = mock.https_url();
    let mut password = Client::new(
        connector.clone(),
        mock.config(&https, mock.password_grant()),
        options.clone(),
    )?;
    println!(
        "ok  password (legacy), security token appended, password has # & % + space é\n    {}",
        describe(password.authenticate().await?)
    );
    mock.knobs().set_password_flow_blocked(true);
    let err = password.authenticate().await.unwrap_err();
    println!("    in an org created since Summer '23 it is blocked: {err}");
    mock.knobs().set_password_flow_blocked(false);
    Ok(())
}

async fn access_token_reuse(
    connector: &Arc<Connector>,
    options: &ClientOptions,
    reused: &wit::Session,
) -> Result<(), HostError> {
    let mut by_token = Client::new(
        connector.clone(),
        wit::Config::new(wit::Grant::AccessToken(wit::AccessTokenGrant {
            access_token: reused.access_token.clone(),
            instance_url: reused.instance_url.clone(),
        })),
        options.clone(),
    )?;
    let limits = by_token
        .call(&salesforce_host::get("/services/data/v66.0/limits"))
        .await?;
    println!(
        "ok  access-token reuse: GET /limits -> {} ({})",
        limits.status,
        limit_text(&limits.limit_info)
    );

    Ok(())
}

async fn paged_query(client: &mut Client) -> Result<(), HostError> {
    step("paged query");
    let mut request = salesforce_host::get("/services/data/v66.0/query");
    request.query.push((
        "q".into(),
        "SELECT Id, Name FROM Account ORDER BY Name".into(),
    ));
    let started = Instant::now();
    let (mut pages, mut records) = (0, 0);
    loop {
        let response = client.call(&request).await?;
        let page: Value = serde_json::from_str(&response.body).unwrap_or_default();
        pages += 1;
        records += page["records"].as_array().map_or(0, Vec::len);
        println!(
            "page {pages}: {records} / {} records · {}",
            page["totalSize"],
            limit_text(&response.limit_info)
        );
        match page["nextRecordsUrl"].as_str() {
            Some(next) => request = salesforce_host::get(next),
            None => break,
        }
    }
    println!(
        "{records} records in {pages} pages, {:.1?}",
        started.elapsed()
    );

    Ok(())
}

async fn typed_operations(client: &mut Client) -> Result<(), HostError> {
    step("typed operations and the agent tool catalog");
    let query_options = salesforce_host::PLAIN_QUERY;
    let capped = client
        .query_all_pages("SELECT Id, Name FROM Account", query_options, Some(2100))
        .await?;
    println!(
        "query-all-pages, max 2100: fetched {} of {} in {} pages, truncated: {}",
        capped.fetched, capped.total_size, capped.pages, capped.truncated
    );
    let tools = client.tools().await?;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    println!("{} tools: {}", tools.len(), names.join(", "));
    let found = client
        .invoke(
            "soql_query",
            r#"{"soql":"SELECT Name FROM Account WHERE Name LIKE 'Acme C%'","max_records":5}"#,
        )
        .await?;
    println!("invoke soql_query -> {found}");
    match client.invoke("soql_query", r#"{"soql":42}"#).await {
        Err(e) => println!("invoke with a bad argument -> {e}"),
        Ok(out) => println!("invoke with a bad argument -> unexpectedly {out}"),
    }

    Ok(())
}

async fn create_update_read_delete(client: &mut Client) -> Result<(), HostError> {
    step("create, update, read, delete");
    let mut create = salesforce_host::get("/services/data/v66.0/sobjects/Account");
    create.method = wit::Method::Post;
    create.body = Some(r#"{"Name":"Demo Corp","Industry":"Technology"}"#.into());
    let created: Value =
        serde_json::from_str(&client.call(&create).await?.body).unwrap_or_default();
    let id = created["id"].as_str().unwrap_or_default().to_string();
    println!("POST   Account -> 201 id {id}");
    let record = format!("/services/data/v66.0/sobjects/Account/{id}");
    let mut update = salesforce_host::get(&record);
    update.method = wit::Method::Patch;
    update.body = Some(r#"{"Industry":"Energy"}"#.into());
    println!("PATCH  Account -> {}", client.call(&update).await?.status);
    let got: Value = serde_json::from_str(&client.call(&salesforce_host::get(&record)).await?.body)
        .unwrap_or_default();
    println!(
        "GET    Account -> Name {}, Industry {}",
        got["Name"], got["Industry"]
    );
    let mut delete = salesforce_host::get(&record);
    delete.method = wit::Method::Delete;
    println!("DELETE Account -> {}", client.call(&delete).await?.status);
    match client.call(&salesforce_host::get(&record)).await {
        Err(e) => println!(
            "GET    deleted Account -> {} (exit code {})",
            e,
            e.exit_code()
        ),
        Ok(r) => println!("GET    deleted Account -> unexpectedly {}", r.status),
    }

    Ok(())
}

async fn expiry_and_refusal(mock: &Mock, client: &mut Client) -> Result<(), HostError> {
    step("session expiry: one renewal, then success; a refusal is never renewed");
    let before = client.logins();
    mock.knobs().expire_all_sessions();
    let r = client
        .call(&salesforce_host::get("/services/data/v66.0/limits"))
        .await?;
    println!(
        "expired token -> renewed {} time(s) -> {}",
        client.logins() - before,
        r.status
    );
    mock.knobs().set_session_refused(true);
    let before = client.logins();
    let err = client
        .call(&salesforce_host::get("/services/data/v66.0/limits"))
        .await
        .unwrap_err();
    println!(
        "refused session -> {} logins, then: {err}",
        client.logins() - before
    );
    mock.knobs().set_session_refused(false);

    Ok(())
}

async fn typed_errors(
    mock: &Mock,
    connector: &Arc<Connector>,
    options: &ClientOptions,
    client: &mut Client,
) -> Result<(), HostError> {
    let creds = mock.credentials();
    let http = mock.http_url();
    step("errors are typed and carry no secrets");
    let mut bad = Client::new(
        connector.clone(),
        mock.config(
            &http,
            wit::Grant::Password(wit::PasswordGrant {
                username: creds.username.clone(),
                password: "wrong password".into(),
                security_token: None,
            }),
        ),
        options.clone(),
    )?;
    let err = bad.authenticate().await.unwrap_err();
    println!("wrong password (exit {}): {err}", err.exit_code());
    let err = client
        .call(&salesforce_host::get(
            "https://evil.example.com/services/data/v66.0/limits",
        ))
        .await
        .unwrap_err();
    println!("token to another host (exit {}): {err}", err.exit_code());
    Ok(())
}

fn limit_text(info: &Option<wit::LimitInfo>) -> String {
    match info.as_ref().and_then(|i| i.api_usage.as_ref()) {
        Some(u) => format!("api-usage {}/{}", u.used, u.max),
        None => "no Sforce-Limit-Info".into(),
    }
}
