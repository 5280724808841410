//! Head office's console on PostgreSQL keeps its sessions and sign-in
//! attempts in the database, never on a node: two real `scantrail hq
//! --database` nodes on one database of the machine's PostgreSQL, a
//! person signed in on one is signed in on the other (and after a
//! restart), signed out on one is signed out on both, and wrong passwords
//! sent to both nodes in turn count together.

mod support;
mod sync_support;

use std::time::Duration;

use support::http::{hidden, Http};
use support::pg::TestDb;
use sync_support::*;

const SUE: &str = "sue";
const SUE_PASSWORD: &str = "sue-password-1234";

/// A client for head office's nodes over TLS (the test CA), with one
/// cookie jar whichever node it talks to (one host name behind a load
/// balancer): set `base` to the node.
fn client(ca: &std::path::Path) -> Http {
    Http::trusting("", ca)
}

/// `http`'s request to `node`.
fn on<'a>(http: &'a mut Http, node: &str) -> &'a mut Http {
    http.base = node.to_owned();
    http
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
    let mut sue = client(&hq.pki.ca);
    let r = on(&mut sue, &url_a).sign_in(SUE, SUE_PASSWORD);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(sue.cookies.contains_key("scantrail_session"));
    let page = on(&mut sue, &url_b).get("/");
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
    let page = on(&mut sue, &url_a).get("/");
    assert_eq!(page.status, 200, "{:?}", page.headers);

    // Signed out on B with the page's form token: A no longer knows the
    // session, even when the browser sends its cookie again.
    let id = sue.cookies["scantrail_session"].clone();
    let csrf = hidden(&page.body, "csrf");
    let out = on(&mut sue, &url_b).post("/logout", &[("csrf", &csrf)], &[]);
    assert_eq!(out.status, 303, "{}", out.body);
    sue.cookies.insert("scantrail_session".into(), id);
    let r = on(&mut sue, &url_a).get("/");
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
    let mut guess = client(&hq.pki.ca);
    for i in 0..4 {
        let node = if i % 2 == 0 { &url_a } else { &url_b };
        let r = on(&mut guess, node).sign_in(SUE, "wrong-password");
        assert_eq!(r.status, 401, "attempt {i} on {node}: {}", r.body);
    }
    let mut wait = 0;
    for node in [&url_a, &url_b] {
        let r = on(&mut guess, node).sign_in(SUE, SUE_PASSWORD);
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
    let mut sue = client(&hq.pki.ca);
    assert_eq!(on(&mut sue, &url_b).sign_in(SUE, SUE_PASSWORD).status, 303);
    pg.stop_immediately();
    let r = on(&mut sue, &url_a).get("/");
    assert_eq!(r.status, 303, "{}", r.body);
    let mut late = client(&hq.pki.ca);
    let r = on(&mut late, &url_a).sign_in(SUE, SUE_PASSWORD);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.headers["retry-after"], "5");
    assert!(r.body.contains("database cannot be reached"), "{}", r.body);
    // Back: the session is there again, on either node.
    pg.restart();
    pg.wait_ready();
    let back = wait_for(Duration::from_secs(30), || {
        on(&mut sue, &url_a).get("/").status == 200
    });
    assert!(
        back.is_some(),
        "the session did not come back with the database"
    );
    a.stop();
    b.stop();
}
