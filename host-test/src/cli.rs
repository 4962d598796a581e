//! Command-line options: connection options shared by every command (each
//! also read from its environment variable) and the commands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use salesforce_host::{tools, wit, HostError};
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "sf-host",
    version,
    about = "Run the Salesforce connector component: log in, call REST, query, or serve a mock Salesforce"
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: Connection,
    /// Print errors (and `login`) as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log every request to stderr: method, URL, status, size, time (never
    /// headers or bodies, where credentials travel).
    #[arg(short, long, env = "SF_VERBOSE", global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantKind {
    Password,
    Jwt,
    ClientCredentials,
    RefreshToken,
    AccessToken,
}

#[derive(Args, Clone)]
pub struct Connection {
    /// A stored org (see `login --alias`): its settings and session, with
    /// options given here overriding them.
    #[arg(long, env = "SF_ORG", global = true)]
    pub org: Option<String>,
    /// Login host: https://login.salesforce.com, https://test.salesforce.com or your My Domain.
    #[arg(long, env = "SF_LOGIN_URL", global = true)]
    pub login_url: Option<String>,
    /// Consumer Key of the connected app or External Client App.
    #[arg(long, env = "SF_CLIENT_ID", global = true)]
    pub client_id: Option<String>,
    /// Consumer Secret of the connected app or External Client App.
    #[arg(long, env = "SF_CLIENT_SECRET", global = true, hide_env_values = true)]
    pub client_secret: Option<String>,
    /// OAuth flow. Inferred when omitted: --sfdx-url, --access-token,
    /// --private-key (JWT bearer), --refresh-token, then password only when
    /// both --username and --password are given, else client credentials.
    #[arg(long, env = "SF_GRANT", global = true, value_enum)]
    pub grant: Option<GrantKind>,
    #[arg(long, env = "SF_USERNAME", global = true)]
    pub username: Option<String>,
    #[arg(long, env = "SF_PASSWORD", global = true, hide_env_values = true)]
    pub password: Option<String>,
    /// Read the password from the first line of standard input, so it
    /// appears neither in the process list nor in shell history.
    #[arg(long, global = true)]
    pub password_stdin: bool,
    /// Appended to the password by the component.
    #[arg(long, env = "SF_SECURITY_TOKEN", global = true, hide_env_values = true)]
    pub security_token: Option<String>,
    /// PEM private key file for the JWT bearer flow (PKCS#8 or PKCS#1).
    #[arg(long, env = "SF_PRIVATE_KEY_FILE", global = true)]
    pub private_key: Option<PathBuf>,
    /// JWT `aud` claim; default: what Salesforce documents for the login host
    /// (login.salesforce.com, test.salesforce.com for sandboxes, or the
    /// Experience Cloud site), then the My Domain URL once if refused.
    #[arg(long, env = "SF_AUDIENCE", global = true)]
    pub audience: Option<String>,
    #[arg(long, env = "SF_REFRESH_TOKEN", global = true, hide_env_values = true)]
    pub refresh_token: Option<String>,
    /// Reuse an existing access token (with --instance-url).
    #[arg(long, env = "SF_ACCESS_TOKEN", global = true, hide_env_values = true)]
    pub access_token: Option<String>,
    #[arg(long, env = "SF_INSTANCE_URL", global = true)]
    pub instance_url: Option<String>,
    /// force://clientId:clientSecret:refreshToken@instance
    #[arg(long, env = "SF_AUTH_URL", global = true, hide_env_values = true)]
    pub sfdx_url: Option<String>,
    #[arg(long, env = "SF_API_VERSION", global = true)]
    pub api_version: Option<String>,
    #[arg(long, env = "SF_TIMEOUT_MS", global = true)]
    pub timeout_ms: Option<u32>,
    /// The longest one command's call may take in all (requests, retries,
    /// pages, body reads), in milliseconds (default 60000, at most 3600000).
    #[arg(long, env = "SF_DEADLINE_MS", global = true)]
    pub deadline_ms: Option<u32>,
    /// Largest response body accepted, in bytes (default 32 MiB).
    #[arg(long, env = "SF_MAX_RESPONSE_BYTES", global = true)]
    pub max_response_bytes: Option<u64>,
    /// Retries of idempotent calls after a 5xx, 429 or reset (default 3; 0 = off).
    #[arg(long, env = "SF_RETRIES", global = true)]
    pub retries: Option<u32>,
    /// A host (or host:port) besides Salesforce's domains that may be the
    /// instance URL; repeatable, or comma-separated in the variable.
    #[arg(
        long = "allow-host",
        env = "SF_ALLOWED_HOSTS",
        global = true,
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// The component to run; default: the one built from this repository.
    #[arg(long, env = "SF_COMPONENT", global = true)]
    pub component: Option<PathBuf>,
    /// Run this precompiled .cwasm (from `sf-host precompile`) instead of a
    /// component. It is native code that runs unchecked: only a file you
    /// wrote or trust.
    #[arg(long, global = true, conflicts_with = "component")]
    pub precompiled: Option<PathBuf>,
    /// Extra CA certificate (PEM) to trust, e.g. the mock's ca_file.
    #[arg(long, env = "SF_CA_FILE", global = true)]
    pub ca_file: Option<PathBuf>,
    /// Guardrail for `invoke` and `mcp`: every tool that writes refuses.
    #[arg(long, env = "SF_READ_ONLY", global = true)]
    pub read_only: bool,
    /// Guardrail for `invoke` and `mcp`: the only objects a tool may reach,
    /// comma-separated (e.g. Account,Contact); relationship paths and
    /// subqueries count, and what cannot be decided is refused.
    #[arg(
        long = "allowed-objects",
        env = "SF_ALLOWED_OBJECTS",
        global = true,
        value_delimiter = ','
    )]
    pub allowed_objects: Option<Vec<String>>,
    /// Guardrail for `invoke` and `mcp`: the most rows one tool call returns
    /// or writes.
    #[arg(long, env = "SF_MAX_ROWS", global = true)]
    pub max_rows: Option<u32>,
}

