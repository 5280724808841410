//! Head office's console on PostgreSQL keeps its sessions and sign-in
//! attempts in the database, never on a node: two real `scantrail hq
//! --database` nodes on one database of the machine's PostgreSQL, a
//! person signed in on one is signed in on the other (and after a
//! restart), signed out on one is signed out on both, and wrong passwords
//! sent to both nodes in turn count together.

mod support;
mod sync_support;

use std::collections::HashMap;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;

use support::pg::TestDb;
use sync_support::*;

const SUE: &str = "sue";
const SUE_PASSWORD: &str = "sue-password-1234";

/// A browser's cookies against several nodes of one head office (as one
/// host name behind a load balancer would have them), no redirects
/// followed.
struct Http {
    agent: ureq::Agent,
    cookies: HashMap<String, String>,
}

/// Status, headers (lower-case names) and body of an answer.
struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl Http {
    fn new(ca: &std::path::Path) -> Http {
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
        Http {
            agent: ureq::AgentBuilder::new()
                .tls_config(std::sync::Arc::new(tls))
                .redirects(0)
                .timeout(Duration::from_secs(30))
                .build(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
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
        for c in response.all("set-cookie") {
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
            headers,
            body: response.into_string().unwrap_or_default(),
        }
    }

    fn get(&mut self, node: &str, path: &str) -> Answer {
        let r = self
            .agent
            .get(&format!("{node}{path}"))
            .set("Cookie", &self.cookie_header())
            .call();
        self.finish(r)
    }

    fn post(&mut self, node: &str, path: &str, fields: &[(&str, &str)]) -> Answer {
        let r = self
            .agent
            .post(&format!("{node}{path}"))
            .set("Cookie", &self.cookie_header())
            .send_form(fields);
        self.finish(r)
    }

    /// A sign-in on `node`, its form fetched from `node` first.
    fn sign_in(&mut self, node: &str, user: &str, password: &str) -> Answer {
        let page = self.get(node, "/login");
        assert_eq!(page.status, 200, "{}", page.body);
        let token = hidden(&page.body, "csrf");
        self.post(
            node,
            "/login",
            &[
                ("csrf", &token),
                ("next", "/"),
                ("user", user),
                ("password", password),
            ],
        )
    }
}

/// The value of the hidden input `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
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

#[test]
fn a_console_session_and_sign_in_attempts_are_shared_by_every_node() {
    // A private instance: the test stops it at the end.
    let pg = support::pg::PrivatePg::start();
    let db = TestDb::on(&pg.admin_url(), "console");
    let tmp = tempfile::tempdir().unwrap();
    let hash = scantrail::console::users::hash_password(SUE_PASSWORD).unwrap();
    let hq = HqDir::new(
        &tmp.path().join("hq"),
        &["north"],
        &format!(
            "database = \"{}\"\n[[users]]\nname = \"{SUE}\"\nrole = \"supervisor\"\npassword_hash = \"{hash}\"\n",
            db.url
        ),
    );
    let (a, b) = (hq.start(), hq.start());
    let (url_a, url_b) = (a.base_url().to_owned(), b.base_url().to_owned());
    assert_ne!(url_a, url_b);

    // Signed in on A: B knows the session.
    let mut sue = Http::new(&hq.pki.ca);
    let r = sue.sign_in(&url_a, SUE, SUE_PASSWORD);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(sue.cookies.contains_key("scantrail_session"));
    let page = sue.get(&url_b, "/");
    assert_eq!(page.status, 200, "{:?} {}", page.headers, page.body);
    assert!(page.body.contains("sue (supervisor)"), "{}", page.body);
    assert_eq!(
        db.scalar("SELECT count(*) FROM console_sessions WHERE user_name = 'sue'"),
        "1"
    );

    // A restarted: the session outlives the node.
    a.kill();
    let a = hq.start();
    let url_a = a.base_url().to_owned();
    let page = sue.get(&url_a, "/");
    assert_eq!(page.status, 200, "{:?}", page.headers);

    // Signed out on B with the page's form token: A no longer knows the
    // session, even when the browser sends its cookie again.
    let id = sue.cookies["scantrail_session"].clone();
    let csrf = hidden(&page.body, "csrf");
    let out = sue.post(&url_b, "/logout", &[("csrf", &csrf)]);
    assert_eq!(out.status, 303, "{}", out.body);
    sue.cookies.insert("scantrail_session".into(), id);
    let r = sue.get(&url_a, "/");
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.headers["location"].starts_with("/login"),
        "{:?}",
        r.headers
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM console_sessions WHERE user_name = 'sue'"),
        "0"
    );

    // Sign-in attempts to A and B count together, per address: five at
    // once from 127.0.0.1, of which sue's sign-in on A above was one; four
    // wrong passwords to A and B in turn are answered 401, then the next
    // attempt is held whichever node it reaches, the right password too.
    let mut guess = Http::new(&hq.pki.ca);
    for i in 0..4 {
        let node = if i % 2 == 0 { &url_a } else { &url_b };
        let r = guess.sign_in(node, SUE, "wrong-password");
        assert_eq!(r.status, 401, "attempt {i} on {node}: {}", r.body);
    }
    let mut wait = 0;
    for node in [&url_a, &url_b] {
        let r = guess.sign_in(node, SUE, SUE_PASSWORD);
        assert_eq!(r.status, 429, "{node}: {}", r.body);
        wait = r.headers["retry-after"].parse().unwrap();
        assert!((1..=12).contains(&wait), "Retry-After {wait}");
        assert!(r.body.contains("Too many sign-in attempts"), "{}", r.body);
    }
    assert_eq!(
        db.scalar("SELECT count(*) FROM console_sign_ins"),
        "1",
        "one bucket for the one address"
    );

    // After Retry-After, one more attempt is allowed.
    std::thread::sleep(Duration::from_secs(wait));

    // The database down: nobody can sign in (503, Retry-After), and a
    // session cannot be checked, so pages lead to the sign-in page.
    let mut sue = Http::new(&hq.pki.ca);
    assert_eq!(sue.sign_in(&url_b, SUE, SUE_PASSWORD).status, 303);
    pg.stop_immediately();
    let r = sue.get(&url_a, "/");
    assert_eq!(r.status, 303, "{}", r.body);
    let mut late = Http::new(&hq.pki.ca);
    let r = late.sign_in(&url_a, SUE, SUE_PASSWORD);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.headers["retry-after"], "5");
    assert!(r.body.contains("database cannot be reached"), "{}", r.body);
    // Back: the session is there again, on either node.
    pg.restart();
    pg.wait_ready();
    let back = wait_for(Duration::from_secs(30), || {
        sue.get(&url_a, "/").status == 200
    });
    assert!(
        back.is_some(),
        "the session did not come back with the database"
    );
    a.stop();
    b.stop();
}
