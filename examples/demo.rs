//! The README's first command: `cargo run --release --example demo [-- --peers N] [--network NAME]`.
//!
//! On loopback, with nothing outside: one listening node (the hub) and N dialing nodes (default
//! 8, each its own `Node` and `Config`, so self-connection detection does not trip). Every
//! handshake completes, one dialer announces 500 transactions, the hub's `Node` relays them and
//! every other dialer receives each one exactly once through the trickle. Pings (every 2 s here)
//! measure round trips. Prints a summary table; exits non-zero if anything is missing, duplicated
//! or late.

#[path = "net/cli.rs"]
mod cli;
#[path = "net/tokio_driver.rs"]
mod tokio_driver;

use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, Instant};

use bitpeer::node::Node;
use bitpeer::peer::TricklePolicy;
use bitpeer::wire::{Hash256, InvType, InvVect, Message};
use bitpeer::{Config, Event, Network, Stats};
use rand::RngCore;
use rand::rngs::OsRng;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_driver::NodeHandle;

const TXS: usize = 500;
const ORIGIN: usize = 1;
const LIMIT: Duration = Duration::from_secs(14);

fn config(network: Network) -> Config {
    let mut cfg = Config::new(network)
        .user_agent("demo", env!("CARGO_PKG_VERSION"), &[])
        .expect("a valid BIP14 user agent")
        .trickle(TricklePolicy::Poisson {
            outbound_mean: Duration::from_millis(100),
            inbound_mean: Duration::from_millis(250),
        });
    cfg.ping_interval = Duration::from_secs(2);
    cfg
}

/// Every peer of every node: (label, stats).
async fn all_stats(nodes: &[NodeHandle]) -> Vec<(String, Stats)> {
    let mut rows = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let name = if i == 0 {
            "hub".to_string()
        } else {
            format!("n{i}")
        };
        let peers = node
            .call(move |node, now| {
                let ids = node.peer_ids();
                ids.into_iter()
                    .filter_map(|id| Some((format!("{name}/{}", id.0), node.peer(id)?.stats(now))))
                    .collect::<Vec<_>>()
            })
            .await;
        rows.extend(peers);
    }
    rows
}

#[tokio::main]
async fn main() {
    let usage = || -> ! {
        eprintln!(
            "usage: demo [--peers N] [--network NAME]   (N >= 2, default 8; default regtest)"
        );
        std::process::exit(2);
    };
    let (mut peers, mut network) = (8usize, Network::BITCOIN_REGTEST);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--peers" => {
                peers = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 2)
                    .unwrap_or_else(|| usage())
            }
            "--network" => network = Network::from_name(&value).unwrap_or_else(|| usage()),
            _ => usage(),
        }
    }
    let started = Instant::now();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let hub_addr = listener.local_addr().expect("local address");
    let mut nodes = vec![NodeHandle::spawn(
        Node::new(config(network), &mut OsRng),
        0,
        events_tx.clone(),
    )];
    nodes[0].listen(listener);
    println!("{network}: hub listening on {hub_addr}; {peers} nodes dialing it");
    for i in 1..=peers {
        let node = NodeHandle::spawn(Node::new(config(network), &mut OsRng), i, events_tx.clone());
        node.connect(hub_addr).await.expect("dial the hub");
        nodes.push(node);
    }

    // Node index -> tx hash -> times announced to it.
    let mut seen: HashMap<usize, HashMap<Hash256, u32>> = HashMap::new();
    let (mut ready, mut announced, mut failures) = (0, false, Vec::new());
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let deliveries = |seen: &HashMap<usize, HashMap<Hash256, u32>>| -> usize {
        seen.iter()
            .filter(|(n, _)| **n != ORIGIN)
            .map(|(_, m)| m.len())
            .sum()
    };
    let expected = TXS * peers; // the hub plus every dialer but the origin
    let mut done_at = None;
    loop {
        tokio::select! {
            Some(ev) = events.recv() => match ev.event {
                Event::Ready(_) => ready += 1,
                Event::Message(Message::Inv(list)) => {
                    for iv in list {
                        *seen.entry(ev.node).or_default().entry(iv.hash).or_default() += 1;
                    }
                }
                Event::Disconnected(r) => failures.push(cli::disconnect_line(ev.peer, ev.addr, &r)),
                _ => {}
            },
            _ = tick.tick() => {
                if ready == 2 * peers && !announced {
                    announced = true;
                    nodes[ORIGIN].call(|node, _| {
                        for _ in 0..TXS {
                            let mut hash = [0u8; 32];
                            OsRng.fill_bytes(&mut hash);
                            node.announce(InvVect::new(InvType::TX, Hash256(hash)));
                        }
                    }).await;
                    println!("\nnode n{ORIGIN} announced {TXS} transactions");
                }
                let rows = all_stats(&nodes).await;
                let with_rtt = rows.iter().filter(|(_, s)| s.last_ping_rtt.is_some()).count();
                let delivered = deliveries(&seen);
                eprint!(
                    "\r[{:5.1}s] handshakes {ready}/{} | inventory delivered {delivered}/{expected} | ping rtts {with_rtt}/{}   ",
                    started.elapsed().as_secs_f64(), 2 * peers, 2 * peers
                );
                let _ = std::io::stderr().flush();
                let complete = delivered >= expected && with_rtt == 2 * peers;
                match done_at {
                    // Linger a little after completion so a duplicate would still show up.
                    Some(t) if started.elapsed() >= t => break,
                    None if complete => done_at = Some(started.elapsed() + Duration::from_millis(600)),
                    _ => {}
                }
                if started.elapsed() > LIMIT || !failures.is_empty() {
                    break;
                }
            }
        }
    }
    eprintln!();
    let rows = all_stats(&nodes).await;
    let with_rtt = rows
        .iter()
        .filter(|(_, s)| s.last_ping_rtt.is_some())
        .count();
    print!(
        "{}",
        cli::stats_table(
            "\nsummary (hub/N = the hub's peer N, nN/0 = node N's link to the hub)",
            &rows
        )
    );

    let empty = HashMap::new();
    for node in 0..=peers {
        let got = seen.get(&node).unwrap_or(&empty);
        let dups: u32 = got.values().map(|n| n - 1).sum();
        let want = if node == ORIGIN { 0 } else { TXS };
        let name = if node == 0 {
            "hub".to_string()
        } else {
            format!("n{node}")
        };
        println!(
            "{name:>4}: received {:>4} of the {TXS} announced transactions, {dups} duplicates",
            got.len()
        );
        if got.len() != want || dups != 0 {
            failures.push(format!(
                "{name} received {} transactions ({dups} duplicates), expected {want}",
                got.len()
            ));
        }
    }
    if ready != 2 * peers {
        failures.push(format!(
            "only {ready} of {} handshakes completed",
            2 * peers
        ));
    }
    if with_rtt != 2 * peers {
        failures.push(format!(
            "only {with_rtt} of {} peers measured a ping round trip",
            2 * peers
        ));
    }
    let secs = started.elapsed().as_secs_f64();
    if failures.is_empty() {
        println!(
            "OK: {peers} peers, {} handshakes, {TXS} transactions relayed to every other peer exactly once, {with_rtt} ping round trips, in {secs:.1} s",
            2 * peers
        );
    } else {
        for f in &failures {
            eprintln!("FAIL: {f}");
        }
        std::process::exit(1);
    }
}
