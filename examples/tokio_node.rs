//! A small real Bitcoin node on tokio: dials and/or accepts peers, prints each handshake and
//! disconnect, relays the inventory it learns to its other peers, answers `getaddr` with the
//! addresses it has heard, and prints a stats table every 10 s and on Ctrl-C.
//!
//! ```text
//! cargo run --release --example tokio_node -- --network signet --connect 203.0.113.7:38333
//! cargo run --release --example tokio_node -- --network regtest --listen 127.0.0.1:18444
//! ```
//!
//! All protocol and host logic is `bitpeer::node::Node`; `net/tokio_driver.rs` only moves bytes.

#[path = "net/cli.rs"]
mod cli;
#[path = "net/tokio_driver.rs"]
mod tokio_driver;

use std::time::Duration;

use bitpeer::node::Node;
use bitpeer::wire::Message;
use bitpeer::{Config, Event};
use rand::rngs::OsRng;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_driver::{NodeEvent, NodeHandle};

const STATS_EVERY: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() {
    let args = match cli::Args::parse("tokio_node") {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let cfg = Config::new(args.network)
        .user_agent("tokio_node", env!("CARGO_PKG_VERSION"), &[])
        .expect("a valid BIP14 user agent");
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let node = NodeHandle::spawn(Node::new(cfg, &mut OsRng), 0, events_tx);
    println!("network {}", args.network);
    if let Some(addr) = args.listen {
        match TcpListener::bind(addr).await {
            Ok(listener) => {
                println!("listening on {}", listener.local_addr().unwrap_or(addr));
                node.listen(listener);
            }
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        }
    }
    for addr in args.connect {
        let node = node.clone();
        tokio::spawn(async move {
            match node.connect(addr).await {
                Ok(()) => println!("connected to {addr}"),
                Err(e) => eprintln!("cannot connect to {addr}: {e}"),
            }
        });
    }
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + STATS_EVERY, STATS_EVERY);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            Some(ev) = events.recv() => print_event(&ev),
            _ = tick.tick() => print_stats(&node).await,
            _ = &mut ctrl_c => {
                print_stats(&node).await;
                return;
            }
        }
    }
}

fn print_event(ev: &NodeEvent) {
    match &ev.event {
        Event::Ready(v) => println!("{}", cli::ready_line(ev.peer, ev.addr, v)),
        Event::Disconnected(reason) => {
            println!("{}", cli::disconnect_line(ev.peer, ev.addr, reason))
        }
        Event::Message(Message::Inv(list)) => {
            println!(
                "peer {}: inv with {} entries (relayed to our other peers)",
                ev.peer.0,
                list.len()
            )
        }
        Event::Message(Message::Ping(_) | Message::Pong(_)) => {}
        Event::Message(msg) => println!("peer {}: {}", ev.peer.0, msg.command()),
        _ => {}
    }
}

async fn print_stats(node: &NodeHandle) {
    let (rows, addresses) = node
        .call(|node, now| {
            let rows: Vec<_> = node
                .peer_ids()
                .into_iter()
                .filter_map(|id| Some((id.0.to_string(), node.peer(id)?.stats(now))))
                .collect();
            (rows, node.known_addresses().count())
        })
        .await;
    let title = format!("{} peers, {addresses} known addresses", rows.len());
    print!("{}", cli::stats_table(&title, &rows));
}
