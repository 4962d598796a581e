//! `POST /services/Soap/u/{version}`: the partner SOAP `login()` call, which
//! simple-salesforce uses by default for username + password + security token.

use crate::state::{Shared, ORG_ID, USER_ID};
use crate::token::instance_url;
use crate::Listener;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use std::sync::Arc;

pub(crate) async fn login(
    State(st): State<Arc<Shared>>,
    Extension(listener): Extension<Listener>,
    Path(version): Path<String>,
    body: Bytes,
) -> Response {
    let xml = String::from_utf8_lossy(&body);
    let c = &st.credentials;
    let expected = format!("{}{}", c.password, c.security_token);
    let ok = element(&xml, "username").as_deref() == Some(c.username.as_str())
        && element(&xml, "password").as_deref() == Some(expected.as_str());
    if !ok {
        return xml_response(StatusCode::INTERNAL_SERVER_ERROR, INVALID_LOGIN.to_string());
    }
    let base = instance_url(&st, &listener);
    let org15 = &ORG_ID[..15];
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            "<soapenv:Body><loginResponse><result>",
            "<metadataServerUrl>{base}/services/Soap/m/{v}/{org15}</metadataServerUrl>",
            "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>",
            "<serverUrl>{base}/services/Soap/u/{v}/{org15}</serverUrl>",
            "<sessionId>{token}</sessionId><userId>{user}</userId>",
            "<userInfo><organizationId>{org}</organizationId><userEmail>{name}</userEmail>",
            "<userFullName>Integration User</userFullName><userId>{user}</userId><userName>{name}</userName></userInfo>",
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        ),
        base = escape(&base),
        v = escape(&version),
        org15 = org15,
        token = escape(&st.issue_token()),
        user = USER_ID,
        org = ORG_ID,
        name = escape(&c.username),
    );
    xml_response(StatusCode::OK, body)
}

const INVALID_LOGIN: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
    "<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode>",
    "<faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring>",
    r#"<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>"#,
    "<sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage>",
    "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
);

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    resp
}

/// Text of the first `<name>` or `<prefix:name>` element; clients differ in prefixes.
fn element(xml: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(found) = xml.get(from..)?.find(name) {
        let start = from + found;
        from = start + name.len();
        let before = xml[..start].rfind('<')?;
        let tag = &xml[before + 1..start];
        let opening = !tag.starts_with('/') && (tag.is_empty() || tag.ends_with(':'));
        let rest = &xml[from..];
        if opening && rest.starts_with('>') {
            let text = &rest[1..];
            let end = text.find('<')?;
            return Some(unescape(&text[..end]));
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prefixed_and_plain_elements() {
        let xml = "<n1:login><n1:username>u@x.com</n1:username><n1:password>p#s&amp;w &#233;</n1:password></n1:login>";
        assert_eq!(element(xml, "username").as_deref(), Some("u@x.com"));
        assert_eq!(element(xml, "password").as_deref(), Some("p#s&w é"));
        assert_eq!(
            element("<login><password>a</password></login>", "password").as_deref(),
            Some("a")
        );
        assert_eq!(element("<x>password</x>", "password"), None);
    }
}
