//! The tokio adapter: drives one `bitpeer::node::Node` over real TCP sockets.
//!
//! One task owns the `Node` (all protocol and host logic: handshakes, pings, inventory relay,
//! address gossip, `getaddr`) and sleeps until its `poll_timeout`. Each connection gets one task
//! that only moves bytes: what it reads goes to the node task, frames the node hands out are
//! written and reported back (`on_sent`), and EOF or an I/O error becomes `handle_closed`.
//! The command queue is bounded, so a remote that sends faster than the node decodes waits in
//! its own socket; what we write is bounded by the crate's send-queue cap (frames handed out
//! count as unsent until `on_sent`).
//! Shared by `tokio_node`, `demo`, `load` and `tests/tokio_loopback.rs` (via `#[path]`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

use bitpeer::node::{Node, PeerId};
use bitpeer::{Event, Time};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// Read buffer granularity per connection.
const READ_CHUNK: usize = 8 * 1024;
/// Commands handled before outputs are flushed (amortises the scan over all peers).
const BATCH: usize = 256;
/// Commands queued for the node task before connection tasks wait (backpressure on reads).
const QUEUE: usize = 1024;

/// An event of peer `peer` of node `node` (the tag given to [`NodeHandle::spawn`]).
#[derive(Debug)]
pub struct NodeEvent {
    pub node: usize,
    pub peer: PeerId,
    pub addr: SocketAddr,
    pub event: Event,
}

type Call = Box<dyn FnOnce(&mut Node, Time) + Send>;

enum Cmd {
    Stream(TcpStream, bool),
    Input(PeerId, Bytes),
    Sent(PeerId, usize),
    Closed(PeerId),
    Call(Call),
}

/// A cheap, cloneable handle to a running node task.
#[derive(Clone)]
pub struct NodeHandle {
    tx: mpsc::Sender<Cmd>,
}

impl NodeHandle {
    /// Spawns the task that owns `node`; its events go to `events`, tagged with `tag`.
    pub fn spawn(node: Node, tag: usize, events: mpsc::UnboundedSender<NodeEvent>) -> NodeHandle {
        let (tx, rx) = mpsc::channel(QUEUE);
        let handle = NodeHandle { tx };
        tokio::spawn(run(node, tag, rx, handle.clone(), events));
        handle
    }

    /// Accepts connections on `listener` for as long as the node runs.
    pub fn listen(&self, listener: TcpListener) {
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                if me.tx.send(Cmd::Stream(stream, true)).await.is_err() {
                    return;
                }
            }
        });
    }

    /// Dials `addr` and hands the connection to the node (our `version` goes out at once).
    pub async fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        let stream = TcpStream::connect(addr).await?;
        self.add_stream(stream, false).await;
        Ok(())
    }

    /// Hands an open connection to the node.
    pub async fn add_stream(&self, stream: TcpStream, inbound: bool) {
        let _ = self.tx.send(Cmd::Stream(stream, inbound)).await;
    }

    /// Runs `f` on the node inside its task (outputs are flushed afterwards) and returns its
    /// result: read stats, announce inventory, send messages, disconnect peers.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Node, Time) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = oneshot::channel();
        let call: Call = Box::new(move |node, now| {
            let _ = tx.send(f(node, now));
        });
        if self.tx.send(Cmd::Call(call)).await.is_err() {
            panic!("node task is gone");
        }
        rx.await.expect("node task is gone")
    }
}

async fn sleep_until(deadline: Option<Time>) {
    match deadline {
        Some(t) => tokio::time::sleep(t.saturating_since(Time::now())).await,
        None => std::future::pending().await,
    }
}

/// The node task: one mutation at a time, then drain outputs, then sleep until the deadline.
async fn run(
    mut node: Node,
    tag: usize,
    mut rx: mpsc::Receiver<Cmd>,
    me: NodeHandle,
    events: mpsc::UnboundedSender<NodeEvent>,
) {
    let mut writers: HashMap<PeerId, (SocketAddr, mpsc::UnboundedSender<Bytes>)> = HashMap::new();
    loop {
        let first = tokio::select! {
            cmd = rx.recv() => match cmd { Some(cmd) => Some(cmd), None => return },
            _ = sleep_until(node.poll_timeout()) => None,
        };
        let mut closed = Vec::new();
        let mut pending = first;
        for _ in 0..BATCH {
            let Some(cmd) = pending.take().or_else(|| rx.try_recv().ok()) else {
                break;
            };
            let now = Time::now();
            match cmd {
                Cmd::Stream(stream, inbound) => {
                    let Ok(addr) = stream.peer_addr() else {
                        continue; // already reset by the remote
                    };
                    let id = if inbound {
                        node.accept(addr, now)
                    } else {
                        node.connect(addr, now)
                    };
                    let (wtx, wrx) = mpsc::unbounded_channel();
                    writers.insert(id, (addr, wtx));
                    tokio::spawn(peer_io(id, stream, wrx, me.tx.clone()));
                }
                Cmd::Input(id, data) => node.handle_input(id, now, &data),
                Cmd::Sent(id, n) => node.on_sent(id, n, now),
                Cmd::Closed(id) => {
                    node.handle_closed(id);
                    closed.push(id);
                }
                Cmd::Call(f) => f(&mut node, now),
            }
        }
        let now = Time::now();
        if node.poll_timeout().is_some_and(|t| t <= now) {
            node.handle_timeout(now);
        }
        // Frames go to the connection tasks; a disconnected peer's last frames (a `reject` at
        // most) go out before its writer channel is dropped, which closes the socket.
        for id in node.peers_with_output().collect::<Vec<_>>() {
            while let Some(frame) = node.poll_transmit(id) {
                if let Some((_, w)) = writers.get(&id) {
                    let _ = w.send(frame);
                }
            }
        }
        while let Some((peer, event)) = node.poll_event() {
            let addr = match &event {
                Event::Disconnected(_) => writers.remove(&peer).map(|(a, _)| a),
                _ => writers.get(&peer).map(|(a, _)| *a),
            };
            let addr = addr.or_else(|| node.peer(peer).map(|p| p.remote_addr()));
            if let Some(addr) = addr {
                let _ = events.send(NodeEvent {
                    node: tag,
                    peer,
                    addr,
                    event,
                });
            }
        }
        for id in closed {
            writers.remove(&id);
            node.remove(id);
        }
    }
}

/// One connection: reads go to the node, frames from the node are written and reported.
async fn peer_io(
    id: PeerId,
    mut stream: TcpStream,
    mut frames: mpsc::UnboundedReceiver<Bytes>,
    node: mpsc::Sender<Cmd>,
) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.split();
    let reader = async {
        let mut buf = BytesMut::new();
        loop {
            buf.reserve(READ_CHUNK);
            match rd.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let data = buf.split().freeze();
                    if node.send(Cmd::Input(id, data)).await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    let writer = async {
        while let Some(frame) = frames.recv().await {
            if wr.write_all(&frame).await.is_err() {
                return;
            }
            let _ = node.send(Cmd::Sent(id, frame.len())).await;
        }
        let _ = wr.shutdown().await;
    };
    tokio::select! {
        _ = reader => {}
        _ = writer => {}
    }
    let _ = node.send(Cmd::Closed(id)).await;
}
