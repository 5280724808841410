//! A plain HTTP client for console tests: keeps its cookies, never
//! follows redirects, and answers status, `Set-Cookie` lines, headers and
//! body, to look at what a console answers (sign-in, sessions, CSRF).
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

/// A plain HTTP client that keeps cookies and never follows redirects, to
/// look at what the console answers.
pub struct Http {
    pub agent: ureq::Agent,
    /// Where `get` and `post` go: change it to talk to another node with
    /// the same cookies (one host name behind a load balancer).
    pub base: String,
    pub cookies: HashMap<String, String>,
}

/// An answer: status, `Set-Cookie` lines, other headers, body.
pub struct Answer {
    pub status: u16,
    pub set_cookies: Vec<String>,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Http {
    pub fn new(base: &str) -> Http {
        Http::with_agent(base, ureq::AgentBuilder::new())
    }

    /// A client over TLS that trusts the certificates of `ca` (PEM).
    pub fn trusting(base: &str, ca: &std::path::Path) -> Http {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        Http::with_agent(
            base,
            ureq::AgentBuilder::new().tls_config(std::sync::Arc::new(tls)),
        )
    }

    pub fn with_agent(base: &str, builder: ureq::AgentBuilder) -> Http {
        Http {
            agent: builder
                .redirects(0)
                .timeout(Duration::from_secs(30))
                .build(),
            base: base.to_owned(),
            cookies: HashMap::new(),
        }
    }

    /// The `Cookie` header the client sends.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn finish(&mut self, r: Result<ureq::Response, ureq::Error>) -> Answer {
        let response = match r {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("no answer: {e}"),
        };
        let set_cookies: Vec<String> = response
            .all("set-cookie")
            .into_iter()
            .map(str::to_owned)
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        let headers = response
            .headers_names()
            .into_iter()
            .map(|n| (n.clone(), response.header(&n).unwrap_or("").to_owned()))
            .collect();
        Answer {
            status: response.status(),
            set_cookies,
            headers,
            body: response.into_string().unwrap_or_default(),
        }
    }

    pub fn get(&mut self, path: &str) -> Answer {
        let r = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header())
            .call();
        self.finish(r)
    }

    pub fn post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header());
        for (k, v) in headers {
            request = request.set(k, v);
        }
        let r = request.send_form(fields);
        self.finish(r)
    }

    /// The sign-in form's token, from a fresh sign-in page.
    pub fn login_token(&mut self) -> String {
        let page = self.get("/login");
        assert_eq!(page.status, 200, "{}", page.body);
        hidden(&page.body, "csrf")
    }

    pub fn sign_in(&mut self, user: &str, password: &str) -> Answer {
        let token = self.login_token();
        self.post(
            "/login",
            &[
                ("csrf", &token),
                ("next", "/"),
                ("user", user),
                ("password", password),
            ],
            &[],
        )
    }
}

impl Answer {
    /// The `Set-Cookie` line of cookie `name`, if this answer sets it.
    pub fn cookie(&self, name: &str) -> Option<&String> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

/// The value of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in:\n{html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}
