//! The version handshake (PEER.md section 3): our `version`, and the checks on theirs.

use core::net::{IpAddr, SocketAddr};

use super::config::Config;
use super::event::DisconnectReason;
use crate::time::Time;
use crate::wire::{NetAddress, ServiceFlags, Version};

/// Where a connection is in its handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the remote's `version`.
    AwaitVersion,
    /// The remote's `version` is in; waiting for the application's decision.
    AwaitApproval,
    /// Our `verack` is out (or due); waiting for theirs.
    AwaitVerack,
    /// Handshake complete.
    Active,
    /// Over.
    Disconnected,
}

/// Builds our `version` (PEER.md 3.2).
pub(crate) fn our_version(
    cfg: &Config,
    remote: SocketAddr,
    remote_services: ServiceFlags,
    now: Time,
    nonce: u64,
) -> Version {
    Version {
        protocol_version: cfg.protocol_version as i32,
        services: cfg.services,
        timestamp: now.as_secs() as i64,
        receiver: NetAddress::new(remote.ip(), remote.port(), remote_services),
        sender: NetAddress::new(
            IpAddr::V6(core::net::Ipv6Addr::UNSPECIFIED),
            0,
            cfg.services,
        ),
        nonce,
        user_agent: cfg.user_agent.clone(),
        start_height: cfg.best_height,
        relay: cfg.relay,
    }
}

/// Checks a remote `version` before anything else is done with it: a nonce of ours means we
/// connected to ourselves; a version below the minimum (negative ones included, as Bitcoin
/// Core and dcrd treat them) is refused.
pub(crate) fn check_remote(cfg: &Config, v: &Version) -> Result<(), DisconnectReason> {
    if !cfg.allow_self_connections && cfg.nonces.contains(v.nonce) {
        cfg.nonces.mark_detected(v.nonce);
        return Err(DisconnectReason::SelfConnection);
    }
    if v.protocol_version < 0 || (v.protocol_version as u32) < cfg.min_protocol_version {
        return Err(DisconnectReason::ProtocolVersionTooOld {
            version: v.protocol_version,
            minimum: cfg.min_protocol_version,
        });
    }
    Ok(())
}
