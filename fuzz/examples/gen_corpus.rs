//! Writes the seed corpora under `fuzz/corpus/` (except `pem_key`, whose key
//! fixtures `fuzz/gen_pem_seeds.sh` writes to `fuzz/fixtures/`): Salesforce-shaped responses, in the input format
//! of each target (`fuzz_common` documents it).
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example gen_corpus`

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine as _;
use fuzz_common::{encode, GrantKind, RestHead, TokenHead, CLIENT_SECRET};
use hmac::{Hmac, Mac};
use std::path::{Path, PathBuf};

const ID_URL: &str = "https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA";
const JSON: &str = "content-type: application/json;charset=UTF-8";

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    dir
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    std::fs::write(corpus(target).join(name), bytes).expect("write seed");
}

fn sign(id: &str, issued_at: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("key");
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Header lines, a blank line, the body.
fn http(headers: &[&str], body: &str) -> String {
    format!("{}\n\n{body}", headers.join("\n"))
}

fn token(name: &str, status: u16, grant: GrantKind, client_secret: bool, resign: bool, text: &str) {
    let head = TokenHead {
        status,
        grant,
        client_secret,
        resign,
    };
    let bytes = [encode::token_head(&head), text.as_bytes().to_vec()].concat();
    let mut u = Unstructured::new(&bytes);
    assert_eq!(
        TokenHead::arbitrary(&mut u).expect("decodes"),
        head,
        "{name}"
    );
    assert_eq!(u.take_rest(), text.as_bytes(), "{name}");
    write("token_response", name, &bytes);
}

fn rest(name: &str, status: u16, text: &str) {
    let head = RestHead { status };
    let bytes = [encode::rest_head(&head), text.as_bytes().to_vec()].concat();
    let mut u = Unstructured::new(&bytes);
    assert_eq!(
        RestHead::arbitrary(&mut u).expect("decodes"),
        head,
        "{name}"
    );
    write("rest_error", name, &bytes);
}

fn oauth_error(error: &str, description: &str) -> String {
    http(
        &[JSON],
        &format!(r#"{{"error":"{error}","error_description":"{description}"}}"#),
    )
}

fn token_seeds() {
    use GrantKind::*;
    let issued = "1700000000000";
    let sig = sign(ID_URL, issued);
    let success = format!(
        r#"{{"access_token":"00D000000000001!AQ0AQFpmb8cw7Ug2pWqRPzvbb9Ri2Q4tMTg.Ymf3lw8dZD6Dkq0Kys0LrrQ7D3UFWbCVIRWsR3vD1WW2Pp9cZmOvL5jGCsB5","signature":"{sig}","scope":"api web full refresh_token","instance_url":"https://acme.my.salesforce.com","id":"{ID_URL}","token_type":"Bearer","issued_at":"{issued}"}}"#
    );
    token(
        "password-success",
        200,
        Password,
        true,
        false,
        &http(&[JSON], &success),
    );
    let with_refresh = success.replacen(
        r#""token_type""#,
        r#""refresh_token":"5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJrjnXvqAzQhBc0OGzEP6aY7OiySYq2cAgnR3eAhHe4GcHuFtnG","token_type""#,
        1,
    );
    token(
        "authcode-success-refresh",
        200,
        AuthorizationCode,
        true,
        true,
        &http(&[JSON], &with_refresh),
    );
    token(
        "refresh-success-resign",
        200,
        RefreshToken,
        true,
        true,
        &http(&[JSON], &success),
    );
    token(
        "no-secret-success",
        200,
        RefreshToken,
        false,
        false,
        &http(&[JSON], &success),
    );
    let tampered = success.replace(&sig, "xwjgdwExawzcsxDK0EXiR5xbdOsg+6u59M7fWZjbpS0=");
    token(
        "tampered-signature",
        200,
        Password,
        true,
        false,
        &http(&[JSON], &tampered),
    );
    let seconds = format!(
        r#"{{"access_token":"00D000000000001!AQtoken","instance_url":"https://acme--uat.sandbox.my.salesforce.com/","id":"https://test.salesforce.com/id/00D000000000001/005000000000001","issued_at":1700000000,"signature":"AAAA","token_type":"Bearer"}}"#
    );
    token(
        "issued-at-seconds",
        200,
        Password,
        true,
        true,
        &http(&[JSON], &seconds),
    );
    let jwt = format!(
        r#"{{"access_token":"00D000000000001!AQjwt","scope":"api full","instance_url":"https://acme.my.salesforce.com","id":"{ID_URL}","token_type":"Bearer"}}"#
    );
    token(
        "jwt-success",
        200,
        JwtBearer,
        false,
        false,
        &http(&[JSON], &jwt),
    );
    let cc = format!(
        r#"{{"access_token":"00D000000000001!AQcc","signature":"{sig}","scope":"api","instance_url":"https://acme.my.salesforce.com","id":"{ID_URL}","token_type":"Bearer","issued_at":"{issued}","api_instance_url":"https://api.salesforce.com"}}"#
    );
    token(
        "client-credentials-success",
        200,
        ClientCredentials,
        true,
        false,
        &http(&[JSON], &cc),
    );
    let loopback =
        r#"{"access_token":"tok","instance_url":"http://127.0.0.1:8443","id":null,"scope":null}"#;
    token(
        "loopback-instance",
        200,
        AuthorizationCode,
        false,
        false,
        &http(&[JSON], loopback),
    );
    let lightning = r#"{"access_token":"tok","instance_url":"https://acme.lightning.force.com"}"#;
    token(
        "lightning-instance",
        200,
        Password,
        true,
        false,
        &http(&[JSON], lightning),
    );
    let plain_http = r#"{"access_token":"tok","instance_url":"http://acme.my.salesforce.com/$r0","issued_at":"soon $r1"}"#;
    token(
        "http-instance",
        200,
        Password,
        true,
        false,
        &http(&[JSON], plain_http),
    );
    token(
        "truncated",
        200,
        RefreshToken,
        true,
        false,
        &http(&[JSON], r#"{"access_token":"00D000000000001!AQ"#),
    );
    token("empty-200", 200, Password, true, false, "");
    let login_page = "<!DOCTYPE html><html><head><title>Login | Salesforce</title></head><body><form action=\"/\"><input name=\"pw\" value=\"$r1\"></form></body></html>";
    token(
        "html-login-page",
        200,
        Password,
        true,
        false,
        &http(&["content-type: text/html;charset=UTF-8"], login_page),
    );

    for (name, status, grant, error, description) in [
        (
            "invalid-grant-password",
            400,
            Password,
            "invalid_grant",
            "authentication failure",
        ),
        (
            "invalid-client-id",
            400,
            ClientCredentials,
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            "invalid-client",
            400,
            Password,
            "invalid_client",
            "invalid client credentials",
        ),
        (
            "unsupported-grant",
            400,
            ClientCredentials,
            "unsupported_grant_type",
            "grant type not supported",
        ),
        (
            "refresh-expired",
            400,
            RefreshToken,
            "invalid_grant",
            "expired access/refresh token",
        ),
        (
            "redirect-mismatch",
            400,
            AuthorizationCode,
            "redirect_uri_mismatch",
            "redirect_uri must match configuration",
        ),
        (
            "code-verifier",
            400,
            AuthorizationCode,
            "invalid_grant",
            "invalid code verifier",
        ),
        (
            "jwt-not-approved",
            400,
            JwtBearer,
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            "jwt-audience",
            400,
            JwtBearer,
            "invalid_grant",
            "audience is invalid",
        ),
        (
            "cc-no-user",
            400,
            ClientCredentials,
            "invalid_grant",
            "no client credentials user enabled",
        ),
        (
            "not-on-domain",
            400,
            Password,
            "invalid_grant",
            "authentication not supported on this domain",
        ),
        (
            "app-access",
            400,
            Password,
            "invalid_app_access",
            "user is not admin approved to access this app",
        ),
        (
            "inactive-user",
            400,
            RefreshToken,
            "inactive_user",
            "user is inactive",
        ),
        (
            "inactive-org",
            400,
            Password,
            "inactive_org",
            "organization is locked",
        ),
        (
            "login-rate",
            400,
            Password,
            "invalid_grant",
            "login rate exceeded",
        ),
        (
            "rate-limit",
            400,
            RefreshToken,
            "rate_limit_exceeded",
            "too many requests",
        ),
        (
            "unauthorized",
            401,
            JwtBearer,
            "invalid_client",
            "invalid client credentials",
        ),
        (
            "echo-secrets",
            400,
            Password,
            "invalid_grant",
            "echo: password=$f1$f2&client_secret=$r0 ($b7 $u1)",
        ),
        (
            "echo-code",
            400,
            AuthorizationCode,
            "invalid_grant",
            "code=$r4 verifier=$f5",
        ),
        (
            "echo-key",
            400,
            JwtBearer,
            "invalid_grant",
            "assertion signed by $r6",
        ),
    ] {
        token(
            name,
            status,
            grant,
            true,
            false,
            &oauth_error(error, description),
        );
    }
    token(
        "rate-limited-429",
        429,
        Password,
        true,
        false,
        &http(
            &["content-type: text/plain", "retry-after: 60"],
            "Too Many Requests",
        ),
    );
    token(
        "rate-limited-json-429",
        429,
        RefreshToken,
        true,
        false,
        &http(
            &[JSON, "Retry-After: 3600"],
            r#"{"error":"rate_limit_exceeded","error_description":"$r3"}"#,
        ),
    );
    token(
        "server-error-html",
        500,
        Password,
        true,
        false,
        &http(
            &["content-type: text/html"],
            "<html><body><h1>Service Unavailable</h1><p>request: grant_type=password&password=$f1</p></body></html>",
        ),
    );
    token(
        "content-type-echo",
        400,
        RefreshToken,
        true,
        false,
        &http(&["content-type: text/plain; x=$r3"], "Bad Request"),
    );
}

fn rest_seeds() {
    const LIMITS: &str = "sforce-limit-info: api-usage=25/15000";
    for (name, status, body) in [
        (
            "invalid-session",
            401,
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        ),
        (
            "invalid-session-403",
            403,
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        ),
        (
            "request-limit",
            403,
            r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        ),
        (
            "malformed-query",
            400,
            r#"[{"message":"\nSELECT Nme FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Nme' on entity 'Account'.","errorCode":"INVALID_FIELD"}]"#,
        ),
        (
            "required-field",
            400,
            r#"[{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]"#,
        ),
        (
            "not-found",
            404,
            r#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#,
        ),
        (
            "method-not-allowed",
            405,
            r#"[{"message":"HTTP Method not allowed for this resource","errorCode":"METHOD_NOT_ALLOWED"}]"#,
        ),
        (
            "version-gone",
            410,
            r#"[{"message":"API version 20.0 has been retired and is no longer available. Use version 31.0 or later.","errorCode":"NOT_FOUND"}]"#,
        ),
        (
            "multiple-choices",
            300,
            r#"["/services/data/v62.0/sobjects/Account/001000000000001AAA","/services/data/v62.0/sobjects/Account/001000000000002AAA"]"#,
        ),
        (
            "duplicate",
            400,
            r#"[{"message":"Use one of these records?","errorCode":"DUPLICATES_DETECTED","fields":[],"duplicateResult":{"allowSave":false}}]"#,
        ),
        (
            "single-object",
            400,
            r#"{"errorCode":"JSON_PARSER_ERROR","message":"Unexpected character ('}' (code 125))"}"#,
        ),
        (
            "oauth-shape",
            403,
            r#"{"error":"insufficient_scope","error_description":"The token does not have the scopes required"}"#,
        ),
        (
            "echo-token",
            400,
            r#"[{"message":"Bearer $r0 is not valid for $u1","errorCode":"INVALID_FIELD","fields":["$r0","Name"]}]"#,
        ),
        (
            "echo-b64",
            500,
            r#"[{"message":"echo $b0 $f1","errorCode":"UNKNOWN_EXCEPTION$r1"}]"#,
        ),
        (
            "too-many",
            429,
            r#"[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        ),
    ] {
        rest(name, status, &http(&[JSON, LIMITS], body));
    }
    rest(
        "ok-query",
        200,
        &http(
            &[JSON, "sforce-limit-info: api-usage=25/15000; per-app-api-usage=17/250(appName=sample-app)"],
            r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001000000000001AAA"},"Id":"001000000000001AAA","Name":"Acme"}]}"#,
        ),
    );
    rest(
        "collections-errors",
        200,
        &http(
            &[JSON, LIMITS],
            r#"[{"id":"001000000000001AAA","success":true,"errors":[]},{"success":false,"errors":[{"statusCode":"DUPLICATE_VALUE","message":"duplicate value found: Email__c","fields":["Email__c"]}]}]"#,
        ),
    );
    rest("no-content", 204, &http(&[LIMITS], ""));
    rest(
        "created",
        201,
        &http(
            &[JSON],
            r#"{"id":"001000000000003AAA","success":true,"errors":[]}"#,
        ),
    );
    rest(
        "html-200",
        200,
        &http(
            &["content-type: text/html;charset=UTF-8"],
            "<html><head><title>Lightning</title></head><body>$r0</body></html>",
        ),
    );
    rest(
        "html-503",
        503,
        &http(
            &["content-type: text/html"],
            "<html><body>Service Unavailable $f0</body></html>",
        ),
    );
    rest(
        "bad-token-text",
        403,
        &http(&["content-type: text/plain"], "Bad_OAuth_Token"),
    );
    rest("401-empty", 401, "");
    rest(
        "429-retry-after",
        429,
        &http(
            &["retry-after: 30", "content-type: text/plain; echo=$r0"],
            "",
        ),
    );
    rest(
        "limit-echo",
        400,
        &http(
            &[
                JSON,
                "sforce-limit-info: api-usage=1/2; per-app-api-usage=1/9(appName=$r0)",
            ],
            r#"[{"errorCode":"X","message":"y"}]"#,
        ),
    );
    let mut not_utf8 = http(&[JSON], "{\"Name\":\"").into_bytes();
    not_utf8.extend_from_slice(b"\xff\xfe $r0\"}");
    let bytes = [encode::rest_head(&RestHead { status: 200 }), not_utf8].concat();
    write("rest_error", "not-utf8", &bytes);
}

fn query_seeds() {
    for (name, body) in [
        (
            "done",
            r#"{"totalSize":2,"done":true,"records":[{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001000000000001AAA"},"Id":"001000000000001AAA","Name":"Acme"},{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001000000000002AAA"},"Id":"001000000000002AAA","Name":"Globex"}]}"#,
        ),
        (
            "next-page",
            r#"{"totalSize":4200,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gD0000002HU6KIAW-2000","records":[{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/003000000000001AAA"},"Id":"003000000000001AAA"}]}"#,
        ),
        ("count", r#"{"totalSize":42,"done":true,"records":[]}"#),
        (
            "children",
            r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001A"},"Id":"001A","Contacts":{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gC-1","records":[{"attributes":{"type":"Contact"},"Id":"003A","Email":null}]}}]}"#,
        ),
        (
            "query-all-deleted",
            r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Account"},"Id":"001D","IsDeleted":true,"Owner":{"attributes":{"type":"User"},"Name":"Integration User"},"AnnualRevenue":1.5E7,"NumberOfEmployees":250}]}"#,
        ),
        (
            "no-way-forward",
            r#"{"totalSize":5,"done":false,"records":[]}"#,
        ),
        (
            "done-with-next",
            r#"{"totalSize":5,"done":true,"nextRecordsUrl":"/services/data/v62.0/query/01g-5","records":[]}"#,
        ),
        (
            "aggregate",
            r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"expr0":17,"Industry":"Energy"}]}"#,
        ),
        (
            "not-object",
            r#"[{"message":"unexpected","errorCode":"X"}]"#,
        ),
        (
            "string-total",
            r#"{"totalSize":"2","done":true,"records":[]}"#,
        ),
    ] {
        write("query_page", name, body.as_bytes());
    }
}

fn limit_seeds() {
    for (name, header) in [
        ("api-usage", "api-usage=25/15000"),
        (
            "per-app",
            "api-usage=25/15000; per-app-api-usage=17/250(appName=sample-app)",
        ),
        (
            "per-app-only",
            "per-app-api-usage=17/250(appName=sample-connected-app)",
        ),
        ("bursts", "api-usage=110018/100000; api-bursts=1/750"),
        (
            "comma",
            "api-usage=3/5000,per-app-api-usage=1/10(appName=My App (prod))",
        ),
        ("junk", "api-usage=/; =;=;(; per-app-api-usage=(("),
    ] {
        write("limit_info", name, header.as_bytes());
    }
}

fn sfdx_seeds() {
    for (name, url) in [
        ("cli", "force://PlatformCLI::5Aep861KIwKdekr90I4iHdtDgWwRoG7O_dY4ayHw8PZbR7vQhnk7Qt0dsnYLRbvHEBMr3pSZB9Krm4nbY7xWJ6a@acme.my.salesforce.com"),
        ("secret-scheme", "force://3MVG9fuzzConsumerKey:$r0:$r1@https://acme.my.salesforce.com/"),
        ("sandbox", "force://PlatformCLI::$r1@acme--uat.sandbox.my.salesforce.com"),
        ("loopback", "force://PlatformCLI::$r1@http://localhost:1717"),
        ("at-in-token", "force://PlatformCLI:$r0:$r1@x@acme.my.salesforce.com"),
        ("evil-http", "force://a:$r0:$r1@http://evil.example.com"),
        ("lightning", "force://PlatformCLI::$r1@acme.lightning.force.com"),
        ("no-token", "force://PlatformCLI:$r0@acme.my.salesforce.com"),
        ("empty-id", "force://:$r0:$r1@acme.my.salesforce.com"),
        ("path", "force://PlatformCLI:$r0:$r1@https://acme.my.salesforce.com/services/oauth2/token?x=1"),
        ("wrong-scheme", "sfdx://PlatformCLI:$r0:$r1@acme.my.salesforce.com"),
    ] {
        write("sfdx_url", name, url.as_bytes());
    }
}

fn identity_seeds() {
    for (name, url) in [
        ("login", "https://login.salesforce.com/id/00D58000000arpqEAA/00558000000yFyDAAU"),
        ("test-15", "https://test.salesforce.com/id/00D000000000001/005000000000001"),
        ("my-domain-query", "https://acme.my.salesforce.com/id/00D000000000001EAA/005000000000001AAA?version=62.0&format=json"),
        ("fragment", "https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA#x"),
        ("short", "https://x/id/00D/005"),
        ("relative", "/id/00D000000000001EAA/005000000000001AAA"),
        ("no-id-segment", "https://login.salesforce.com/services/00D000000000001EAA/005000000000001AAA"),
    ] {
        write("identity_url", name, url.as_bytes());
    }
}

fn main() {
    token_seeds();
    rest_seeds();
    query_seeds();
    limit_seeds();
    sfdx_seeds();
    identity_seeds();
    println!("seeds written under {}", corpus("").display());
}