/// Hand-written so that `--help` or an error never prints a secret.
impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("org", &self.org)
            .field("login_url", &self.login_url)
            .field("grant", &self.grant)
            .field("username", &self.username)
            .field("guardrails", &self.guardrails())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Json,
    Ndjson,
    Csv,
}

#[derive(Args, Debug)]
pub struct Login {
    /// Print the access and refresh tokens.
    #[arg(long)]
    pub show_token: bool,
    /// Store the org under this name (letters, digits, `-`, `_`, `.`):
    /// settings, session and what renews it, for `--org NAME`.
    #[arg(long)]
    pub alias: Option<String>,
    /// Store the client secret too (never stored otherwise; later commands
    /// then need --client-secret or SF_CLIENT_SECRET where the app requires it).
    #[arg(long)]
    pub save_secret: bool,
    /// Log in with the device flow: open the URL shown on stderr, enter the
    /// code, and approve; the session's refresh token renews it later.
    #[arg(long)]
    pub device: bool,
    /// Scopes to ask for in the device flow; default the app's.
    #[arg(long, requires = "device")]
    pub scope: Option<String>,
    /// Seconds to wait for the device flow's approval.
    #[arg(long, requires = "device", default_value_t = 600)]
    pub approval_timeout: u64,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the embedded mock, run every grant, a paged query and writes; print a transcript.
    Demo,
    /// Serve the mock Salesforce in the foreground (first stdout line: connection info as JSON).
    Mock {
        /// HTTPS listen address.
        #[arg(long, default_value = "127.0.0.1:8443")]
        addr: std::net::SocketAddr,
        /// Plain HTTP listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        http_addr: std::net::SocketAddr,
    },
    /// Authenticate and print the session (tokens masked unless --show-token);
    /// with --alias, store the org for later `--org NAME` commands.
    #[command(after_long_help = crate::orgs::STORAGE_HELP)]
    Login(Login),
    /// Revoke a stored org's token at Salesforce and forget the org.
    ///
    /// Needs --org NAME or --all. The refresh token is revoked when one is
    /// stored (which ends every access token issued from it), else the
    /// access token. When Salesforce refuses the token (already revoked or
    /// invalid) the org is forgotten anyway and the exit code is 3. When
    /// revoking fails otherwise (no connection, timeout, rate limit) the file
    /// is kept, so that logout can be run again, and the exit code is that
    /// error's (5 for the network).
    #[command(after_long_help = crate::orgs::STORAGE_HELP)]
    Logout {
        /// Every stored org (--org and SF_ORG are then ignored).
        #[arg(long)]
        all: bool,
    },
    /// List stored orgs: alias, username, instance URL, grant, and whether a
    /// refresh token or client secret is stored (never their values).
    #[command(after_long_help = crate::orgs::STORAGE_HELP)]
    Orgs,
    /// One REST call; the response body on stdout.
    Call {
        /// GET, POST, PATCH, PUT, DELETE or HEAD.
        method: String,
        /// Path under /services/, e.g. /services/data/v62.0/limits.
        path: String,
        /// JSON body, or @FILE to read it from a file.
        #[arg(long)]
        data: Option<String>,
        /// Extra header, 'Name: value' (repeatable).
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
    },
    /// Run a SOQL query and follow every page.
    Query {
        soql: String,
        /// Include deleted and archived rows (queryAll).
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Stop after N records (the output then says the result is truncated).
        #[arg(long)]
        max: Option<u64>,
    },
    /// Describe the org's objects, or one object's fields.
    Describe { sobject: Option<String> },
    /// Bulk API 2.0: load a CSV, export a query, list or abort jobs.
    #[command(subcommand)]
    Bulk(BulkCommand),
    /// Download a record's file (ContentVersion VersionData, Attachment or
    /// Document Body) to a file, streamed; FILE.partial until complete.
    Download(DownloadArgs),
    /// Upload a file as a new ContentVersion (or Attachment, Document), or
    /// replace a Document's file with --id; streamed as one multipart request.
    Upload(UploadArgs),
    /// Read a record by id.
    Get {
        sobject: String,
        id: String,
        /// Comma-separated fields (default: all).
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
    },
    /// Create a record from JSON fields (or @FILE); prints its id.
    Create { sobject: String, data: String },
    /// Update a record's fields from JSON (or @FILE).
    Update {
        sobject: String,
        id: String,
        data: String,
    },
    /// Create or update a record by external id.
    Upsert {
        sobject: String,
        field: String,
        value: String,
        data: String,
    },
    /// Delete a record.
    Delete { sobject: String, id: String },
    /// Print the tool catalog as MCP `tools/list` JSON.
    Tools,
    /// Run one tool with JSON arguments.
    Invoke {
        name: String,
        #[arg(default_value = "{}")]
        arguments: String,
    },
    /// Serve the tool catalog over MCP on stdin/stdout, for agent clients
    /// (logs in at the first tool call; -v logs requests to stderr).
    Mcp {
        /// Save every row of a `bulk_query` to DIR/JOB_ID.csv and give the
        /// model its path (without it, the model sees the sample only).
        #[arg(long)]
        export_dir: Option<PathBuf>,
    },
    /// Serve the connector's calls for the stored orgs over wRPC on NATS,
    /// as one worker of a queue group (docs/scale-out.md). Sessions are
    /// shared by all workers in a NATS KV bucket, sealed with SF_SESSION_KEY.
    Serve(ServeArgs),
    /// Call `sf-host serve` workers over NATS (what a platform's code does
    /// with the Rust caller), e.g. `sf-host remote --nats URL query acme
    /// "SELECT Id FROM Account"`. Errors exit with 1.
    Remote(RemoteArgs),
    /// Compile the component ahead of time (a .cwasm loads in milliseconds).
    Precompile { out: PathBuf },
}

