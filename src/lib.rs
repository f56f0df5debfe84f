//! `bitpeer`: a sans-IO Bitcoin (and Decred) peer.
//!
//! The crate is a pure state machine plus the wire codec it needs. It never opens a socket,
//! reads a clock, spawns a thread or draws from a global RNG: time and randomness are inputs.
#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod blake256;
pub mod lru;
pub mod network;
pub mod node;
pub mod peer;
pub mod time;
pub mod wire;

pub use network::{Chain, Network};
pub use peer::{Config, DisconnectReason, Event, PeerState, SendId, Stats};
pub use time::Time;
