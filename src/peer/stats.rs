//! Traffic counters and the [`Stats`] snapshot.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::SocketAddr;
use core::time::Duration;

use crate::time::Time;
use crate::wire::{Command, ServiceFlags};

/// Messages and bytes (headers included) of one command, each direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandStats {
    /// The command.
    pub command: Command,
    /// Messages sent.
    pub msgs_sent: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Messages received.
    pub msgs_recv: u64,
    /// Bytes received.
    pub bytes_recv: u64,
}

/// Per-command counters; grows only with the distinct commands actually seen.
#[derive(Clone, Debug, Default)]
pub(crate) struct Traffic {
    commands: Vec<CommandStats>,
}

impl Traffic {
    fn entry(&mut self, command: Command) -> &mut CommandStats {
        let i = match self.commands.iter().position(|c| c.command == command) {
            Some(i) => i,
            None => {
                // Exact growth: a peer sees a dozen distinct commands, not a power of two.
                self.commands.reserve_exact(1);
                self.commands.push(CommandStats {
                    command,
                    msgs_sent: 0,
                    bytes_sent: 0,
                    msgs_recv: 0,
                    bytes_recv: 0,
                });
                self.commands.len() - 1
            }
        };
        &mut self.commands[i]
    }

    pub(crate) fn record_sent(&mut self, command: Command, bytes: usize) {
        let e = self.entry(command);
        e.msgs_sent += 1;
        e.bytes_sent += bytes as u64;
    }

    pub(crate) fn record_recv(&mut self, command: Command, bytes: usize) {
        let e = self.entry(command);
        e.msgs_recv += 1;
        e.bytes_recv += bytes as u64;
    }

    pub(crate) fn snapshot(&self) -> Vec<CommandStats> {
        let mut v = self.commands.clone();
        v.sort_by_key(|c| c.command);
        v
    }
}

/// A snapshot of a peer's state and counters (btcd's `StatsSnap` plus per-command counts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// The remote address.
    pub addr: SocketAddr,
    /// Whether the remote dialed us.
    pub inbound: bool,
    /// The remote's services (ours until its `version` arrives, as btcd reports).
    pub services: ServiceFlags,
    /// When bytes were last written.
    pub last_send: Option<Time>,
    /// When a message was last received.
    pub last_recv: Option<Time>,
    /// Bytes written (as reported through `on_sent`).
    pub bytes_sent: u64,
    /// Bytes received (everything given to `handle_input`).
    pub bytes_recv: u64,
    /// When the peer was created.
    pub connected_at: Time,
    /// How long ago that was.
    pub uptime: Duration,
    /// The remote's clock minus ours, in seconds, at its `version`.
    pub time_offset: i64,
    /// The protocol version the remote advertised.
    pub version: u32,
    /// The negotiated protocol version.
    pub negotiated_version: u32,
    /// The remote's user agent.
    pub user_agent: String,
    /// The remote's height at its `version`.
    pub starting_height: i32,
    /// The remote's best known height.
    pub last_block: i32,
    /// Nonce of the outstanding ping (0 = none).
    pub last_ping_nonce: u64,
    /// When the last ping was written.
    pub last_ping_time: Option<Time>,
    /// Round-trip time of the last answered ping.
    pub last_ping_rtt: Option<Duration>,
    /// Per-command message and byte counts, sorted by command.
    pub commands: Vec<CommandStats>,
}
