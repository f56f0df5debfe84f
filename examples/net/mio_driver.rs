//! The mio adapter: one thread, one `Poll`, every connection of one `bitpeer::node::Node`.
//!
//! Sockets are registered once for readable and writable (mio is edge-triggered): reads go
//! straight into `Node::handle_input`, frames from `Node::poll_transmit` are written until the
//! socket would block (each write reported with `on_sent`), EOF or an I/O error becomes
//! `handle_closed`, and `poll` sleeps until the node's `poll_timeout`. All protocol and host
//! logic is the crate's. Shared by `mio_node` and `tests/tokio_loopback.rs` (via `#[path]`).
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use bitpeer::node::{Node, PeerId};
use bitpeer::{Event, Time};
use bytes::Bytes;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const LISTENER: Token = Token(usize::MAX);

struct Conn {
    sock: TcpStream,
    addr: SocketAddr,
    /// Frames taken from the node but not completely written; `written` bytes of the first.
    out: VecDeque<Bytes>,
    written: usize,
    dead: bool,
    closing: bool,
}

/// A `Node` and its sockets.
pub struct MioNode {
    pub node: Node,
    poll: Poll,
    events: Events,
    listener: Option<TcpListener>,
    conns: HashMap<PeerId, Conn>,
    buf: Vec<u8>,
}

fn token(id: PeerId) -> Token {
    Token(id.0 as usize)
}

impl MioNode {
    pub fn new(node: Node) -> io::Result<MioNode> {
        Ok(MioNode {
            node,
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            listener: None,
            conns: HashMap::new(),
            buf: vec![0; 64 * 1024],
        })
    }

    /// Accepts connections on `addr`; returns the bound address.
    pub fn listen(&mut self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let mut listener = TcpListener::bind(addr)?;
        self.poll
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let local = listener.local_addr()?;
        self.listener = Some(listener);
        Ok(local)
    }

    /// Starts dialing `addr`; our `version` is written once the connection is up.
    pub fn connect(&mut self, addr: SocketAddr) -> io::Result<PeerId> {
        let sock = TcpStream::connect(addr)?;
        let id = self.node.connect(addr, Time::now());
        self.add(id, sock, addr)?;
        Ok(id)
    }

    fn add(&mut self, id: PeerId, mut sock: TcpStream, addr: SocketAddr) -> io::Result<()> {
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.poll
            .registry()
            .register(&mut sock, token(id), interest)?;
        let _ = sock.set_nodelay(true);
        let (out, written, dead, closing) = (VecDeque::new(), 0, false, false);
        let conn = Conn {
            sock,
            addr,
            out,
            written,
            dead,
            closing,
        };
        self.conns.insert(id, conn);
        Ok(())
    }

    /// Peers with an open socket.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// One round: wait for I/O or the node's next deadline (at most `max_wait`), feed the node,
    /// write its frames, and hand each event to `on_event`.
    pub fn turn(
        &mut self,
        max_wait: Duration,
        mut on_event: impl FnMut(&Node, PeerId, SocketAddr, &Event),
    ) -> io::Result<()> {
        let now = Time::now();
        let mut wait = self
            .node
            .poll_timeout()
            .map_or(max_wait, |t| t.saturating_since(now));
        if self.node.peers_with_output().next().is_some() {
            wait = Duration::ZERO; // the application queued something between turns
        }
        match self.poll.poll(&mut self.events, Some(wait.min(max_wait))) {
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            other => other?,
        }
        let ready: Vec<(Token, bool)> = self
            .events
            .iter()
            .map(|e| (e.token(), e.is_readable()))
            .collect();
        for (tok, readable) in ready {
            if tok == LISTENER {
                self.accept()?;
            } else if readable {
                self.read(PeerId(tok.0 as u64));
            }
        }
        let now = Time::now();
        if self.node.poll_timeout().is_some_and(|t| t <= now) {
            self.node.handle_timeout(now);
        }
        for id in self.node.peers_with_output().collect::<Vec<_>>() {
            while let Some(frame) = self.node.poll_transmit(id) {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.out.push_back(frame);
                }
            }
        }
        let ids: Vec<PeerId> = self.conns.keys().copied().collect();
        for &id in &ids {
            self.write(id);
        }
        for &id in &ids {
            if self.conns[&id].dead {
                self.node.handle_closed(id);
            }
        }
        while let Some((id, event)) = self.node.poll_event() {
            if let Some(c) = self.conns.get_mut(&id) {
                c.closing |= matches!(event, Event::Disconnected(_));
                on_event(&self.node, id, c.addr, &event);
            }
        }
        // A disconnected peer's last frames (a `reject` at most) get one try, then the socket
        // closes.
        for id in ids {
            if self.conns[&id].closing {
                self.write(id);
                let mut c = self.conns.remove(&id).expect("present");
                let _ = self.poll.registry().deregister(&mut c.sock);
                self.node.remove(id);
            }
        }
        Ok(())
    }

    fn accept(&mut self) -> io::Result<()> {
        loop {
            let Some(listener) = &self.listener else {
                return Ok(());
            };
            match listener.accept() {
                Ok((sock, addr)) => {
                    let id = self.node.accept(addr, Time::now());
                    self.add(id, sock, addr)?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Ok(()), // e.g. out of file descriptors: try again later
            }
        }
    }

    fn read(&mut self, id: PeerId) {
        loop {
            let Some(c) = self.conns.get_mut(&id).filter(|c| !c.dead) else {
                return;
            };
            if self.node.peer(id).is_none_or(|p| p.is_disconnected()) {
                return; // it closes this turn; what it still sends is moot
            }
            match c.sock.read(&mut self.buf) {
                Ok(0) => c.dead = true,
                Ok(n) => self.node.handle_input(id, Time::now(), &self.buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => c.dead = true,
            }
        }
    }

    fn write(&mut self, id: PeerId) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        while let Some(frame) = c.out.front() {
            if c.dead {
                return;
            }
            match c.sock.write(&frame[c.written..]) {
                Ok(n) => {
                    c.written += n;
                    if c.written == frame.len() {
                        c.out.pop_front();
                        c.written = 0;
                    }
                    self.node.on_sent(id, n, Time::now());
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::NotConnected) => {
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => c.dead = true,
            }
        }
    }
}
