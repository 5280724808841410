//! An alert change as an e-mail, handed to the site's SMTP relay
//! (`[alerts] smtp`, `host:port`) with `lettre`: plain SMTP to a relay
//! that takes mail from this machine without signing in — the local
//! postfix, or the company's relay on the site network — which carries it
//! on. No TLS and no password here: a relay that needs them is reached
//! through one that does not.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Mailboxes};
use lettre::{Message, SmtpTransport, Transport};

use super::webhook::Payload;

/// How long each SMTP command may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a mail was not taken.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `[alerts] smtp` is not `host:port`.
    #[error("`[alerts] smtp` = {0:?} is not host:port (e.g. \"127.0.0.1:25\")")]
    Relay(String),
    /// `mail_from` or a `mail_to` is not an address.
    #[error(
        "{address:?} is not an e-mail address ({source}): fix `[alerts] mail_from` / `mail_to`"
    )]
    Address {
        /// The configured text.
        address: String,
        /// What the parser said.
        source: lettre::address::AddressError,
    },
    /// The message could not be put together.
    #[error("the alert's mail cannot be written: {0}")]
    Build(#[from] lettre::error::Error),
    /// The relay could not be reached, or refused a step.
    #[error("the SMTP relay {relay} did not take the mail: {source}")]
    Send {
        /// `[alerts] smtp`.
        relay: String,
        /// lettre's account of it.
        source: lettre::transport::smtp::Error,
    },
}

/// A relay and who the mail is from and to.
#[derive(Debug, Clone)]
pub struct Mail {
    /// `host:port`.
    pub relay: String,
    /// The sender's address.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

impl Mail {
    /// The relay and the recipients, for the log.
    pub fn target(&self) -> String {
        format!("{} via {}", self.to.join(", "), self.relay)
    }

    /// Hands one change to the relay.
    pub fn send(&self, payload: &Payload) -> Result<(), MailError> {
        let (host, port) = self
            .relay
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
            .ok_or_else(|| MailError::Relay(self.relay.clone()))?;
        let relay = SmtpTransport::builder_dangerous(host)
            .port(port)
            .timeout(Some(TIMEOUT))
            .build();
        relay
            .send(&self.message(payload)?)
            .map_err(|source| MailError::Send {
                relay: self.relay.clone(),
                source,
            })?;
        Ok(())
    }

    /// The message: who from and to, a subject with the site, the state and
    /// the alert, and the text in words with the facts below it.
    fn message(&self, p: &Payload) -> Result<Message, MailError> {
        let mailbox = |address: &str| {
            address
                .parse::<lettre::Address>()
                .map(|a| Mailbox::new(None, a))
                .map_err(|source| MailError::Address {
                    address: address.to_owned(),
                    source,
                })
        };
        let what = if p.subject.is_empty() {
            p.alert.to_owned()
        } else {
            format!("{} {}", p.alert, p.subject)
        };
        let state = match p.state {
            super::watch::Change::Raised => "raised",
            super::watch::Change::Resolved => "resolved",
        };
        let mut to = Mailboxes::new();
        for address in &self.to {
            to.push(mailbox(address)?);
        }
        let from = Mailbox::new(
            Some(format!("scantrail {}", p.site)),
            mailbox(&self.from)?.email,
        );
        let body = format!(
            "{}\n\nsite: {}\nalert: {}\nsubject: {}\nstate: {state}\nat: {}\n",
            p.message,
            p.site,
            p.alert,
            p.subject,
            p.at.to_rfc3339()
        );
        Ok(Message::builder()
            .from(from)
            .mailbox(lettre::message::header::To::from(to))
            .subject(format!("[scantrail {}] {state}: {what}", p.site))
            .date(p.at.into())
            .header(ContentType::TEXT_PLAIN)
            .body(body)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::alerts::watch::Change;

    #[test]
    fn the_message_names_site_state_and_alert_and_a_bad_address_is_named() {
        let mail = Mail {
            relay: "127.0.0.1:25".into(),
            from: "scantrail@north.example".into(),
            to: vec!["it@example.com".into(), "ops@example.com".into()],
        };
        let p = Payload {
            site: "north".into(),
            alert: "scanner_gone",
            subject: "/dev/ttyACM0".into(),
            state: Change::Raised,
            message: "scanner gone\n.hidden".into(),
            at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let text = String::from_utf8(mail.message(&p).unwrap().formatted()).unwrap();
        assert!(
            text.contains("Subject: [scantrail north] raised: scanner_gone /dev/ttyACM0\r\n"),
            "{text}"
        );
        assert!(
            text.contains("To: it@example.com, ops@example.com\r\n"),
            "{text}"
        );
        assert!(text.contains("scanner gone\r\n.hidden\r\n"), "{text}");
        assert!(
            text.contains("state: raised\r\nat: 2027-01-15T08:00:00+00:00\r\n"),
            "{text}"
        );
        let bad = Mail {
            from: "not an address".into(),
            ..mail
        };
        assert!(matches!(bad.message(&p), Err(MailError::Address { .. })));
    }
}
