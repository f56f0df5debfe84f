//! The invariant checker: it watches the wire (every frame a node hands out, every frame a node
//! has fully received) with its own minimal parser — independent of the codec under test — and
//! records what it must later hold the nodes to.
//!
//! Per link and direction it keeps the set of inventory items announced and the set received, so
//! it can tell a duplicate announcement (the same item twice in one direction) and an
//! announcement back to the peer that announced it (an item sent on a link after the other side's
//! announcement of it was processed). Crossing announcements (both sides announce before either
//! hears the other) are legal and counted. It also records what each side owes the other — items
//! a node learned while that link was ready, which the node must relay — and checks at the end
//! that every owed item arrived. Where known inventory expires (Decred: 15 minutes), an item may
//! legitimately be announced again once its entry could have expired; those are counted, not
//! flagged.
//!
//! Address gossip: only the listening side of a link answers `getaddr`, once per connection, and
//! only after it received one; a listener that knows addresses must answer.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use bitpeer::Time;
use bitpeer::peer::SendId;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The code under test panicked.
    Panic,
    /// A node handed out bytes that are not one well-formed frame.
    MalformedFrame,
    /// An `inv` named an item nobody announced.
    UnknownInventory,
    /// An `inv` carried more than 1000 entries.
    OversizedInv,
    /// The same item was announced twice in one direction of one link.
    DuplicateInv,
    /// An item was announced to the peer that had announced it.
    AnnouncedBack,
    /// An item a node had to relay over a live link never reached the other side.
    InventoryNotDelivered,
    /// A ping on a healthy link was followed by another ping before its pong arrived.
    PingUnanswered,
    /// A pong on a healthy link did not answer the outstanding ping.
    PongMismatch,
    /// A handshake completed later than the handshake timeout allows.
    HandshakeSlow,
    /// A healthy link did not complete its handshake.
    HandshakeIncomplete,
    /// A healthy link was disconnected.
    HealthyLinkDisconnected,
    /// A disconnect reason no correct peer on a TCP-like link should produce.
    UnexpectedReason,
    /// A peer reported `Disconnected` twice.
    DoubleDisconnect,
    /// A closed transport did not produce `Disconnected`.
    MissingDisconnect,
    /// An idle disconnect came before the idle deadline.
    IdleEarly,
    /// A silent peer was not disconnected at the idle deadline.
    IdleLate,
    /// A stall disconnect came outside the spec's window.
    StallOutsideWindow,
    /// A stall disconnect without an unanswered request.
    StallUnexplained,
    /// A handshake timeout at the wrong time.
    HandshakeTimeoutWrong,
    /// A queue or cache exceeded its stated cap.
    CapExceeded,
    /// `addr` sent by a dialer, twice on one connection, or without a `getaddr`.
    AddrPolicy,
    /// A listener that knew addresses did not answer `getaddr`.
    GetAddrUnanswered,
    /// A node's deadline did not advance after `handle_timeout`.
    TimerLivelock,
    /// The network never became quiet after the faults ended.
    NotQuiescent,
}

/// One broken invariant.
#[derive(Clone, Debug)]
pub struct Violation {
    /// Virtual time.
    pub at: Time,
    /// What.
    pub kind: Kind,
    /// Where and how.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.at.as_micros().saturating_sub(super::EPOCH.as_micros()) as f64 / 1e6;
        write!(f, "[t={secs:.6}s] {:?}: {}", self.kind, self.detail)
    }
}

/// A small bitset over item indices (allocated on first insert).
#[derive(Clone, Debug, Default)]
pub struct Bitset(Vec<u64>);

impl Bitset {
    /// Whether `i` is set.
    pub fn get(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Sets `i`; returns whether it was newly set.
    pub fn set(&mut self, i: u32) -> bool {
        let w = i as usize / 64;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        let bit = 1 << (i % 64);
        let new = self.0[w] & bit == 0;
        self.0[w] |= bit;
        new
    }

    /// The set indices, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, bits)| {
            (0..64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| (w * 64 + b) as u32)
        })
    }

    /// How many are set.
    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
}

