//! A one-shot reply slot the committer answers each requester through,
//! waitable both by a blocking thread and by an async task, so the store
//! needs no async runtime of its own. If the committer goes away without
//! answering (it panicked, or the store shut down), the waiter is told so
//! instead of waiting forever.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

struct State<T> {
    value: Option<Option<T>>,
    waker: Option<Waker>,
}

/// The committer's end.
pub struct Reply<T>(Option<Arc<Slot<T>>>);

/// The requester's end: `wait()` blocks, `.await` suspends. `None` means
/// the committer went away without answering.
pub struct Pending<T>(Arc<Slot<T>>);

pub fn channel<T>() -> (Reply<T>, Pending<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            value: None,
            waker: None,
        }),
        ready: Condvar::new(),
    });
    (Reply(Some(slot.clone())), Pending(slot))
}

impl<T> Reply<T> {
    pub fn send(mut self, value: T) {
        if let Some(slot) = self.0.take() {
            deliver(&slot, Some(value));
        }
    }
}

fn deliver<T>(slot: &Slot<T>, value: Option<T>) {
    let mut state = slot.state.lock().unwrap_or_else(PoisonError::into_inner);
    state.value = Some(value);
    let waker = state.waker.take();
    drop(state);
    slot.ready.notify_all();
    if let Some(w) = waker {
        w.wake();
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            deliver(&slot, None);
        }
    }
}

impl<T> Pending<T> {
    pub fn wait(self) -> Option<T> {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(v) = state.value.take() {
                return v;
            }
            state = self
                .0
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl<T> Future for Pending<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_reports_a_dropped_reply() {
        let (tx, rx) = channel();
        std::thread::spawn(move || tx.send(5));
        assert_eq!(rx.wait(), Some(5));
        let (tx, rx) = channel::<u8>();
        drop(tx);
        assert_eq!(rx.wait(), None);
    }
}