#[derive(Args, Clone, Debug)]
pub struct RemoteArgs {
    /// The NATS server the workers listen on.
    #[arg(long, env = "SF_NATS_URL")]
    pub nats: String,
    /// The workers' wRPC subject prefix.
    #[arg(long, default_value = "salesforce")]
    pub prefix: String,
    /// The longest the call may take, resends included, in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub wait_ms: u64,
    #[command(subcommand)]
    pub command: RemoteCommand,
}

#[derive(Subcommand, Clone, Debug)]
pub enum RemoteCommand {
    /// The orgs the workers serve.
    Orgs,
    /// One REST call for ORG; the response body on stdout.
    Call {
        org: String,
        /// GET, POST, PATCH, PUT, DELETE or HEAD.
        method: String,
        /// Path under /services/.
        path: String,
        /// JSON body.
        #[arg(long)]
        data: Option<String>,
    },
    /// The first page of a SOQL query for ORG: its records as JSON.
    Query { org: String, soql: String },
    /// The tool catalog's names.
    Tools,
    /// Runs one tool for ORG with a JSON object of arguments.
    Invoke {
        org: String,
        name: String,
        arguments: String,
    },
}

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// The NATS server, e.g. nats://127.0.0.1:4222 (JetStream on).
    #[arg(long, env = "SF_NATS_URL")]
    pub nats: String,
    /// The queue group: each call goes to one worker of the group.
    #[arg(long, default_value = "salesforce")]
    pub group: String,
    /// The wRPC subject prefix callers use.
    #[arg(long, default_value = "salesforce")]
    pub prefix: String,
    /// The KV bucket the workers share sessions in.
    #[arg(long, default_value = "salesforce-sessions")]
    pub bucket: String,
    /// Serve only these stored orgs (comma-separated); default: every one.
    #[arg(long, value_delimiter = ',')]
    pub orgs: Vec<String>,
}