/// What the checker remembers of a frame between hand-out and delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameInfo {
    /// `inv` with these item indices.
    Inv(Vec<u32>),
    /// `ping` with this nonce.
    Ping(u64),
    /// `pong` with this nonce.
    Pong(u64),
    /// `addr` or `addrv2`.
    Addr,
    /// `getaddr`.
    GetAddr,
    /// Anything else.
    Other,
}

/// An application request the remote will never answer (the stall handler must fire).
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// The send id of the request.
    pub id: SendId,
    /// `getheaders` (else `getdata`).
    pub headers: bool,
    /// What a `getdata` asked for.
    pub iv: bitpeer::wire::InvVect,
    /// When it was completely written (local time and clock steps then).
    pub written: Option<(Time, u32)>,
}

/// Checker state for one direction of a link.
#[derive(Debug, Default)]
pub struct PipeCheck {
    /// Frames handed out and not yet completely delivered: end offset in the stream, content.
    frames: VecDeque<(u64, FrameInfo)>,
    handed: u64,
    delivered: u64,
    /// Items announced in this direction.
    pub sent: Bitset,
    /// Items whose announcement in this direction the receiver processed.
    pub recv: Bitset,
    /// Items the sender learned while its side of the link was ready: it must relay them.
    pub owed: Bitset,
    /// Nonce of the sender's last ping, until its pong comes back.
    pub ping_out: Option<u64>,
    /// When the receiver last processed a complete frame (its local time, its clock steps).
    pub last_frame: Option<(Time, u32)>,
    /// Where known inventory expires: when the sender first announced each item (its local
    /// time and clock steps).
    pub sent_at: BTreeMap<u32, (Time, u32)>,
    /// Where known inventory expires: when the receiver first processed each item.
    pub recv_at: BTreeMap<u32, (Time, u32)>,
    /// The receiver processed a `getaddr`.
    pub getaddr_seen: bool,
    /// The receiver knew addresses when it processed the `getaddr`: it must answer.
    pub addr_owed: bool,
    /// The sender sent `addr`.
    pub addr_sent: bool,
}

/// Checker state for one link.
#[derive(Debug, Default)]
pub struct LinkCheck {
    /// `pipes[i]` watches bytes from end `i` to end `1 - i`.
    pub pipes: [PipeCheck; 2],
    /// `Disconnected` events per end.
    pub disconnects: [u8; 2],
    /// When each end was created (local time, clock steps).
    pub created: [(Time, u32); 2],
    /// When each end became ready (local time).
    pub ready: [Option<Time>; 2],
    /// An unanswerable request each end made.
    pub request: [Option<Request>; 2],
}

/// Counters reported with every run.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Links created (including redials).
    pub links: u64,
    /// Links whose both ends became ready.
    pub handshakes: u64,
    /// Frames handed out.
    pub frames: u64,
    /// Bytes handed out.
    pub bytes: u64,
    /// Pieces delivered with `handle_input`.
    pub chunks: u64,
    /// Inventory entries announced on the wire.
    pub inv_entries: u64,
    /// Items announced in both directions of a link (legal when the announcements cross).
    pub crossings: u64,
    /// Pings handed out.
    pub pings: u64,
    /// Pongs that answered the outstanding ping.
    pub pongs_matched: u64,
    /// Items announced again on a link after their known-inventory entry could have expired.
    pub reannounced_after_ttl: u64,
    /// `getaddr` answers.
    pub addr_answers: u64,
    /// Items injected.
    pub items_announced: u64,
    /// Disconnects by reason.
    pub disconnects: BTreeMap<String, u64>,
    /// Calls into a `Node` (inputs, timeouts, on_sent, commands).
    pub node_calls: u64,
    /// Events polled from nodes.
    pub node_events: u64,
    /// Scheduler tasks run.
    pub tasks: u64,
    /// Largest `unsent_bytes()` seen.
    pub peak_unsent: usize,
    /// Largest `buffered_input()` seen.
    pub peak_buffered: usize,
    /// Largest `known_inventory_len()` seen.
    pub peak_known_inventory: usize,
    /// Largest `queued_inventory()` seen.
    pub peak_queued_inventory: usize,
    /// Largest frame handed out.
    pub max_frame: usize,
}

