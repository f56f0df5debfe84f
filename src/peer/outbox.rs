//! The outbound queue: encoded frames in FIFO order, what has been handed to the driver, and
//! what the driver confirmed written.

use alloc::collections::VecDeque;
use bytes::Bytes;

use super::event::SendId;
use crate::wire::Command;

/// Why a frame is queued, which decides what happens when it is written or when the peer
/// disconnects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Handshake traffic: no stall deadlines.
    Handshake,
    /// An ordinary message.
    Normal,
    /// A ping with this nonce: ping statistics start when it is written.
    Ping(u64),
    /// A reject written before disconnecting: still sent after the disconnect.
    Farewell,
}

#[derive(Clone, Debug)]
struct Queued {
    frame: Bytes,
    command: Command,
    id: Option<SendId>,
    purpose: Purpose,
}

/// A frame whose last byte the driver has confirmed written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Written {
    pub command: Command,
    pub len: usize,
    pub id: Option<SendId>,
    pub purpose: Purpose,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    end: u64,
    written: Written,
}

/// FIFO of frames plus byte accounting.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    in_flight: VecDeque<InFlight>,
    handed_out: u64,
    confirmed: u64,
}

impl Outbox {
    /// Appends a frame.
    pub(crate) fn push(
        &mut self,
        frame: Bytes,
        command: Command,
        id: Option<SendId>,
        purpose: Purpose,
    ) {
        self.queued_bytes += frame.len();
        self.queue.push_back(Queued {
            frame,
            command,
            id,
            purpose,
        });
    }

    /// Bytes queued or handed out but not yet confirmed written.
    pub(crate) fn unsent_bytes(&self) -> usize {
        self.queued_bytes + (self.handed_out - self.confirmed) as usize
    }

    /// Frames waiting to be handed out.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Hands the next frame to the driver.
    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        let q = self.queue.pop_front()?;
        if self.queue.is_empty() {
            // Idle peers should not keep a burst's worth of slots.
            self.queue = VecDeque::new();
        }
        self.queued_bytes -= q.frame.len();
        self.handed_out += q.frame.len() as u64;
        self.in_flight.push_back(InFlight {
            end: self.handed_out,
            written: Written {
                command: q.command,
                len: q.frame.len(),
                id: q.id,
                purpose: q.purpose,
            },
        });
        Some(q.frame)
    }

    /// The driver wrote `n` more bytes; [`next_written`](Self::next_written) then yields the
    /// frames that are now completely written.
    pub(crate) fn confirm(&mut self, n: usize) {
        self.confirmed = (self.confirmed + n as u64).min(self.handed_out);
    }

    /// The next frame whose last byte has been confirmed written, oldest first.
    pub(crate) fn next_written(&mut self) -> Option<Written> {
        let f = self.in_flight.front().filter(|f| f.end <= self.confirmed)?;
        let written = f.written;
        self.in_flight.pop_front();
        if self.in_flight.is_empty() {
            // Idle peers should not keep a burst's worth of slots.
            self.in_flight = VecDeque::new();
        }
        Some(written)
    }

    /// Drops everything not yet handed out except farewell frames.
    pub(crate) fn drop_unsent(&mut self) {
        self.queue.retain(|q| q.purpose == Purpose::Farewell);
        self.queued_bytes = self.queue.iter().map(|q| q.frame.len()).sum();
    }
}
