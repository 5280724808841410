//! An alert change as an e-mail, handed to the site's SMTP relay
//! (`[alerts] smtp`): plain SMTP (EHLO, MAIL, RCPT, DATA) to a relay that
//! takes mail from this machine without signing in — the local postfix,
//! or the company's relay on the site network — which carries it on. No
//! TLS and no password here: a relay that needs them is reached through
//! one that does not.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::webhook::Payload;

/// How long connecting, and each read or write, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a mail was not taken.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The relay's address does not resolve or does not answer.
    #[error("cannot reach the SMTP relay {relay}: {reason}")]
    Connect {
        /// `[alerts] smtp`.
        relay: String,
        /// What the system said.
        reason: String,
    },
    /// The connection broke.
    #[error("the SMTP relay connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// The relay answered a step with a refusal.
    #[error("the SMTP relay refused {step}: {reply}")]
    Refused {
        /// Which command.
        step: &'static str,
        /// Its answer.
        reply: String,
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
        let connect = |reason: String| MailError::Connect {
            relay: self.relay.clone(),
            reason,
        };
        let address = self
            .relay
            .to_socket_addrs()
            .map_err(|e| connect(e.to_string()))?
            .next()
            .ok_or_else(|| connect("no address".to_owned()))?;
        let stream =
            TcpStream::connect_timeout(&address, TIMEOUT).map_err(|e| connect(e.to_string()))?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        let mut session = Session {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        };
        session.expect("the greeting", 220)?;
        session.command(&format!("EHLO scantrail-{}", payload.site), "EHLO", 250)?;
        session.command(&format!("MAIL FROM:<{}>", self.from), "MAIL FROM", 250)?;
        for to in &self.to {
            session.command(&format!("RCPT TO:<{to}>"), "RCPT TO", 250)?;
        }
        session.command("DATA", "DATA", 354)?;
        session.writer.write_all(self.message(payload).as_bytes())?;
        session.command(".", "the message", 250)?;
        // The mail is taken; a relay that hangs up before saying goodbye
        // changes nothing.
        let _ = session.command("QUIT", "QUIT", 221);
        Ok(())
    }

    /// The headers and text, dot-stuffed, lines ending in CRLF.
    fn message(&self, p: &Payload) -> String {
        let what = if p.subject.is_empty() {
            p.alert.to_owned()
        } else {
            format!("{} {}", p.alert, p.subject)
        };
        let state = match p.state {
            super::watch::Change::Raised => "raised",
            super::watch::Change::Resolved => "resolved",
        };
        let headers = [
            format!("From: scantrail {} <{}>", p.site, self.from),
            format!("To: {}", self.to.join(", ")),
            format!("Subject: [scantrail {}] {state}: {what}", p.site),
            format!("Date: {}", p.at.to_rfc2822()),
            "MIME-Version: 1.0".to_owned(),
            "Content-Type: text/plain; charset=utf-8".to_owned(),
            "Content-Transfer-Encoding: 8bit".to_owned(),
        ];
        let body = format!(
            "{}\n\nsite: {}\nalert: {}\nsubject: {}\nstate: {state}\nat: {}\n",
            p.message,
            p.site,
            p.alert,
            p.subject,
            p.at.to_rfc3339()
        );
        let mut text = headers.join("\r\n");
        text.push_str("\r\n\r\n");
        for line in body.lines() {
            // A line starting with a dot would end the message early.
            if line.starts_with('.') {
                text.push('.');
            }
            text.push_str(line);
            text.push_str("\r\n");
        }
        text
    }
}

struct Session {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Session {
    /// Sends `line` and expects `code` back.
    fn command(&mut self, line: &str, step: &'static str, code: u16) -> Result<(), MailError> {
        self.writer.write_all(format!("{line}\r\n").as_bytes())?;
        self.expect(step, code)
    }

    /// Reads a reply (all its lines) and checks its code.
    fn expect(&mut self, step: &'static str, code: u16) -> Result<(), MailError> {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(MailError::Refused {
                    step,
                    reply: format!("the connection closed{}", reply_words(&reply)),
                });
            }
            reply.push_str(line.trim_end());
            // `250-...` continues, `250 ...` ends.
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
            reply.push(' ');
        }
        let got: Option<u16> = reply.get(..3).and_then(|c| c.parse().ok());
        // 251: the relay forwards to the recipient; as good as taken.
        match got {
            Some(c) if c == code || (code == 250 && c == 251) => Ok(()),
            _ => Err(MailError::Refused { step, reply }),
        }
    }
}

fn reply_words(reply: &str) -> String {
    if reply.is_empty() {
        String::new()
    } else {
        format!(" after {reply}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::alerts::watch::Change;

    #[test]
    fn the_message_names_site_state_and_alert_and_stuffs_a_leading_dot() {
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
        let text = mail.message(&p);
        assert!(
            text.contains("Subject: [scantrail north] raised: scanner_gone /dev/ttyACM0\r\n"),
            "{text}"
        );
        assert!(
            text.contains("To: it@example.com, ops@example.com\r\n"),
            "{text}"
        );
        assert!(
            text.contains("\r\n\r\nscanner gone\r\n..hidden\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with("state: raised\r\nat: 2027-01-15T08:00:00+00:00\r\n"),
            "{text}"
        );
    }
}
