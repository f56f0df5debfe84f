//! `bitpeer`: a sans-IO Bitcoin (and Decred) peer.
//!
//! The crate is a pure state machine plus the wire codec it needs. It never opens a socket,
//! reads a clock, spawns a thread or draws from a global RNG: time and randomness are inputs.
//!
//! * [`wire`]: the codec — [`wire::FrameDecoder`], [`wire::Message`], [`wire::encode_message`].
//! * [`peer`]: [`PeerState`], one connection's protocol state machine.
//! * [`node`]: [`node::Node`], many peers plus the host logic between them.
//!
//! # The drive loop
//!
//! Every input takes `now` ([`Time`], microseconds since the UNIX epoch). After **any**
//! `handle_*` call or command, drain [`PeerState::poll_transmit`] (write each frame, then report
//! the bytes written with [`PeerState::on_sent`]) and [`PeerState::poll_event`] until both are
//! empty, then sleep until [`PeerState::poll_timeout`] or until bytes arrive, and call
//! [`PeerState::handle_timeout`]. A spurious `handle_timeout` is harmless. On EOF call
//! [`PeerState::handle_closed`]; after [`Event::Disconnected`] write what `poll_transmit` still
//! returns and close the socket.
//!
//! Two peers joined in memory, which is all a test or simulator needs:
//!
//! ```
//! use bitpeer::{Config, Event, Network, PeerState, Time};
//! use rand::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
//! let now = Time::from_secs(1_700_000_000);
//! let cfg = Config::new(Network::BITCOIN_REGTEST).user_agent("doc", "1.0", &[]).unwrap();
//! let mut a = PeerState::outbound(cfg.clone().allow_self_connections(true),
//!                                 "127.0.0.1:18444".parse().unwrap(), now, &mut rng);
//! let mut b = PeerState::inbound(cfg.allow_self_connections(true),
//!                                "127.0.0.1:50000".parse().unwrap(), now, &mut rng);
//! fn pump(from: &mut PeerState, to: &mut PeerState, now: Time) -> bool {
//!     let mut moved = false;
//!     while let Some(frame) = from.poll_transmit() {
//!         from.on_sent(frame.len(), now);
//!         to.handle_input(now, &frame);
//!         moved = true;
//!     }
//!     moved
//! }
//! let mut ready = 0;
//! while ready < 2 {
//!     let moved = pump(&mut a, &mut b, now) | pump(&mut b, &mut a, now);
//!     for peer in [&mut a, &mut b] {
//!         while let Some(event) = peer.poll_event() {
//!             if let Event::Ready(_) = event { ready += 1; }
//!         }
//!     }
//!     assert!(moved || ready == 2);
//! }
//! assert!(a.is_ready() && b.is_ready());
//! assert_eq!(a.poll_timeout(), Some(now + core::time::Duration::from_secs(120))); // first ping
//! ```
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
pub use peer::{Blame, Config, DisconnectReason, Event, PeerState, SendId, Stats};
pub use time::Time;
