//! Load measurement: N concurrent loopback connections (default 1000) to one tokio node.
//!
//! ```text
//! cargo run --release --example load -- --peers 1000
//! ```
//!
//! The measured process runs only the listening node (the tokio driver of `tokio_node`). The
//! dialers run in a child process (this same binary with `--client`): one `Node` that dials N
//! times, so their memory is not counted. Reports the time from starting the dialers until the
//! listening node has completed every handshake, and the listening process's resident memory
//! per connection (VmRSS from /proc/self/status after minus before, divided by N). Needs about
//! N + 50 file descriptors in each process (`ulimit -n`).

#[path = "net/tokio_driver.rs"]
mod tokio_driver;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bitpeer::node::Node;
use bitpeer::{Config, Event, Network};
use rand::rngs::OsRng;
use tokio::net::TcpSocket;
use tokio::sync::mpsc;
use tokio_driver::NodeHandle;

/// A field of /proc/`pid`/status in KiB (e.g. `VmRSS`).
fn status_kib(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with(field));
    let kib = line.and_then(|l| l.split_whitespace().nth(1)?.parse().ok());
    kib.unwrap_or(0)
}

/// The soft limit on open files, from /proc/self/limits.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn config() -> Config {
    Config::new(Network::BITCOIN_REGTEST)
        .user_agent("load", env!("CARGO_PKG_VERSION"), &[])
        .expect("a valid BIP14 user agent")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let peers: usize = value("--peers")
        .map_or(Ok(1000), |n| n.parse())
        .unwrap_or_else(|_| {
            eprintln!("usage: load [--peers N]");
            std::process::exit(2);
        });
    if open_files_limit().is_some_and(|limit| limit < peers as u64 + 50) {
        eprintln!(
            "too few file descriptors for {peers} peers: run `ulimit -n {}` first",
            peers + 100
        );
        std::process::exit(2);
    }
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match value("--client") {
        Some(addr) => rt.block_on(client(addr.parse().expect("an address"), peers)),
        None => rt.block_on(server(peers)),
    }
}

/// The dialers: one node, N connections; prints `ready` once every handshake is done and exits
/// when its parent closes stdin.
async fn client(hub: SocketAddr, peers: usize) {
    let (tx, mut events) = mpsc::unbounded_channel();
    let node = NodeHandle::spawn(Node::new(config(), &mut OsRng), 1, tx);
    for _ in 0..peers {
        let node = node.clone();
        tokio::spawn(async move { node.connect(hub).await.expect("dial the listening node") });
    }
    let mut ready = 0;
    while ready < peers {
        match events.recv().await.map(|e| e.event) {
            Some(Event::Ready(_)) => ready += 1,
            Some(Event::Disconnected(r)) => eprintln!("client: a peer disconnected: {r}"),
            _ => {}
        }
    }
    println!("ready");
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()))
        .await
        .ok();
}

async fn server(peers: usize) {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().unwrap())
        .expect("bind loopback");
    let listener = socket.listen(4096).expect("listen");
    let addr = listener.local_addr().expect("local address");
    let (tx, mut events) = mpsc::unbounded_channel();
    let node = NodeHandle::spawn(Node::new(config(), &mut OsRng), 0, tx);
    node.listen(listener);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_before = status_kib("self", "VmRSS");

    let started = Instant::now();
    let exe = std::env::current_exe().expect("our own path");
    let mut child = Command::new(exe)
        .args(["--client", &addr.to_string(), "--peers", &peers.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the dialing process");
    let (mut ready, mut lost) = (0, 0);
    let mut last_report = Instant::now();
    while ready < peers && started.elapsed() < Duration::from_secs(120) {
        let ev = tokio::time::timeout(Duration::from_secs(1), events.recv()).await;
        match ev.ok().flatten().map(|e| e.event) {
            Some(Event::Ready(_)) => ready += 1,
            Some(Event::Disconnected(r)) => {
                lost += 1;
                eprintln!("a peer disconnected: {r}");
            }
            _ => {}
        }
        if last_report.elapsed() > Duration::from_millis(250) {
            last_report = Instant::now();
            eprint!(
                "\r{ready}/{peers} handshakes after {:.2} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "\r{ready}/{peers} handshakes after {:.2} s",
        elapsed.as_secs_f64()
    );
    let rss_after = status_kib("self", "VmRSS");
    // Wait for the dialers' own confirmation, then read their memory too.
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    let confirmed = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .ok()
    .and_then(Result::ok);
    let client_rss = status_kib(&child.id().to_string(), "VmRSS");
    let open = node.call(|node, _| node.peer_ids().len()).await;
    drop(child.stdin.take()); // the client exits when its stdin closes
    let _ = child.wait();

    let per_conn = (rss_after.saturating_sub(rss_before)) as f64 * 1024.0 / peers as f64;
    println!(
        "peers:                         {peers} (connections open at the end: {open}, lost: {lost})"
    );
    println!(
        "all handshakes complete after: {:.3} s ({:.0} handshakes/s)",
        elapsed.as_secs_f64(),
        ready as f64 / elapsed.as_secs_f64()
    );
    println!("listening node VmRSS:          {rss_before} KiB before, {rss_after} KiB after");
    println!(
        "memory per connection:         {:.1} KiB (listening side)",
        per_conn / 1024.0
    );
    println!(
        "dialing process VmRSS:         {client_rss} KiB for {peers} outbound peers (confirmed: {})",
        confirmed.is_some_and(|l| l.trim() == "ready")
    );
    if ready < peers || open < peers {
        std::process::exit(1);
    }
}
