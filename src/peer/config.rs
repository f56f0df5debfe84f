//! Per-node configuration shared by its peers (clone it for each connection).

use alloc::string::String;
use alloc::sync::Arc;
use core::time::Duration;

use super::nonces::NonceCache;
use crate::network::{Chain, Network};
use crate::wire::{ServiceFlags, append_user_agent, versions};

/// The crate's own user-agent component, the base every user agent starts from.
pub const BASE_USER_AGENT: &str = concat!("/bitpeer:", env!("CARGO_PKG_VERSION"), "/");

/// How queued inventory is batched before it is announced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TricklePolicy {
    /// btcd: flush every fixed interval (default 10 s).
    Fixed(Duration),
    /// Bitcoin Core: exponentially distributed delays (a Poisson process) with these means for
    /// outbound and inbound peers (Core uses 2 s and 5 s).
    Poisson {
        /// Mean delay for peers we dialed.
        outbound_mean: Duration,
        /// Mean delay for peers that dialed us.
        inbound_mean: Duration,
    },
    /// dcrd: a uniformly random delay in `[min, max)` before each round (100–500 ms).
    Uniform {
        /// Shortest delay.
        min: Duration,
        /// Longest delay (exclusive).
        max: Duration,
    },
}

/// A user agent part failed BIP14's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A name, version or comment is empty, holds a reserved character (`/ : ( ) ;`), or the
    /// user agent would exceed 256 bytes.
    #[error("invalid BIP14 user agent part")]
    InvalidUserAgent,
}

/// Everything a peer needs to know about the local node. Build with [`Config::new`] and the
/// setters; clone it for each connection (clones share the self-connection [`NonceCache`]).
#[derive(Clone, Debug)]
pub struct Config {
    /// The network.
    pub network: Network,
    /// Our BIP14 user agent.
    pub user_agent: String,
    /// Services we advertise.
    pub services: ServiceFlags,
    /// The highest protocol version we speak (advertised in our `version`).
    pub protocol_version: u32,
    /// Remote versions below this are refused (btcd 209, dcrd 9).
    pub min_protocol_version: u32,
    /// Whether we want transactions relayed to us (the `version` relay flag).
    pub relay: bool,
    /// Our best height, sent as `start_height`.
    pub best_height: i32,
    /// Inventory batching.
    pub trickle: TricklePolicy,
    /// Known-inventory cache size per peer.
    pub max_known_inventory: usize,
    /// Known-inventory entries expire this long after insertion (dcrd: 15 minutes).
    pub known_inventory_ttl: Option<Duration>,
    /// The whole handshake must finish within this.
    pub handshake_timeout: Duration,
    /// Disconnect when nothing was received for this long.
    pub idle_timeout: Duration,
    /// How often to ping.
    pub ping_interval: Duration,
    /// How often pending-response deadlines are checked (0 disables the stall handler).
    pub stall_tick: Duration,
    /// Base deadline for an expected response (getheaders gets three times this).
    pub stall_timeout: Duration,
    /// Connections to ourselves are allowed (tests only).
    pub allow_self_connections: bool,
    /// Hold the handshake after the remote's `version` until the application calls
    /// `accept_version` or `reject_version`.
    pub approve_versions: bool,
    /// Disconnect when more than this many bytes are queued but not written.
    pub max_send_queue_bytes: usize,
    /// Nonces our own `version` messages used, shared by every clone of this config.
    pub nonces: Arc<NonceCache>,
}

impl Config {
    /// Defaults for `network`: btcd's (Bitcoin) or dcrd's (Decred) constants, all services off.
    pub fn new(network: Network) -> Config {
        let decred = network.chain() == Chain::Decred;
        Config {
            network,
            user_agent: String::from(BASE_USER_AGENT),
            services: ServiceFlags::NONE,
            protocol_version: if decred { 12 } else { versions::LATEST },
            min_protocol_version: if decred {
                9
            } else {
                versions::MULTIPLE_ADDRESS
            },
            relay: true,
            best_height: 0,
            trickle: if decred {
                TricklePolicy::Uniform {
                    min: Duration::from_millis(100),
                    max: Duration::from_millis(500),
                }
            } else {
                TricklePolicy::Fixed(Duration::from_secs(10))
            },
            max_known_inventory: 1000,
            known_inventory_ttl: decred.then_some(Duration::from_secs(15 * 60)),
            handshake_timeout: Duration::from_secs(30),
            idle_timeout: if decred {
                Duration::from_secs(120)
            } else {
                Duration::from_secs(300)
            },
            ping_interval: if decred {
                Duration::from_secs(107)
            } else {
                Duration::from_secs(120)
            },
            stall_tick: Duration::from_secs(15),
            stall_timeout: Duration::from_secs(30),
            allow_self_connections: false,
            approve_versions: false,
            max_send_queue_bytes: 40 * 1024 * 1024,
            nonces: Arc::new(NonceCache::new()),
        }
    }

    /// Sets the user agent to the crate's base plus `name:version(comments)/` (BIP14).
    pub fn user_agent(
        mut self,
        name: &str,
        version: &str,
        comments: &[&str],
    ) -> Result<Config, ConfigError> {
        self.user_agent = append_user_agent(BASE_USER_AGENT, name, version, comments)
            .ok_or(ConfigError::InvalidUserAgent)?;
        Ok(self)
    }

    /// Sets the advertised services.
    pub fn services(mut self, services: ServiceFlags) -> Config {
        self.services = services;
        self
    }

    /// Sets the best height sent in `version`.
    pub fn best_height(mut self, height: i32) -> Config {
        self.best_height = height;
        self
    }

    /// Sets the highest protocol version we speak.
    pub fn protocol_version(mut self, version: u32) -> Config {
        self.protocol_version = version;
        self
    }

    /// Sets the version relay flag.
    pub fn relay(mut self, relay: bool) -> Config {
        self.relay = relay;
        self
    }

    /// Sets the inventory trickle policy.
    pub fn trickle(mut self, policy: TricklePolicy) -> Config {
        self.trickle = policy;
        self
    }

    /// Holds each handshake for the application's decision on the remote version.
    pub fn approve_versions(mut self, yes: bool) -> Config {
        self.approve_versions = yes;
        self
    }

    /// Allows connections to ourselves (tests).
    pub fn allow_self_connections(mut self, yes: bool) -> Config {
        self.allow_self_connections = yes;
        self
    }
}