/// The checker.
#[derive(Debug)]
pub struct Checker {
    magic: [u8; 4],
    ttl: Option<core::time::Duration>,
    items: BTreeMap<[u8; 32], u32>,
    /// Per link.
    pub links: Vec<LinkCheck>,
    /// Per node: items it learned or announced.
    pub has: Vec<Bitset>,
    violations: Vec<Violation>,
    /// All violations, including those not kept.
    pub violation_count: usize,
    /// Counters.
    pub stats: Stats,
}

/// Violations kept in full (the rest are only counted).
const KEEP: usize = 200;

impl Checker {
    /// A checker for `nodes` nodes on a network with `magic`, watching for these item hashes;
    /// `ttl` is how long known-inventory entries live, if they expire.
    pub fn new(
        magic: [u8; 4],
        ttl: Option<core::time::Duration>,
        items: &[[u8; 32]],
        nodes: usize,
    ) -> Checker {
        Checker {
            magic,
            ttl,
            items: items
                .iter()
                .enumerate()
                .map(|(i, h)| (*h, i as u32))
                .collect(),
            links: Vec::new(),
            has: vec![Bitset::default(); nodes],
            violations: Vec::new(),
            violation_count: 0,
            stats: Stats::default(),
        }
    }

    /// Records a violation.
    pub fn violate(&mut self, at: Time, kind: Kind, detail: impl Into<String>) {
        self.violation_count += 1;
        if self.violations.len() < KEEP {
            self.violations.push(Violation {
                at,
                kind,
                detail: detail.into(),
            });
        }
    }

    /// The violations kept.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Takes the violations kept.
    pub fn take_violations(&mut self) -> Vec<Violation> {
        core::mem::take(&mut self.violations)
    }

    /// A new link; returns its index.
    pub fn add_link(&mut self, created: [(Time, u32); 2]) -> usize {
        self.stats.links += 1;
        self.links.push(LinkCheck {
            created,
            ..LinkCheck::default()
        });
        self.links.len() - 1
    }

    /// The link was reset or died: forget frames in flight.
    pub fn drop_frames(&mut self, l: usize) {
        for p in &mut self.links[l].pipes {
            p.frames = VecDeque::new();
        }
    }

