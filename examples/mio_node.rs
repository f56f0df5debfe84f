//! The same small node as `tokio_node`, on mio: one thread, one poll loop for every peer,
//! sleeping until the node's next deadline. Prints handshakes, disconnects and a stats table
//! every 10 s; relays inventory and answers `getaddr` (the crate's `Node` does both).
//!
//! ```text
//! cargo run --release --example mio_node -- --network signet --connect 203.0.113.7:38333
//! cargo run --release --example mio_node -- --network regtest --listen 127.0.0.1:18444
//! ```

#[path = "net/cli.rs"]
mod cli;
#[path = "net/mio_driver.rs"]
mod mio_driver;

use std::time::{Duration, Instant};

use bitpeer::node::Node;
use bitpeer::wire::Message;
use bitpeer::{Config, Event, Time};
use mio_driver::MioNode;
use rand::rngs::OsRng;

const STATS_EVERY: Duration = Duration::from_secs(10);

fn main() -> std::io::Result<()> {
    let args = match cli::Args::parse("mio_node") {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let cfg = Config::new(args.network)
        .user_agent("mio_node", env!("CARGO_PKG_VERSION"), &[])
        .expect("a valid BIP14 user agent");
    let mut node = MioNode::new(Node::new(cfg, &mut OsRng))?;
    println!("network {}", args.network);
    if let Some(addr) = args.listen {
        println!("listening on {}", node.listen(addr)?);
    }
    for addr in args.connect {
        match node.connect(addr) {
            Ok(_) => println!("dialing {addr}"),
            Err(e) => eprintln!("cannot connect to {addr}: {e}"),
        }
    }
    let mut next_stats = Instant::now() + STATS_EVERY;
    loop {
        let max_wait = next_stats.saturating_duration_since(Instant::now());
        node.turn(max_wait, |_, peer, addr, event| match event {
            Event::Ready(v) => println!("{}", cli::ready_line(peer, addr, v)),
            Event::Disconnected(r) => println!("{}", cli::disconnect_line(peer, addr, r)),
            Event::Message(Message::Inv(list)) => {
                println!(
                    "peer {}: inv with {} entries (relayed to our other peers)",
                    peer.0,
                    list.len()
                )
            }
            Event::Message(Message::Ping(_) | Message::Pong(_)) => {}
            Event::Message(msg) => println!("peer {}: {}", peer.0, msg.command()),
            _ => {}
        })?;
        if Instant::now() >= next_stats {
            next_stats += STATS_EVERY;
            let now = Time::now();
            let rows: Vec<_> = (node.node.peer_ids().into_iter())
                .filter_map(|id| Some((id.0.to_string(), node.node.peer(id)?.stats(now))))
                .collect();
            let known = node.node.known_addresses().count();
            let title = format!("{} peers, {known} known addresses", rows.len());
            print!("{}", cli::stats_table(&title, &rows));
        }
    }
}