/// Printed when a command is about to log in with the password grant.
pub const PASSWORD_FLOW_WARNING: &str = "warning: the username-password flow is legacy and \
blocked by default in orgs created in Summer '23 or later (Setup > OAuth and OpenID Connect \
Settings > Allow OAuth Username-Password Flows); prefer JWT bearer (--private-key) or client \
credentials";

fn read_key(path: &PathBuf) -> Result<String, HostError> {
    std::fs::read_to_string(path)
        .map_err(|e| HostError::Usage(format!("cannot read --private-key {}: {e}", path.display())))
}

impl Connection {
    /// With `--password-stdin`, the password is the first line of stdin.
    pub fn read_password_stdin(&mut self) -> Result<(), HostError> {
        if !self.password_stdin {
            return Ok(());
        }
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| HostError::Usage(format!("--password-stdin: cannot read stdin: {e}")))?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        if password.is_empty() {
            return Err(HostError::Usage(
                "--password-stdin: the first line of stdin is empty".into(),
            ));
        }
        self.password = Some(password);
        Ok(())
    }

    /// With `--grant password`, a username and no password, asks for it on
    /// the terminal without echo (never when stdin is not a terminal: a
    /// script gets the usual "needs --password" error instead of a hang).
    pub fn prompt_password(&mut self) -> Result<(), HostError> {
        let wanted = self.grant == Some(GrantKind::Password) && self.password.is_none();
        let Some(username) = self.username.as_deref().filter(|_| wanted) else {
            return Ok(());
        };
        if !std::io::stdin().is_terminal() {
            return Ok(());
        }
        let password = rpassword::prompt_password(format!("Password for {username}: "))
            .map_err(|e| HostError::Usage(format!("cannot read the password: {e}")))?;
        self.password = Some(password).filter(|p| !p.is_empty());
        Ok(())
    }

    pub fn inferred_grant(&self) -> GrantKind {
        if let Some(g) = self.grant {
            return g;
        }
        if self.sfdx_url.is_some() {
            GrantKind::RefreshToken
        } else if self.access_token.is_some() {
            GrantKind::AccessToken
        } else if self.private_key.is_some() {
            GrantKind::Jwt
        } else if self.refresh_token.is_some() {
            GrantKind::RefreshToken
        } else if self.username.is_some() && self.password.is_some() {
            GrantKind::Password
        } else {
            GrantKind::ClientCredentials
        }
    }

    fn require(value: &Option<String>, flag: &str, grant: &str) -> Result<String, HostError> {
        value
            .clone()
            .ok_or_else(|| HostError::Usage(format!("the {grant} grant needs {flag}")))
    }

    /// The component config. `sfdx` is the component's parse of --sfdx-url.
    /// The guardrails `invoke` and `mcp` run the tools within.
    pub fn guardrails(&self) -> tools::Guardrails {
        tools::Guardrails {
            read_only: self.read_only,
            allowed_objects: self.allowed_objects.clone(),
            max_rows: self.max_rows,
        }
    }

    pub fn config(&self, sfdx: Option<wit::Config>) -> Result<wit::Config, HostError> {
        let grant = match (self.inferred_grant(), sfdx.as_ref()) {
            (GrantKind::RefreshToken, Some(parsed)) => parsed.grant.clone(),
            (GrantKind::Password, _) => wit::Grant::Password(wit::PasswordGrant {
                username: Self::require(&self.username, "--username", "password")?,
                password: Self::require(&self.password, "--password", "password")?,
                security_token: self.security_token.clone(),
            }),
            (GrantKind::Jwt, _) => {
                let path = self.private_key.as_ref().ok_or_else(|| {
                    HostError::Usage("the jwt grant needs --private-key FILE".into())
                })?;
                wit::Grant::JwtBearer(wit::JwtBearerGrant {
                    username: Self::require(&self.username, "--username", "jwt")?,
                    private_key_pem: read_key(path)?,
                    audience: self.audience.clone(),
                })
            }
            (GrantKind::ClientCredentials, _) => {
                wit::Grant::ClientCredentials(wit::ClientCredentialsGrant { basic_auth: false })
            }
            (GrantKind::RefreshToken, None) => wit::Grant::RefreshToken(wit::RefreshTokenGrant {
                refresh_token: Self::require(
                    &self.refresh_token,
                    "--refresh-token or --sfdx-url",
                    "refresh-token",
                )?,
            }),
            (GrantKind::AccessToken, _) => wit::Grant::AccessToken(wit::AccessTokenGrant {
                access_token: Self::require(&self.access_token, "--access-token", "access-token")?,
                instance_url: Self::require(&self.instance_url, "--instance-url", "access-token")?,
            }),
        };
        let from_sfdx = |f: fn(&wit::Config) -> Option<String>| sfdx.as_ref().and_then(f);
        Ok(wit::Config {
            login_url: self
                .login_url
                .clone()
                .or_else(|| from_sfdx(|c| c.login_url.clone())),
            client_id: self
                .client_id
                .clone()
                .or_else(|| from_sfdx(|c| c.client_id.clone())),
            client_secret: self
                .client_secret
                .clone()
                .or_else(|| from_sfdx(|c| c.client_secret.clone())),
            grant,
            api_version: self.api_version.clone(),
            timeout_ms: self.timeout_ms,
            deadline_ms: self.deadline_ms,
            max_response_bytes: self.max_response_bytes,
            retry: self.retries.map(|max_retries| wit::RetryPolicy {
                max_retries,
                ..salesforce_host::client::default_retry()
            }),
            allowed_hosts: (!self.allowed_hosts.is_empty()).then(|| self.allowed_hosts.clone()),
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum BulkCommand {
    /// Load a CSV into an object: one job per part of at most --part-mb,
    /// progress on a terminal, then a summary; the failed rows, each with
    /// its sf__Error, go to a file beside the input. Exit code 4 when any
    /// row failed.
    Import(ImportArgs),
    /// Export a query's rows to a CSV file, page by page (never all in
    /// memory); the file appears only when complete (FILE.partial until then).
    Export {
        soql: String,
        /// Include deleted and archived rows (queryAll).
        #[arg(long)]
        all: bool,
        /// The CSV file to write.
        #[arg(long)]
        out: PathBuf,
        /// Rows per results page (maxRecords); lower it if a page is over
        /// --max-response-bytes.
        #[arg(long, default_value_t = 50_000)]
        page_size: u32,
    },
    /// List ingest and query jobs.
    Jobs,
    /// Abort a job that has not finished.
    Abort { id: String },
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The CSV: a header row of field API names, then one row per record.
    pub file: PathBuf,
    /// The object, e.g. Account.
    #[arg(long)]
    pub object: String,
    #[arg(long, value_enum, default_value = "insert")]
    pub operation: BulkOperation,
    /// The external id field matching rows (upsert).
    #[arg(long)]
    pub external_id: Option<String>,
    #[arg(long, value_enum, default_value = "comma")]
    pub delimiter: Delimiter,
    /// The largest part, in MB (Salesforce takes at most 100 per job).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub part_mb: u64,
    /// The largest part in bytes, overriding --part-mb (for tests).
    #[arg(long, hide = true)]
    pub part_bytes: Option<usize>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum BulkOperation {
    Insert,
    Update,
    Upsert,
    Delete,
    HardDelete,
}

impl BulkOperation {
    pub fn name(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Upsert => "upsert",
            Self::Delete => "delete",
            Self::HardDelete => "hard-delete",
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Delimiter {
    Comma,
    Tab,
    Pipe,
    Semicolon,
    Caret,
    Backquote,
}

#[derive(Args, Debug)]
pub struct DownloadArgs {
    /// ContentVersion, Attachment, Document (or another object with a file field).
    pub sobject: String,
    /// The record's id, e.g. 068... for a ContentVersion.
    pub id: String,
    /// The file field (default: VersionData for ContentVersion, else Body).
    #[arg(long)]
    pub field: Option<String>,
    /// The file to write.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct UploadArgs {
    /// The file to upload.
    pub file: PathBuf,
    /// ContentVersion, Attachment or Document.
    #[arg(long, default_value = "ContentVersion")]
    pub object: String,
    /// Replace this record's file instead of creating a record.
    #[arg(long)]
    pub id: Option<String>,
    /// The record's other fields as JSON (or @FILE), e.g.
    /// '{"FirstPublishLocationId":"001..."}'. For a ContentVersion,
    /// PathOnClient and Title default to the file's name.
    #[arg(long)]
    pub data: Option<String>,
    /// The file's type (default: from its extension).
    #[arg(long)]
    pub content_type: Option<String>,
}
