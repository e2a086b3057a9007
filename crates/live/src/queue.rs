//! A channel's queue from capture to recognition, bounded in audio.
//!
//! A bound in blocks would hold as much audio as the source's blocks are
//! long: a sound card's blocks are a callback's worth (10 to 20 ms), so
//! "30 s" of blocks counted at 100 ms each would hold a few seconds. This
//! queue counts frames, so `queue_seconds` means seconds whatever the
//! source.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::Feed;

impl Feed {
    /// What an item counts against the bound: its frames; a gap counts
    /// one, so that gaps alone cannot grow the queue without end.
    fn weight(&self) -> u64 {
        match self {
            Feed::Audio { samples, .. } => (samples.len() as u64).max(1),
            Feed::Gap { .. } => 1,
        }
    }
}

struct State {
    items: VecDeque<Feed>,
    /// The weight of `items`.
    frames: u64,
    sender_gone: bool,
    receiver_gone: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    limit: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the queue consistent (every
        // update is a single push or pop), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether an item of `weight` fits now; one item always does.
    fn fits(&self, state: &State, weight: u64) -> bool {
        state.frames == 0 || state.frames + weight <= self.limit
    }

    /// Queues `item` unless the receiver is gone, and wakes the receiver.
    fn push(&self, mut state: MutexGuard<'_, State>, item: Feed, weight: u64) -> Result<(), Feed> {
        if state.receiver_gone {
            return Err(item);
        }
        state.frames += weight;
        state.items.push_back(item);
        drop(state);
        self.changed.notify_all();
        Ok(())
    }
}

/// The capture side.
pub(crate) struct FeedSender(Arc<Shared>);

/// The recognition side.
pub(crate) struct FeedReceiver(Arc<Shared>);

/// A queue that holds at most `limit_frames` frames (and always at least
/// one item, however long).
pub(crate) fn feed_queue(limit_frames: u64) -> (FeedSender, FeedReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            frames: 0,
            sender_gone: false,
            receiver_gone: false,
        }),
        changed: Condvar::new(),
        limit: limit_frames.max(1),
    });
    (FeedSender(Arc::clone(&shared)), FeedReceiver(shared))
}

impl FeedSender {
    /// Queues `item`, waiting while the queue is full; gives it back if the
    /// receiver is gone.
    pub(crate) fn send(&self, item: Feed) -> Result<(), Feed> {
        let weight = item.weight();
        let mut state = self.0.lock();
        while !state.receiver_gone && !self.0.fits(&state, weight) {
            state = self
                .0
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        self.0.push(state, item, weight)
    }

    /// Queues `item` if it fits now.
    #[cfg(test)]
    pub(crate) fn try_send(&self, item: Feed) -> Result<(), Feed> {
        let weight = item.weight();
        let state = self.0.lock();
        if !self.0.fits(&state, weight) {
            return Err(item);
        }
        self.0.push(state, item, weight)
    }
}

impl Drop for FeedSender {
    fn drop(&mut self) {
        self.0.lock().sender_gone = true;
        self.0.changed.notify_all();
    }
}

impl FeedReceiver {
    /// The next item, waiting for one; `None` once the queue is empty and
    /// the sender is gone.
    pub(crate) fn recv(&self) -> Option<Feed> {
        let mut state = self.0.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                state.frames -= item.weight().min(state.frames);
                drop(state);
                self.0.changed.notify_all();
                return Some(item);
            }
            if state.sender_gone {
                return None;
            }
            state = self
                .0
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for FeedReceiver {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.receiver_gone = true;
        // Nobody will read them: free the audio now.
        state.items.clear();
        state.frames = 0;
        drop(state);
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::time::{Duration, Instant};

    fn audio(frames: usize) -> Feed {
        Feed::Audio {
            samples: vec![0.0; frames],
            end_frame: 0,
            arrived: Instant::now(),
        }
    }

    #[test]
    fn the_bound_is_in_frames_whatever_the_block_length() {
        let (tx, rx) = feed_queue(1000);
        for _ in 0..10 {
            assert!(tx.try_send(audio(100)).is_ok());
        }
        assert!(tx.try_send(audio(1)).is_err(), "full at 1000 frames");
        assert!(matches!(rx.recv(), Some(Feed::Audio { samples, .. }) if samples.len() == 100));
        assert!(tx.try_send(audio(100)).is_ok());
        // One item longer than the bound still passes through an empty queue.
        let (tx, rx) = feed_queue(10);
        assert!(tx.try_send(audio(50)).is_ok());
        assert!(rx.recv().is_some());
    }

    #[test]
    fn a_full_queue_waits_for_the_receiver_and_ends_with_the_sender() {
        let (tx, rx) = feed_queue(100);
        tx.send(audio(100)).unwrap();
        let reader = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let mut got = 0;
            while let Some(item) = rx.recv() {
                got += item.weight();
            }
            got
        });
        let t = Instant::now();
        tx.send(audio(100)).unwrap(); // waits for the first to be taken
        assert!(t.elapsed() >= Duration::from_millis(50));
        tx.send(Feed::Gap { missing_frames: 5 }).unwrap();
        drop(tx);
        assert_eq!(reader.join().unwrap(), 201);
    }

    #[test]
    fn a_gone_receiver_refuses_at_once() {
        let (tx, rx) = feed_queue(100);
        tx.send(audio(100)).unwrap();
        drop(rx);
        // Full, but nobody reads: the sender must not wait.
        assert!(tx.send(audio(100)).is_err());
    }
}