    /// End `dir` of link `l` (on node `sender`, whose clock reads `clock`: local time and
    /// steps) handed out `frame`. `healthy` says whether liveness rules (pings) apply to the
    /// link right now.
    #[allow(clippy::too_many_arguments)]
    pub fn handout(
        &mut self,
        at: Time,
        l: usize,
        dir: usize,
        sender: usize,
        clock: (Time, u32),
        frame: &[u8],
        healthy: bool,
    ) {
        self.stats.frames += 1;
        self.stats.bytes += frame.len() as u64;
        self.stats.max_frame = self.stats.max_frame.max(frame.len());
        let info = match parse_frame(self.magic, frame) {
            Ok((command, payload)) => match self.classify(&command, payload) {
                Ok(info) => info,
                Err(e) => {
                    self.violate(at, Kind::MalformedFrame, format!("link {l} dir {dir}: {e}"));
                    FrameInfo::Other
                }
            },
            Err(e) => {
                self.violate(at, Kind::MalformedFrame, format!("link {l} dir {dir}: {e}"));
                FrameInfo::Other
            }
        };
        match &info {
            FrameInfo::Inv(items) => {
                if items.len() > 1000 {
                    self.violate(
                        at,
                        Kind::OversizedInv,
                        format!("link {l} dir {dir}: {} entries", items.len()),
                    );
                }
                self.stats.inv_entries += items.len() as u64;
                for &item in items {
                    self.has[sender].set(item);
                    let back = self.links[l].pipes[1 - dir].recv.get(item);
                    let fresh = self.links[l].pipes[dir].sent.set(item);
                    if (back || !fresh) && self.may_have_expired(l, dir, item, clock) {
                        self.stats.reannounced_after_ttl += 1;
                    } else if !fresh {
                        self.violate(
                            at,
                            Kind::DuplicateInv,
                            format!("link {l}: node {sender} announced item {item} twice"),
                        );
                    } else if back {
                        self.violate(
                            at,
                            Kind::AnnouncedBack,
                            format!(
                                "link {l}: node {sender} announced item {item} to the peer \
                                 that had announced it"
                            ),
                        );
                    }
                }
            }
            FrameInfo::Ping(nonce) => {
                self.stats.pings += 1;
                let pipe = &mut self.links[l].pipes[dir];
                let previous = pipe.ping_out.replace(*nonce);
                if let (Some(prev), true) = (previous, healthy) {
                    self.violate(
                        at,
                        Kind::PingUnanswered,
                        format!(
                            "link {l}: node {sender} pings again ({nonce:#x}) before the pong \
                             for {prev:#x} arrived"
                        ),
                    );
                }
            }
            FrameInfo::Addr => {
                let pipe = &self.links[l].pipes[dir];
                let problem = if dir == 0 {
                    Some("the dialer sent addr")
                } else if pipe.addr_sent {
                    Some("a second addr on one connection")
                } else if !self.links[l].pipes[1 - dir].getaddr_seen {
                    Some("addr without a getaddr")
                } else {
                    None
                };
                if let Some(p) = problem {
                    self.violate(
                        at,
                        Kind::AddrPolicy,
                        format!("link {l}: node {sender}: {p}"),
                    );
                }
                self.links[l].pipes[dir].addr_sent = true;
                self.stats.addr_answers += 1;
            }
            FrameInfo::Pong(_) | FrameInfo::GetAddr | FrameInfo::Other => {}
        }
        let pipe = &mut self.links[l].pipes[dir];
        if let (Some(_), FrameInfo::Inv(items)) = (self.ttl, &info) {
            for &item in items {
                pipe.sent_at.entry(item).or_insert(clock);
            }
        }
        pipe.handed += frame.len() as u64;
        pipe.frames.push_back((pipe.handed, info));
    }

    /// Whether the sender of pipe `dir` of link `l` may have forgotten that the remote knows
    /// `item`: known inventory expires, and the TTL passed (or its clock stepped) since the item
    /// first became known on this link.
    fn may_have_expired(&self, l: usize, dir: usize, item: u32, clock: (Time, u32)) -> bool {
        let Some(ttl) = self.ttl else {
            return false;
        };
        let first = [
            self.links[l].pipes[dir].sent_at.get(&item),
            self.links[l].pipes[1 - dir].recv_at.get(&item),
        ]
        .into_iter()
        .flatten()
        .min();
        match first {
            Some(&(t, steps)) => steps != clock.1 || clock.0 >= t.saturating_add(ttl),
            None => false,
        }
    }

    /// Records that the receiver of pipe `dir` processed `item` at `clock` (expiring inventory
    /// only).
    pub fn received_at(&mut self, l: usize, dir: usize, item: u32, clock: (Time, u32)) {
        if self.ttl.is_some() {
            self.links[l].pipes[dir]
                .recv_at
                .entry(item)
                .or_insert(clock);
        }
    }

    /// Whether an `inv` on pipe `dir` of link `l` was handed out and not yet delivered.
    pub fn inv_in_flight(&self, l: usize, dir: usize) -> bool {
        self.links[l].pipes[dir]
            .frames
            .iter()
            .any(|(_, f)| matches!(f, FrameInfo::Inv(_)))
    }

