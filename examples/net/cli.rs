//! Command line and printing shared by the `tokio_node`, `mio_node`, `demo` and `load` examples:
//! nothing here touches the protocol.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use bitpeer::node::PeerId;
use bitpeer::wire::{ServiceFlags, Version};
use bitpeer::{DisconnectReason, Network, Stats};

/// `--listen ADDR`, `--connect ADDR` (repeatable), `--network NAME`.
pub struct Args {
    pub listen: Option<SocketAddr>,
    pub connect: Vec<SocketAddr>,
    pub network: Network,
}

pub fn usage(program: &str) -> String {
    format!(
        "usage: {program} [--network mainnet|testnet3|testnet4|signet|regtest] \
         [--listen ADDR] [--connect ADDR]..."
    )
}

impl Args {
    pub fn parse(program: &str) -> Result<Args, String> {
        let mut args = Args {
            listen: None,
            connect: Vec::new(),
            network: Network::BITCOIN_MAINNET,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| usage(program))?;
            let addr = || -> Result<SocketAddr, String> {
                value.parse().map_err(|e| format!("{flag} {value}: {e}"))
            };
            match flag.as_str() {
                "--listen" => args.listen = Some(addr()?),
                "--connect" => args.connect.push(addr()?),
                "--network" => {
                    args.network = Network::from_name(&value)
                        .ok_or_else(|| format!("unknown network {value}"))?
                }
                _ => return Err(usage(program)),
            }
        }
        if args.listen.is_none() && args.connect.is_empty() {
            return Err(usage(program));
        }
        Ok(args)
    }
}

/// `NETWORK|WITNESS|…` for the service bits we know, the raw value for the rest.
pub fn services(s: ServiceFlags) -> String {
    const NAMES: [(ServiceFlags, &str); 8] = [
        (ServiceFlags::NETWORK, "NETWORK"),
        (ServiceFlags::GETUTXO, "GETUTXO"),
        (ServiceFlags::BLOOM, "BLOOM"),
        (ServiceFlags::WITNESS, "WITNESS"),
        (ServiceFlags::XTHIN, "XTHIN"),
        (ServiceFlags::COMPACT_FILTERS, "COMPACT_FILTERS"),
        (ServiceFlags::NETWORK_LIMITED, "NETWORK_LIMITED"),
        (ServiceFlags::P2P_V2, "P2P_V2"),
    ];
    let mut names: Vec<&str> = NAMES
        .iter()
        .filter(|(f, _)| s.has(*f))
        .map(|(_, n)| *n)
        .collect();
    let known = NAMES.iter().fold(0, |acc, (f, _)| acc | f.bits());
    let rest = format!("{:#x}", s.bits() & !known);
    if s.bits() & !known != 0 {
        names.push(&rest);
    }
    if names.is_empty() {
        return "NONE".into();
    }
    names.join("|")
}

pub fn ready_line(peer: PeerId, addr: SocketAddr, v: &Version) -> String {
    format!(
        "peer {} {addr}: handshake done: {:?} version {} services {} height {}",
        peer.0,
        v.user_agent,
        v.protocol_version,
        services(v.services),
        v.start_height
    )
}

pub fn disconnect_line(peer: PeerId, addr: SocketAddr, reason: &DisconnectReason) -> String {
    format!(
        "peer {} {addr}: disconnected: {reason} (blame: {:?})",
        peer.0,
        reason.blame()
    )
}

pub fn duration(d: Option<Duration>) -> String {
    match d {
        Some(d) if d < Duration::from_secs(1) => format!("{:.2}ms", d.as_secs_f64() * 1e3),
        Some(d) => format!("{:.1}s", d.as_secs_f64()),
        None => "-".into(),
    }
}

/// Messages received and sent.
pub fn messages(s: &Stats) -> (u64, u64) {
    s.commands
        .iter()
        .fold((0, 0), |(r, w), c| (r + c.msgs_recv, w + c.msgs_sent))
}

/// One row per peer (labelled): bytes and messages each way, ping round trip, uptime.
pub fn stats_table(title: &str, rows: &[(String, Stats)]) -> String {
    let mut out = format!(
        "{title}\n{:>6} {:<22} {:<3} {:<32} {:>10} {:>10} {:>7} {:>7} {:>9} {:>8}\n",
        "peer",
        "address",
        "dir",
        "user agent",
        "bytes in",
        "bytes out",
        "msg in",
        "msg out",
        "ping rtt",
        "uptime"
    );
    for (label, s) in rows {
        let (msg_in, msg_out) = messages(s);
        let agent: String = s.user_agent.chars().take(32).collect();
        let _ = writeln!(
            out,
            "{:>6} {:<22} {:<3} {:<32} {:>10} {:>10} {:>7} {:>7} {:>9} {:>8}",
            label,
            s.addr.to_string(),
            if s.inbound { "in" } else { "out" },
            agent,
            s.bytes_recv,
            s.bytes_sent,
            msg_in,
            msg_out,
            duration(s.last_ping_rtt),
            duration(Some(s.uptime)),
        );
    }
    out
}
