//! Requests to head office: the bearer credential on each, JSON answers
//! read, and every failure sorted by `failure::classify`.

use super::failure::{classify, unreachable, Failure};
use super::Link;
use crate::model::Log;
use crate::sync::heads::{self, SiteHeads};
use crate::sync::protocol::POSTCARD;

impl Link {
    pub(super) fn request(&self, method: &str, url: &str) -> ureq::Request {
        let mut r = self.agent.request(method, url);
        // Every request tells head office how far this site's logs go, so
        // that it can show the backlog (an unreadable head sends none).
        let site = self.store.site();
        if let (Ok(movements), Ok(rejections)) = (
            self.store.journal().log_head(site, Log::Movements),
            self.store.journal().log_head(site, Log::Rejections),
        ) {
            let heads = SiteHeads {
                movements: movements.seq,
                rejections: rejections.seq,
            };
            r = r.set(heads::HEADER, &heads.to_header());
        }
        match &self.settings.credential {
            Some(t) => r.set("Authorization", &format!("Bearer {t}")),
            None => r,
        }
    }

    pub(super) fn get_json<T: serde::de::DeserializeOwned>(&self, p: &str) -> Result<T, Failure> {
        let url = format!("{}{p}", self.settings.url);
        let response = self.call(self.request("GET", &url), None)?;
        response.into_json().map_err(|e| Failure::Retry {
            message: format!("head office's answer to {p} cannot be read: {e}"),
            retry_after: None,
        })
    }

    /// Sends a request and sorts its failures.
    pub(super) fn call(
        &self,
        request: ureq::Request,
        body: Option<&[u8]>,
    ) -> Result<ureq::Response, Failure> {
        let result = match body {
            Some(b) => request.set("Content-Type", POSTCARD).send_bytes(b),
            None => request.call(),
        };
        self.call_result(result)
    }

    /// A request's outcome with its failures sorted.
    pub(super) fn call_result(
        &self,
        result: Result<ureq::Response, ureq::Error>,
    ) -> Result<ureq::Response, Failure> {
        match result {
            Ok(r) => Ok(r),
            Err(ureq::Error::Transport(t)) => Err(unreachable(t)),
            Err(ureq::Error::Status(code, response)) => {
                let retry_after = response.header("Retry-After").map(str::to_owned);
                let text = response.into_string().unwrap_or_default();
                Err(classify(code, retry_after.as_deref(), &text))
            }
        }
    }
}
