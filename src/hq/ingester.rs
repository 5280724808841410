//! One thread feeds the store's `Ingest::many` with whatever batches are
//! waiting, from any number of sites, so that concurrent uploads share one
//! atomic write and one durable flush instead of queueing flush after
//! flush (the same group commit a site uses for its scans).

use std::sync::mpsc;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::store::ingest::{Incoming, Ingested, Refusal};
use crate::store::{Store, StoreError};

/// Batches taken into one write at most.
const MAX_GROUP: usize = 64;

pub(super) type Outcome = Result<Result<Ingested, Refusal>, IngestError>;

/// Why a batch was not ingested (head office answers 503, the site sends
/// it again later).
#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    /// The store's write of the group failed: every batch of the group gets
    /// the same error, so it is shared.
    #[error(transparent)]
    Store(Arc<StoreError>),
    /// The ingest thread is gone (head office is stopping, or it panicked).
    #[error("the ingester has stopped")]
    Stopped,
}

type Job = (Incoming, oneshot::Sender<Outcome>);

/// The handle of head office's ingest thread: sites' batches go into the
/// embedded store one group at a time, each answered once durable.
#[derive(Clone)]
pub struct Ingester {
    tx: mpsc::Sender<Job>,
}

impl Ingester {
    /// Starts the thread over `store`.
    pub fn start(store: Arc<Store>) -> std::io::Result<Ingester> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("hq-ingester".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    let mut entries = jobs[0].0.entries.len();
                    while jobs.len() < MAX_GROUP && entries < 50_000 {
                        match rx.try_recv() {
                            Ok(j) => {
                                entries += j.0.entries.len();
                                jobs.push(j);
                            }
                            Err(_) => break,
                        }
                    }
                    let (batches, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
                    match store.ingest().many(batches) {
                        Ok(answers) => {
                            for (reply, answer) in replies.into_iter().zip(answers) {
                                let _ = reply.send(Ok(answer));
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "ingest failed");
                            let e = Arc::new(e);
                            for reply in replies {
                                let _ = reply.send(Err(IngestError::Store(e.clone())));
                            }
                        }
                    }
                }
            })?;
        Ok(Ingester { tx })
    }

    pub(super) async fn ingest(&self, incoming: Incoming) -> Outcome {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((incoming, reply))
            .map_err(|_| IngestError::Stopped)?;
        answer.await.unwrap_or(Err(IngestError::Stopped))
    }
}