    /// `n` more bytes of pipe `dir` of link `l` reached the reader; returns the frames that
    /// are now complete there.
    pub fn advance(&mut self, l: usize, dir: usize, n: usize) -> Vec<FrameInfo> {
        self.stats.chunks += 1;
        let pipe = &mut self.links[l].pipes[dir];
        pipe.delivered += n as u64;
        let mut done = Vec::new();
        while pipe
            .frames
            .front()
            .is_some_and(|(end, _)| *end <= pipe.delivered)
        {
            done.push(pipe.frames.pop_front().expect("front exists").1);
        }
        done
    }

    fn classify(&self, command: &str, payload: &[u8]) -> Result<FrameInfo, String> {
        Ok(match command {
            "inv" => {
                let entries = parse_inv(payload)?;
                let mut items = Vec::with_capacity(entries.len());
                for hash in entries {
                    match self.items.get(&hash) {
                        Some(i) => items.push(*i),
                        None => return Err(format!("inv for unknown hash {}", hex::encode(hash))),
                    }
                }
                FrameInfo::Inv(items)
            }
            "ping" | "pong" => {
                let nonce: [u8; 8] = payload
                    .try_into()
                    .map_err(|_| format!("{command} payload of {} bytes", payload.len()))?;
                let nonce = u64::from_le_bytes(nonce);
                if command == "ping" {
                    FrameInfo::Ping(nonce)
                } else {
                    FrameInfo::Pong(nonce)
                }
            }
            "addr" | "addrv2" => FrameInfo::Addr,
            "getaddr" => FrameInfo::GetAddr,
            _ => FrameInfo::Other,
        })
    }
}

/// Splits one frame into its command and payload, checking magic, command padding and length.
pub fn parse_frame(magic: [u8; 4], frame: &[u8]) -> Result<(String, &[u8]), String> {
    if frame.len() < 24 {
        return Err(format!("frame of {} bytes", frame.len()));
    }
    if frame[..4] != magic {
        return Err(format!("magic {}", hex::encode(&frame[..4])));
    }
    let raw = &frame[4..16];
    let len = raw.iter().position(|b| *b == 0).unwrap_or(12);
    if raw[len..].iter().any(|b| *b != 0) || raw[..len].iter().any(|b| !(0x20..0x7f).contains(b)) {
        return Err(format!("command field {}", hex::encode(raw)));
    }
    let command = String::from_utf8_lossy(&raw[..len]).into_owned();
    let declared = u32::from_le_bytes(frame[16..20].try_into().expect("4 bytes")) as usize;
    let payload = &frame[24..];
    if declared != payload.len() {
        return Err(format!(
            "{command}: header says {declared} payload bytes, frame has {}",
            payload.len()
        ));
    }
    Ok((command, payload))
}

/// The hashes of an `inv` payload.
pub fn parse_inv(payload: &[u8]) -> Result<Vec<[u8; 32]>, String> {
    let (count, rest) = compact_size(payload)?;
    if rest.len() as u64 != count * 36 {
        return Err(format!(
            "inv declares {count} entries in {} bytes",
            rest.len()
        ));
    }
    Ok(rest
        .chunks_exact(36)
        .map(|e| e[4..].try_into().expect("32 bytes"))
        .collect())
}

fn compact_size(b: &[u8]) -> Result<(u64, &[u8]), String> {
    let (&first, rest) = b.split_first().ok_or("empty compact size")?;
    let (width, rest) = match first {
        0xfd => (2, rest),
        0xfe => (4, rest),
        0xff => (8, rest),
        n => return Ok((u64::from(n), rest)),
    };
    if rest.len() < width {
        return Err("truncated compact size".into());
    }
    let mut v = [0u8; 8];
    v[..width].copy_from_slice(&rest[..width]);
    Ok((u64::from_le_bytes(v), &rest[width..]))
}
