//! A seeded, deterministic simulator of whole networks of [`Node`]s.
//!
//! Nodes are the crate's own `bitpeer::node::Node` (the same host logic the tokio and mio
//! adapters drive); links are in-memory byte pipes ([`net`]) with latency, jitter, windows,
//! random chunking and faults; every node has its own clock ([`clock`]); virtual time jumps to
//! the earliest delivery, node deadline (`poll_timeout`) or scheduled fault. One ChaCha20 PRNG,
//! seeded from the run's seed, decides everything, and only ordered collections are iterated,
//! so a seed replays exactly: the FNV-1a hash of the event log is the proof.
//!
//! The drive loop follows the crate's contract: after every call into a node the simulator
//! drains `poll_transmit` (into the link's write buffer) and `poll_event` until both are empty,
//! then re-reads `poll_timeout`. `on_sent` is reported only when the link accepts bytes.
//!
//! [`invariants`] checks the run as it goes and at the end; a run's [`Outcome`] lists what
//! broke, with the seed and the command that replays it.
#![allow(dead_code)]

pub mod clock;
pub mod invariants;
pub mod net;
pub mod scenario;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use bitpeer::Time;
use bitpeer::node::{MAX_KNOWN_ADDRESSES, Node, PeerId};
use bitpeer::peer::{DisconnectReason, Event};
use bitpeer::wire::{Command, Hash256, InvVect, Message};
use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use clock::Clock;
use invariants::{Checker, FrameInfo, Kind, Request, Stats, Violation};
use net::{End, Link};
pub use scenario::Scenario;

/// Virtual time zero (2026-11-21).
pub const EPOCH: Time = Time::from_secs(1_795_000_000);

/// Bytes a peer may still hold after its queue cap tripped: a final `reject`.
const FAREWELL_SLACK: usize = 1024;

/// Deliberately broken behaviour, to prove the checker notices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sabotage {
    /// The node answers every `inv` by sending the same `inv` back with `PeerState::send`.
    EchoInventory,
    /// The node's driver writes every `inv` frame twice.
    DuplicateInv,
    /// The node's driver drops `pong` frames (and reports them written).
    DropPongs,
    /// The node's driver never calls `handle_timeout`.
    IgnoreTimers,
}

/// Something scheduled: a fault, a dial, an announcement.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Node `a` dials node `b`.
    Dial {
        /// Dialer.
        a: usize,
        /// Listener.
        b: usize,
        /// How often the link may be redialed after it dies.
        redials: u8,
    },
    /// Node `node` announces item `item` to its ready peers.
    Announce {
        /// The origin.
        node: usize,
        /// Item index.
        item: u32,
    },
    /// The link is reset (both ends see the transport close; nothing in flight arrives).
    Reset {
        /// Link index.
        link: usize,
    },
    /// Nothing is delivered in either direction for `dur`.
    Partition {
        /// Link index.
        link: usize,
        /// How long.
        dur: Duration,
    },
    /// The reader of pipe `dir` (end `1 - dir`) stops reading for `dur`.
    Stall {
        /// Link index.
        link: usize,
        /// Pipe whose reader stalls.
        dir: usize,
        /// How long.
        dur: Duration,
    },
    /// End `side` sends a `size`-byte unknown message every `every` until `until`.
    Flood {
        /// Link index.
        link: usize,
        /// Sender.
        side: usize,
        /// Virtual end time.
        until: Time,
        /// Period.
        every: Duration,
        /// Payload size.
        size: usize,
    },
    /// End `side` sends a request the remote never answers.
    Request {
        /// Link index.
        link: usize,
        /// Requester.
        side: usize,
        /// `getheaders` (else `getdata`).
        headers: bool,
    },
    /// The node's clock steps.
    ClockStep {
        /// Node index.
        node: usize,
        /// Step in microseconds.
        delta_us: i64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Task {
    Fault(u64),
    Pipe(usize, usize),
    Wake(usize),
}

/// Limits every node shares, for the checker.
#[derive(Clone, Copy, Debug)]
struct Limits {
    idle: Duration,
    handshake: Duration,
    stall_timeout: Duration,
    stall_tick: Duration,
    max_send_queue: usize,
    max_known_inventory: usize,
}

/// A node in the simulation.
pub struct SimNode {
    /// The crate's node.
    pub node: Node,
    /// Its clock.
    pub clock: Clock,
    ip: Ipv4Addr,
    /// Its peers: link index and side.
    pub peers: BTreeMap<PeerId, (usize, usize)>,
    wake: Option<Time>,
    wake_repeat: (Time, u32),
    /// Its clock steps during the run.
    pub unstable: bool,
    sabotage: Option<Sabotage>,
    limits: Limits,
}

/// One disconnect, as the simulator saw it.
#[derive(Clone, Debug)]
pub struct Disconnect {
    /// Virtual time.
    pub at: Time,
    /// Node.
    pub node: usize,
    /// Link.
    pub link: usize,
    /// Side of the link.
    pub side: usize,
    /// The reason.
    pub reason: DisconnectReason,
}

/// The result of one run.
#[derive(Debug)]
pub struct Outcome {
    /// Scenario name.
    pub scenario: &'static str,
    /// The seed.
    pub seed: u64,
    /// FNV-1a 64 of the event log.
    pub log_hash: u64,
    /// Violations kept (the first 200).
    pub violations: Vec<Violation>,
    /// All violations.
    pub violation_count: usize,
    /// Counters.
    pub stats: Stats,
    /// Every disconnect.
    pub disconnects: Vec<Disconnect>,
    /// Virtual time the run ended, after the epoch.
    pub virtual_duration: Duration,
    /// Nodes that hold every item at the end.
    pub nodes_with_all_items: usize,
    /// Total nodes.
    pub nodes: usize,
    /// The trace, when `SIM_TRACE` is set.
    pub trace: Vec<String>,
}

impl Outcome {
    /// Whether any invariant broke.
    pub fn failed(&self) -> bool {
        self.violation_count > 0
    }

    /// Whether a violation of `kind` was reported.
    pub fn has(&self, kind: Kind) -> bool {
        self.violations.iter().any(|v| v.kind == kind)
    }

    /// A failure report: seed, the command that replays it, the first violations.
    pub fn report(&self, test: &str) -> String {
        let mut s = format!(
            "scenario {} seed {}: {} violation(s), event-log hash {:016x}\n  replay: \
             SIM_SEED={} cargo test --release --test simulation -- {test}\n  (with \
             SIM_TRACE=1 the failing replay prints its event trace)\n",
            self.scenario, self.seed, self.violation_count, self.log_hash, self.seed
        );
        for v in self.violations.iter().take(20) {
            s.push_str(&format!("  {v}\n"));
        }
        s
    }

    /// One line of counters.
    pub fn summary(&self) -> String {
        let s = &self.stats;
        format!(
            "seed {} hash {:016x}: {:.0}s virtual, {} links, {} handshakes, {} frames, {} \
             chunks, {} inv entries ({} crossings), {} pings ({} answered), disconnects {:?}",
            self.seed,
            self.log_hash,
            self.virtual_duration.as_secs_f64(),
            s.links,
            s.handshakes,
            s.frames,
            s.chunks,
            s.inv_entries,
            s.crossings,
            s.pings,
            s.pongs_matched,
            s.disconnects
        )
    }
}

/// FNV-1a, 64 bits: stable across platforms and Rust versions.
#[derive(Clone, Copy, Debug)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Hashes bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Hashes a number.
    pub fn u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// The simulator.
pub struct Sim {
    scenario: Scenario,
    seed: u64,
    rng: ChaCha20Rng,
    /// Virtual time.
    pub now: Time,
    /// Nodes.
    pub nodes: Vec<SimNode>,
    /// Links (dead ones stay, emptied).
    pub links: Vec<Link>,
    agenda: BTreeSet<(Time, Task)>,
    faults: BTreeMap<u64, Fault>,
    next_fault: u64,
    items: Vec<InvVect>,
    /// The checker.
    pub check: Checker,
    log: Fnv,
    trace: Option<Vec<String>>,
    horizon: Time,
    aborted: bool,
    /// End currently being told its transport closed (a `ConnectionClosed` is expected).
    closing: Option<(usize, usize)>,
    disconnects: Vec<Disconnect>,
    scratch: Vec<PeerId>,
}

/// Which peers' caps a drain checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sweep {
    /// Every peer of the node (after timers, relays, announcements).
    All,
    /// The peer the step concerned.
    Peer(PeerId),
}

fn reason_name(r: &DisconnectReason) -> String {
    let s = format!("{r:?}");
    let end = s.find(['(', ' ', '{']).unwrap_or(s.len());
    s[..end].to_string()
}

impl Sim {
    /// Builds the network the scenario describes for `seed`.
    pub fn new(scenario: &Scenario, seed: u64) -> Sim {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let plan = scenario.plan(&mut rng);
        let mut unstable: Vec<bool> = plan.nodes.iter().map(|n| n.unstable).collect();
        for (_, f) in &plan.faults {
            if let Fault::ClockStep { node, .. } = f {
                unstable[*node] = true;
            }
        }
        let ttl = plan.nodes.first().and_then(|n| n.cfg.known_inventory_ttl);
        let mut nodes = Vec::new();
        for (i, np) in plan.nodes.into_iter().enumerate() {
            let limits = Limits {
                idle: np.cfg.idle_timeout,
                handshake: np.cfg.handshake_timeout,
                stall_timeout: np.cfg.stall_timeout,
                stall_tick: np.cfg.stall_tick,
                max_send_queue: np.cfg.max_send_queue_bytes,
                max_known_inventory: np.cfg.max_known_inventory,
            };
            let mut node = Node::new(np.cfg, &mut rng);
            node.add_addresses(np.addresses);
            nodes.push(SimNode {
                node,
                clock: Clock::with_offset(np.offset_us),
                ip: Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8),
                peers: BTreeMap::new(),
                wake: None,
                wake_repeat: (Time::ZERO, 0),
                unstable: unstable[i],
                sabotage: np.sabotage,
                limits,
            });
        }
        let hashes: Vec<[u8; 32]> = plan.items.iter().map(|iv| iv.hash.0).collect();
        let check = Checker::new(scenario.network.magic_bytes(), ttl, &hashes, nodes.len());
        let trace = std::env::var_os("SIM_TRACE").map(|_| Vec::new());
        let mut sim = Sim {
            scenario: scenario.clone(),
            seed,
            rng,
            now: EPOCH,
            nodes,
            links: Vec::new(),
            agenda: BTreeSet::new(),
            faults: BTreeMap::new(),
            next_fault: 0,
            items: plan.items,
            check,
            log: Fnv::default(),
            trace,
            horizon: EPOCH.saturating_add(scenario.horizon),
            aborted: false,
            closing: None,
            disconnects: Vec::new(),
            scratch: Vec::new(),
        };
        for (t, f) in plan.faults {
            sim.schedule_fault(t, f);
        }
        sim
    }

    fn secs(&self) -> f64 {
        self.now.as_micros().saturating_sub(EPOCH.as_micros()) as f64 / 1e6
    }

    fn trace(&mut self, line: impl FnOnce() -> String) {
        if self.trace.is_some() {
            let line = format!("[{:.6}] {}", self.secs(), line());
            if let Some(t) = &mut self.trace {
                t.push(line);
            }
        }
    }

    fn violate(&mut self, kind: Kind, detail: String) {
        self.trace(|| format!("VIOLATION {kind:?}: {detail}"));
        self.check.violate(self.now, kind, detail);
    }

    fn schedule_fault(&mut self, t: Time, f: Fault) {
        let id = self.next_fault;
        self.next_fault += 1;
        self.faults.insert(id, f);
        self.agenda.insert((t, Task::Fault(id)));
    }

    fn local(&self, n: usize) -> Time {
        self.nodes[n].clock.local(self.now)
    }

    fn healthy(&self, l: usize) -> bool {
        let link = &self.links[l];
        !link.faulted
            && !self.nodes[link.ends[0].node].unstable
            && !self.nodes[link.ends[1].node].unstable
    }

    // ------------------------------------------------------------------------------------
    // The loop
    // ------------------------------------------------------------------------------------

    /// Runs to the horizon, then until the network is quiet (or the settle cap passes), then
    /// checks the end state.
    pub fn run(&mut self) {
        let cap = self.horizon.saturating_add(self.scenario.settle_cap);
        let mut next_quiet_check = self.horizon;
        let mut quiet = false;
        while let Some((t, task)) = self.agenda.pop_first() {
            if t > cap {
                self.agenda.insert((t, task));
                break;
            }
            self.now = self.now.max(t);
            self.check.stats.tasks += 1;
            match task {
                Task::Fault(id) => {
                    if let Some(f) = self.faults.remove(&id) {
                        self.apply(f);
                    }
                }
                Task::Pipe(l, dir) => self.run_pipe(l, dir),
                Task::Wake(n) => self.run_wake(n),
            }
            if self.aborted {
                return;
            }
            if self.now >= next_quiet_check {
                if self.quiescent() {
                    quiet = true;
                    break;
                }
                next_quiet_check = self.now.saturating_add(Duration::from_secs(1));
            }
        }
        if let (false, Some(what)) = (quiet, self.busy()) {
            self.violate(
                Kind::NotQuiescent,
                format!("still busy at the settle cap: {what}"),
            );
        }
        self.final_checks();
    }

    /// No fault pending, no inventory queued or in flight, no half-closed link, every live
    /// link ready on both ends.
    fn quiescent(&self) -> bool {
        self.busy().is_none()
    }

    /// What keeps the network from being quiet.
    fn busy(&self) -> Option<String> {
        if let Some(f) = self.faults.values().next() {
            return Some(format!("fault pending: {f:?}"));
        }
        for (l, link) in self.links.iter().enumerate().filter(|(_, l)| !l.dead) {
            // Pings and pongs never stop; inventory and closes must have landed.
            for (dir, pipe) in link.pipes.iter().enumerate() {
                if pipe.fin || self.check.inv_in_flight(l, dir) {
                    return Some(format!(
                        "link {l} dir {dir}: {} bytes pending, fin {} (paused until {:?})",
                        pipe.backlog(),
                        pipe.fin,
                        link.paused_until(dir)
                    ));
                }
            }
            for (side, end) in link.ends.iter().enumerate() {
                let Some(p) = self.nodes[end.node].node.peer(end.peer) else {
                    return Some(format!("link {l} side {side}: peer missing"));
                };
                if !p.is_ready() || p.queued_inventory() > 0 {
                    return Some(format!(
                        "link {l} side {side} (node {}): {:?}, {} vectors queued, next \
                         deadline {:?}",
                        end.node,
                        p.phase(),
                        p.queued_inventory(),
                        p.poll_timeout()
                    ));
                }
            }
        }
        None
    }

    fn run_wake(&mut self, n: usize) {
        self.nodes[n].wake = None;
        let now = self.now;
        let rep = &mut self.nodes[n].wake_repeat;
        if rep.0 == now {
            rep.1 += 1;
        } else {
            *rep = (now, 1);
        }
        if rep.1 > 10_000 {
            self.violate(
                Kind::TimerLivelock,
                format!("node {n}: poll_timeout stays at or before now after handle_timeout"),
            );
            self.aborted = true;
            return;
        }
        let local = self.local(n);
        self.check.stats.node_calls += 1;
        self.nodes[n].node.handle_timeout(local);
        self.pump(n, Sweep::All);
    }

    fn schedule_wake(&mut self, n: usize) {
        let sn = &self.nodes[n];
        let next = if sn.sabotage == Some(Sabotage::IgnoreTimers) {
            None
        } else {
            sn.node
                .poll_timeout()
                .map(|t| sn.clock.to_virtual(t).max(self.now))
        };
        if next != sn.wake {
            if let Some(old) = sn.wake {
                self.agenda.remove(&(old, Task::Wake(n)));
            }
            if let Some(t) = next {
                self.agenda.insert((t, Task::Wake(n)));
            }
            self.nodes[n].wake = next;
        }
    }

    fn schedule_pipe(&mut self, l: usize, dir: usize) {
        let next = self.links[l].due(dir).map(|t| t.max(self.now));
        let old = self.links[l].scheduled[dir];
        if next != old {
            if let Some(old) = old {
                self.agenda.remove(&(old, Task::Pipe(l, dir)));
            }
            if let Some(t) = next {
                self.agenda.insert((t, Task::Pipe(l, dir)));
            }
            self.links[l].scheduled[dir] = next;
        }
    }

    /// Drains node `n`: events into the checker, frames into the links, until both are empty;
    /// then checks the caps (of every peer, or of the one the step concerned) and re-reads the
    /// node's deadline. Frames only appear after a call that can queue them (the input that
    /// led here, or a command issued while handling an event); `on_sent` only adds events.
    fn pump(&mut self, n: usize, sweep: Sweep) {
        let mut maybe_output = true;
        loop {
            while let Some((id, ev)) = self.nodes[n].node.poll_event() {
                self.check.stats.node_events += 1;
                maybe_output |= self.on_event(n, id, ev);
            }
            if !maybe_output {
                break;
            }
            maybe_output = false;
            let mut ids = core::mem::take(&mut self.scratch);
            ids.clear();
            ids.extend(self.nodes[n].node.peers_with_output());
            for &id in &ids {
                let Some(&(l, side)) = self.nodes[n].peers.get(&id) else {
                    while self.nodes[n].node.poll_transmit(id).is_some() {}
                    continue;
                };
                while let Some(frame) = self.nodes[n].node.poll_transmit(id) {
                    self.hand_out(n, id, l, side, frame);
                }
                self.flush(l, side);
            }
            self.scratch = ids;
        }
        self.sweep_caps(n, sweep);
        self.schedule_wake(n);
    }

    fn hand_out(&mut self, n: usize, id: PeerId, l: usize, side: usize, frame: Bytes) {
        if self.links[l].reset || self.links[l].dead {
            return;
        }
        let command = &frame[4..16.min(frame.len())];
        match self.nodes[n].sabotage {
            Some(Sabotage::DropPongs) if command.starts_with(b"pong\0") => {
                let local = self.local(n);
                self.nodes[n].node.on_sent(id, frame.len(), local);
                return;
            }
            Some(Sabotage::DuplicateInv) if command.starts_with(b"inv\0") => {
                let healthy = self.healthy(l);
                let clock = (self.local(n), self.nodes[n].clock.steps());
                self.check
                    .handout(self.now, l, side, n, clock, &frame, healthy);
                self.links[l].pipes[side].push(frame.clone());
            }
            _ => {}
        }
        let healthy = self.healthy(l);
        let clock = (self.local(n), self.nodes[n].clock.steps());
        self.check
            .handout(self.now, l, side, n, clock, &frame, healthy);
        self.log.u64(1);
        self.log.u64(self.now.as_micros());
        self.log.u64(l as u64);
        self.log.u64(side as u64);
        self.log.write(&frame);
        self.links[l].pipes[side].push(frame);
    }

    /// Lets pipe `dir` of link `l` accept what its window allows; reports it with `on_sent`.
    fn flush(&mut self, l: usize, dir: usize) -> usize {
        if self.links[l].dead {
            return 0;
        }
        let link = &mut self.links[l];
        let n = link.pipes[dir].accept(self.now, &link.params, &mut self.rng);
        let end = link.ends[dir];
        if n > 0 && !end.gone {
            let local = self.local(end.node);
            self.check.stats.node_calls += 1;
            self.nodes[end.node].node.on_sent(end.peer, n, local);
        }
        self.schedule_pipe(l, dir);
        n
    }

    fn run_pipe(&mut self, l: usize, dir: usize) {
        self.links[l].scheduled[dir] = None;
        if self.links[l].dead {
            return;
        }
        if self.now < self.links[l].paused_until(dir) {
            self.schedule_pipe(l, dir);
            return;
        }
        let sender = self.links[l].ends[dir];
        while let Some(piece) = self.links[l].pipes[dir].pop_due(self.now) {
            let recv = self.links[l].ends[1 - dir];
            self.log.u64(2);
            self.log.u64(self.now.as_micros());
            self.log.u64(l as u64);
            self.log.u64(piece.len() as u64);
            let done = self.check.advance(l, dir, piece.len());
            if recv.gone {
                continue;
            }
            let local = self.local(recv.node);
            self.check.stats.node_calls += 1;
            self.nodes[recv.node]
                .node
                .handle_input(recv.peer, local, &piece);
            let processed = self.nodes[recv.node]
                .node
                .peer(recv.peer)
                .is_some_and(|p| !p.is_disconnected());
            let mut sweep = Sweep::Peer(recv.peer);
            if processed {
                for info in done {
                    if matches!(info, FrameInfo::Inv(_)) {
                        // The node relayed it: every peer's queue changed.
                        sweep = Sweep::All;
                    }
                    self.frame_delivered(l, dir, info);
                }
            }
            self.pump(recv.node, sweep);
            if self.links[l].dead {
                return;
            }
        }
        if self.links[l].pipes[dir].fin_due(self.now) {
            self.links[l].pipes[dir].fin_delivered = true;
            let recv = self.links[l].ends[1 - dir];
            if !recv.gone {
                self.close_transport(l, 1 - dir);
            }
            if self.links[l].dead {
                return;
            }
        }
        // Delivery freed window: the writer's bytes move on.
        if self.flush(l, dir) > 0 && !self.links[l].ends[dir].gone {
            self.pump(sender.node, Sweep::Peer(sender.peer));
        }
        self.schedule_pipe(l, dir);
    }

    /// A complete frame on pipe `dir` of link `l` was processed by its reader.
    fn frame_delivered(&mut self, l: usize, dir: usize, info: FrameInfo) {
        let recv = self.links[l].ends[1 - dir];
        let rn = recv.node;
        let local = self.local(rn);
        let steps = self.nodes[rn].clock.steps();
        let idle = self.nodes[rn].limits.idle;
        let ready = self.check.links[l].ready[1 - dir].is_some();
        if let (Some((t, s)), true) = (self.check.links[l].pipes[dir].last_frame, ready) {
            if s == steps && local > t.saturating_add(idle) {
                self.violate(
                    Kind::IdleLate,
                    format!(
                        "node {rn} link {l}: a frame arrived {:?} after the previous one and \
                         the peer was not disconnected at the idle deadline",
                        local - t
                    ),
                );
            }
        }
        self.check.links[l].pipes[dir].last_frame = Some((local, steps));
        match info {
            FrameInfo::Inv(items) => {
                for item in items {
                    self.check.links[l].pipes[dir].recv.set(item);
                    self.check.received_at(l, dir, item, (local, steps));
                    if self.check.links[l].pipes[1 - dir].sent.get(item) {
                        self.check.stats.crossings += 1;
                    }
                    if self.check.has[rn].set(item) {
                        self.owe(rn, item, Some((l, 1 - dir)));
                    }
                }
            }
            FrameInfo::Pong(nonce) => {
                let healthy = self.healthy(l);
                let back = &mut self.check.links[l].pipes[1 - dir];
                if back.ping_out == Some(nonce) {
                    back.ping_out = None;
                    self.check.stats.pongs_matched += 1;
                } else if healthy {
                    let out = back.ping_out;
                    self.violate(
                        Kind::PongMismatch,
                        format!("link {l}: pong {nonce:#x}, outstanding ping {out:?}"),
                    );
                }
            }
            FrameInfo::GetAddr => {
                // The node answers (or not) while handling the input, before this runs.
                let knows = self.nodes[rn].node.known_addresses().next().is_some();
                let pipe = &mut self.check.links[l].pipes[dir];
                pipe.addr_owed |= dir == 0 && !pipe.getaddr_seen && knows;
                pipe.getaddr_seen = true;
            }
            FrameInfo::Ping(_) | FrameInfo::Addr | FrameInfo::Other => {}
        }
    }

    /// Node `n` learned `item`: it must relay it over every link whose end is ready now
    /// (except the one it came from).
    fn owe(&mut self, n: usize, item: u32, from: Option<(usize, usize)>) {
        for (&pid, &(l, side)) in &self.nodes[n].peers {
            if Some((l, side)) == from {
                continue;
            }
            if self.nodes[n].node.peer(pid).is_some_and(|p| p.is_ready()) {
                self.check.links[l].pipes[side].owed.set(item);
            }
        }
    }

    /// Handles one event; returns whether it issued a command that may have queued frames.
    fn on_event(&mut self, n: usize, id: PeerId, ev: Event) -> bool {
        let Some(&(l, side)) = self.nodes[n].peers.get(&id) else {
            return false;
        };
        self.log.u64(3);
        self.log.u64(self.now.as_micros());
        self.log.u64(n as u64);
        self.log.u64(id.0);
        let local = self.local(n);
        let steps = self.nodes[n].clock.steps();
        match ev {
            Event::Ready(_) => {
                self.log.u64(10);
                self.trace(|| format!("node {n} link {l}: ready"));
                let lc = &mut self.check.links[l];
                lc.ready[side] = Some(local);
                let (created, s) = lc.created[side];
                let both = lc.ready[1 - side].is_some();
                let limit = self.nodes[n].limits.handshake;
                if s == steps && local - created > limit {
                    self.violate(
                        Kind::HandshakeSlow,
                        format!("node {n} link {l}: ready after {:?}", local - created),
                    );
                }
                if both {
                    self.check.stats.handshakes += 1;
                }
                if self.scenario.gossip && side == 0 {
                    // Like Core and btcd, a dialer asks its new peer for addresses.
                    if let Some(p) = self.nodes[n].node.peer_mut(id) {
                        self.check.stats.node_calls += 1;
                        p.send(Message::GetAddr);
                        return true;
                    }
                }
            }
            Event::Message(msg) => {
                self.log.write(msg.command().as_str().as_bytes());
                if let (Message::Inv(list), Some(Sabotage::EchoInventory)) =
                    (&msg, self.nodes[n].sabotage)
                {
                    if let Some(p) = self.nodes[n].node.peer_mut(id) {
                        self.check.stats.node_calls += 1;
                        p.send(Message::Inv(list.clone()));
                        return true;
                    }
                }
            }
            Event::Sent(sid) => {
                self.log.u64(11);
                self.log.u64(sid.0);
                if let Some(req) = &mut self.check.links[l].request[side] {
                    if req.id == sid && req.written.is_none() {
                        req.written = Some((local, steps));
                    }
                }
            }
            Event::Disconnected(reason) => {
                self.log.u64(12);
                self.log.write(format!("{reason:?}").as_bytes());
                self.on_disconnected(n, l, side, reason);
            }
            other => {
                self.log.write(format!("{other:?}").as_bytes());
            }
        }
        false
    }

    fn on_disconnected(&mut self, n: usize, l: usize, side: usize, reason: DisconnectReason) {
        self.trace(|| format!("node {n} link {l} side {side}: disconnected: {reason:?}"));
        self.disconnects.push(Disconnect {
            at: self.now,
            node: n,
            link: l,
            side,
            reason: reason.clone(),
        });
        self.check.links[l].disconnects[side] += 1;
        if self.check.links[l].disconnects[side] > 1 {
            self.violate(
                Kind::DoubleDisconnect,
                format!("node {n} link {l}: second Disconnected ({reason:?})"),
            );
            return;
        }
        *self
            .check
            .stats
            .disconnects
            .entry(reason_name(&reason))
            .or_default() += 1;
        if self.healthy(l) {
            self.violate(
                Kind::HealthyLinkDisconnected,
                format!("node {n} link {l}: {reason:?}"),
            );
        }
        let local = self.local(n);
        let steps = self.nodes[n].clock.steps();
        let limits = self.nodes[n].limits;
        let lc = &self.check.links[l];
        match &reason {
            DisconnectReason::ConnectionClosed => {
                if self.closing != Some((l, side)) {
                    self.violate(
                        Kind::UnexpectedReason,
                        format!("node {n} link {l}: ConnectionClosed but the transport is open"),
                    );
                }
            }
            DisconnectReason::HandshakeTimeout => {
                let (created, s) = lc.created[side];
                let deadline = created.saturating_add(limits.handshake);
                let ok = lc.ready[side].is_none()
                    && local >= deadline
                    && (s != steps || local == deadline);
                if !ok {
                    self.violate(
                        Kind::HandshakeTimeoutWrong,
                        format!(
                            "node {n} link {l}: handshake timeout {:?} after creation \
                             (limit {:?})",
                            local - created,
                            limits.handshake
                        ),
                    );
                }
            }
            DisconnectReason::IdleTimeout => match lc.pipes[1 - side].last_frame {
                None => self.violate(
                    Kind::IdleEarly,
                    format!("node {n} link {l}: idle timeout before any frame arrived"),
                ),
                Some((t, s)) => {
                    let deadline = t.saturating_add(limits.idle);
                    if local < deadline {
                        self.violate(
                            Kind::IdleEarly,
                            format!(
                                "node {n} link {l}: idle timeout {:?} after the last frame",
                                local - t
                            ),
                        );
                    } else if s == steps && local != deadline {
                        self.violate(
                            Kind::IdleLate,
                            format!(
                                "node {n} link {l}: idle timeout {:?} after the last frame",
                                local - t
                            ),
                        );
                    }
                }
            },
            DisconnectReason::Stalled(command) => match lc.request[side] {
                Some(Request {
                    headers,
                    written: Some((w, s)),
                    ..
                }) => {
                    let expected: &[Command] = if headers {
                        &[Command::HEADERS]
                    } else {
                        &[
                            Command::BLOCK,
                            Command::TX,
                            Command::MERKLEBLOCK,
                            Command::NOTFOUND,
                        ]
                    };
                    let base = if headers {
                        limits.stall_timeout * 3
                    } else {
                        limits.stall_timeout
                    };
                    let earliest = w.saturating_add(base);
                    let latest = earliest.saturating_add(limits.stall_tick);
                    let in_window = local >= earliest && (s != steps || local <= latest);
                    if !expected.contains(command) || !in_window {
                        self.violate(
                            Kind::StallOutsideWindow,
                            format!(
                                "node {n} link {l}: stalled on {command} {:?} after the request \
                                 (window {:?}..={:?})",
                                local - w,
                                base,
                                base + limits.stall_tick
                            ),
                        );
                    }
                }
                _ => self.violate(
                    Kind::StallUnexplained,
                    format!("node {n} link {l}: stalled on {command} without a pending request"),
                ),
            },
            DisconnectReason::StalledInventory(iv) => match lc.request[side] {
                Some(Request {
                    iv: asked,
                    written: Some((w, s)),
                    headers: false,
                    ..
                }) => {
                    let earliest = w.saturating_add(limits.stall_timeout);
                    let latest = earliest.saturating_add(limits.stall_tick);
                    let in_window = local >= earliest && (s != steps || local <= latest);
                    if asked != *iv || !in_window {
                        self.violate(
                            Kind::StallOutsideWindow,
                            format!(
                                "node {n} link {l}: stalled on {iv:?} {:?} after the request \
                                 for {asked:?}",
                                local - w
                            ),
                        );
                    }
                }
                _ => self.violate(
                    Kind::StallUnexplained,
                    format!("node {n} link {l}: stalled on {iv:?} without a pending request"),
                ),
            },
            DisconnectReason::SendQueueFull(_) => {}
            other => self.violate(
                Kind::UnexpectedReason,
                format!("node {n} link {l}: {other:?}"),
            ),
        }
        self.close_end(l, side);
    }

    /// Tells end `side` of link `l` its transport closed; it must report `Disconnected`.
    fn close_transport(&mut self, l: usize, side: usize) {
        let end = self.links[l].ends[side];
        if end.gone {
            return;
        }
        self.closing = Some((l, side));
        self.check.stats.node_calls += 1;
        self.nodes[end.node].node.handle_closed(end.peer);
        self.pump(end.node, Sweep::Peer(end.peer));
        self.closing = None;
        if !self.links[l].ends[side].gone {
            self.violate(
                Kind::MissingDisconnect,
                format!(
                    "node {} link {l}: handle_closed without Disconnected",
                    end.node
                ),
            );
            self.close_end(l, side);
        }
    }

    /// End `side` of link `l` disconnected: its last frames go out, then a FIN; the peer is
    /// removed from its node.
    fn close_end(&mut self, l: usize, side: usize) {
        let end = self.links[l].ends[side];
        if end.gone {
            return;
        }
        let n = end.node;
        while let Some(frame) = self.nodes[n].node.poll_transmit(end.peer) {
            self.hand_out(n, end.peer, l, side, frame);
        }
        self.nodes[n].node.remove(end.peer);
        self.nodes[n].peers.remove(&end.peer);
        self.links[l].ends[side].gone = true;
        if self.links[l].ends[1 - side].gone {
            self.mark_dead(l);
            return;
        }
        if !self.links[l].reset {
            self.links[l].pipes[side].fin = true;
            self.flush(l, side);
        }
    }

    fn mark_dead(&mut self, l: usize) {
        let link = &mut self.links[l];
        link.dead = true;
        link.pipes[0].clear();
        link.pipes[1].clear();
        for dir in 0..2 {
            if let Some(t) = link.scheduled[dir].take() {
                self.agenda.remove(&(t, Task::Pipe(l, dir)));
            }
        }
        self.check.drop_frames(l);
        let (a, b, left) = (link.ends[0].node, link.ends[1].node, link.redials_left);
        let delay = Duration::from_micros(self.rng.gen_range(1_000_000..=30_000_000));
        let when = self.now.saturating_add(delay);
        if left > 0
            && when < self.horizon
            && self.rng.gen_range(0..1000) < self.scenario.faults.redial
        {
            self.schedule_fault(
                when,
                Fault::Dial {
                    a,
                    b,
                    redials: left - 1,
                },
            );
        }
    }

    fn sweep_caps(&mut self, n: usize, sweep: Sweep) {
        let limits = self.nodes[n].limits;
        let max_frame = self.check.stats.max_frame;
        let degree = self.nodes[n].peers.len() as u64;
        let inv_cap = (self.check.stats.items_announced * (degree + 1)) as usize;
        let mut problems = Vec::new();
        let stats = &mut self.check.stats;
        let one;
        let peers: &mut dyn Iterator<Item = (&PeerId, &(usize, usize))> = match sweep {
            Sweep::All => &mut self.nodes[n].peers.iter(),
            Sweep::Peer(id) => {
                one = self.nodes[n].peers.get_key_value(&id);
                &mut one.into_iter()
            }
        };
        for (&pid, &(l, _)) in peers {
            let Some(p) = self.nodes[n].node.peer(pid) else {
                continue;
            };
            let unsent = p.unsent_bytes();
            let buffered = p.buffered_input();
            let known = p.known_inventory_len();
            let queued_inv = p.queued_inventory();
            stats.peak_unsent = stats.peak_unsent.max(unsent);
            stats.peak_buffered = stats.peak_buffered.max(buffered);
            stats.peak_known_inventory = stats.peak_known_inventory.max(known);
            stats.peak_queued_inventory = stats.peak_queued_inventory.max(queued_inv);
            if unsent > limits.max_send_queue + FAREWELL_SLACK {
                problems.push(format!("link {l}: unsent_bytes {unsent}"));
            }
            if buffered > max_frame {
                problems.push(format!(
                    "link {l}: buffered_input {buffered} > largest frame {max_frame}"
                ));
            }
            if p.queued_frames() != 0 {
                problems.push(format!(
                    "link {l}: {} frames queued after a drain",
                    p.queued_frames()
                ));
            }
            if known > limits.max_known_inventory {
                problems.push(format!("link {l}: known inventory {known}"));
            }
            if queued_inv > inv_cap {
                problems.push(format!(
                    "link {l}: {queued_inv} vectors queued (cap {inv_cap})"
                ));
            }
        }
        for p in problems {
            self.violate(Kind::CapExceeded, format!("node {n} {p}"));
        }
    }

    // ------------------------------------------------------------------------------------
    // Faults
    // ------------------------------------------------------------------------------------

    fn live_end(&self, l: usize, side: usize) -> Option<End> {
        let link = self.links.get(l)?;
        let end = link.ends[side];
        (!link.dead && !end.gone).then_some(end)
    }

    fn apply(&mut self, f: Fault) {
        self.trace(|| format!("fault {f:?}"));
        self.log.u64(4);
        self.log.u64(self.now.as_micros());
        self.log.write(format!("{f:?}").as_bytes());
        match f {
            Fault::Dial { a, b, redials } => {
                if self.now <= self.horizon {
                    self.dial(a, b, redials);
                }
            }
            Fault::Announce { node, item } => {
                self.check.stats.items_announced += 1;
                if self.check.has[node].set(item) {
                    self.owe(node, item, None);
                }
                let iv = self.items[item as usize];
                self.check.stats.node_calls += 1;
                self.nodes[node].node.announce(iv);
                self.pump(node, Sweep::All);
            }
            Fault::Reset { link } => {
                if self.links.get(link).is_none_or(|l| l.dead) {
                    return;
                }
                let lk = &mut self.links[link];
                lk.faulted = true;
                lk.reset = true;
                lk.pipes[0].clear();
                lk.pipes[1].clear();
                self.check.drop_frames(link);
                for side in 0..2 {
                    self.close_transport(link, side);
                }
            }
            Fault::Partition { link, dur } => {
                if self.links.get(link).is_none_or(|l| l.dead) {
                    return;
                }
                let until = self.now.saturating_add(dur);
                let lk = &mut self.links[link];
                lk.faulted = true;
                lk.partition_until = lk.partition_until.max(until);
            }
            Fault::Stall { link, dir, dur } => {
                if self.links.get(link).is_none_or(|l| l.dead) {
                    return;
                }
                let until = self.now.saturating_add(dur);
                let lk = &mut self.links[link];
                lk.faulted = true;
                lk.pipes[dir].stalled_until = lk.pipes[dir].stalled_until.max(until);
            }
            Fault::Flood {
                link,
                side,
                until,
                every,
                size,
            } => {
                let Some(end) = self.live_end(link, side) else {
                    return;
                };
                self.links[link].faulted = true;
                let msg = if self.scenario.network.chain() == bitpeer::Chain::Decred {
                    // dcrd disconnects on unknown commands: flood with notfound for vectors
                    // nobody asked for (which clear no stall deadline).
                    let list = (0..size / InvVect::SIZE)
                        .map(|_| {
                            let mut hash = [0u8; 32];
                            self.rng.fill(&mut hash[..]);
                            InvVect::new(bitpeer::wire::InvType::TX, Hash256(hash))
                        })
                        .collect();
                    Message::NotFound(list)
                } else {
                    Message::Unknown {
                        command: Command::new("simflood").expect("valid command"),
                        payload: Bytes::from(vec![0x5a; size]),
                    }
                };
                if let Some(p) = self.nodes[end.node].node.peer_mut(end.peer) {
                    if p.is_ready() {
                        self.check.stats.node_calls += 1;
                        p.send(msg);
                    }
                }
                self.pump(end.node, Sweep::Peer(end.peer));
                let next = self.now.saturating_add(every);
                if next < until {
                    self.schedule_fault(
                        next,
                        Fault::Flood {
                            link,
                            side,
                            until,
                            every,
                            size,
                        },
                    );
                }
            }
            Fault::Request {
                link,
                side,
                headers,
            } => {
                let Some(end) = self.live_end(link, side) else {
                    return;
                };
                if self.check.links[link].request[side].is_some() {
                    return;
                }
                let mut hash = [0u8; 32];
                self.rng.fill(&mut hash[..]);
                let Some(p) = self.nodes[end.node].node.peer_mut(end.peer) else {
                    return;
                };
                if !p.is_ready() {
                    return;
                }
                self.links[link].faulted = true;
                self.check.stats.node_calls += 1;
                let iv = InvVect::new(bitpeer::wire::InvType::TX, Hash256(hash));
                let id = if headers {
                    p.push_get_headers(&[Hash256(hash)], Hash256::ZERO)
                        .ok()
                        .flatten()
                } else {
                    p.send(Message::GetData(vec![iv]))
                };
                if let Some(id) = id {
                    self.check.links[link].request[side] = Some(Request {
                        id,
                        headers,
                        iv,
                        written: None,
                    });
                }
                self.pump(end.node, Sweep::Peer(end.peer));
            }
            Fault::ClockStep { node, delta_us } => {
                self.nodes[node].clock.step(delta_us);
                self.schedule_wake(node);
            }
        }
    }

    fn dial(&mut self, a: usize, b: usize, redials: u8) {
        let params = self.scenario.link_params(&mut self.rng);
        let l = self.links.len();
        let (la, lb) = (self.local(a), self.local(b));
        let port = 20_000 + (l % 40_000) as u16;
        let to_b = SocketAddr::new(self.nodes[b].ip.into(), 18444);
        let from_a = SocketAddr::new(self.nodes[a].ip.into(), port);
        self.check.stats.node_calls += 2;
        let pa = self.nodes[a].node.connect(to_b, la);
        let pb = self.nodes[b].node.accept(from_a, lb);
        let ends = [
            End {
                node: a,
                peer: pa,
                gone: false,
            },
            End {
                node: b,
                peer: pb,
                gone: false,
            },
        ];
        self.links.push(Link::new(ends, params, redials));
        let created = [
            (la, self.nodes[a].clock.steps()),
            (lb, self.nodes[b].clock.steps()),
        ];
        let cl = self.check.add_link(created);
        debug_assert_eq!(cl, l);
        self.nodes[a].peers.insert(pa, (l, 0));
        self.nodes[b].peers.insert(pb, (l, 1));
        self.trace(|| format!("link {l}: node {a} dials node {b} ({params:?})"));
        self.pump(a, Sweep::Peer(pa));
        self.pump(b, Sweep::Peer(pb));
    }

    // ------------------------------------------------------------------------------------
    // The end
    // ------------------------------------------------------------------------------------

    fn final_checks(&mut self) {
        for l in 0..self.links.len() {
            if self.links[l].dead {
                continue;
            }
            let link = &self.links[l];
            let ends = link.ends;
            if ends.iter().any(|e| e.gone) {
                continue;
            }
            let ready = ends.iter().all(|e| {
                self.nodes[e.node]
                    .node
                    .peer(e.peer)
                    .is_some_and(|p| p.is_ready())
            });
            if !ready {
                if self.healthy(l) {
                    self.violate(
                        Kind::HandshakeIncomplete,
                        format!("link {l}: healthy link never became ready"),
                    );
                }
                continue;
            }
            for dir in 0..2 {
                let rn = ends[1 - dir].node;
                let missing: Vec<u32> = self.check.links[l].pipes[dir]
                    .owed
                    .iter()
                    .filter(|i| !self.check.has[rn].get(*i))
                    .collect();
                if !missing.is_empty() {
                    self.violate(
                        Kind::InventoryNotDelivered,
                        format!(
                            "link {l}: node {} never relayed items {missing:?} to node {rn}",
                            ends[dir].node
                        ),
                    );
                }
            }
            if self.check.links[l].pipes[0].addr_owed && !self.check.links[l].pipes[1].addr_sent {
                self.violate(
                    Kind::GetAddrUnanswered,
                    format!(
                        "link {l}: node {} knew addresses but did not answer getaddr",
                        ends[1].node
                    ),
                );
            }
            for (side, end) in ends.iter().enumerate() {
                let n = end.node;
                let local = self.local(n);
                let steps = self.nodes[n].clock.steps();
                let idle = self.nodes[n].limits.idle;
                if let Some((t, s)) = self.check.links[l].pipes[1 - side].last_frame {
                    if s == steps && local > t.saturating_add(idle) {
                        self.violate(
                            Kind::IdleLate,
                            format!(
                                "node {n} link {l}: silent for {:?} and still connected",
                                local - t
                            ),
                        );
                    }
                }
            }
        }
        for (n, sn) in self.nodes.iter().enumerate() {
            let count = sn.node.known_addresses().count();
            if count > MAX_KNOWN_ADDRESSES {
                self.check.violate(
                    self.now,
                    Kind::CapExceeded,
                    format!("node {n}: {count} known addresses"),
                );
            }
        }
    }

    /// The outcome so far.
    pub fn outcome(mut self) -> Outcome {
        let all = self.items.len();
        let nodes_with_all_items = self.check.has.iter().filter(|h| h.count() == all).count();
        self.log.u64(self.check.violation_count as u64);
        Outcome {
            scenario: self.scenario.name,
            seed: self.seed,
            log_hash: self.log.finish(),
            violations: self.check.take_violations(),
            violation_count: self.check.violation_count,
            stats: self.check.stats.clone(),
            disconnects: self.disconnects,
            virtual_duration: self.now - EPOCH,
            nodes_with_all_items,
            nodes: self.nodes.len(),
            trace: self.trace.unwrap_or_default(),
        }
    }
}

/// Runs `scenario` with `seed`; a panic in the code under test becomes a [`Kind::Panic`]
/// violation.
pub fn run(scenario: &Scenario, seed: u64) -> Outcome {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut sim = Sim::new(scenario, seed);
        sim.run();
        sim.outcome()
    }));
    match result {
        Ok(outcome) => outcome,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            Outcome {
                scenario: scenario.name,
                seed,
                log_hash: 0,
                violations: vec![Violation {
                    at: EPOCH,
                    kind: Kind::Panic,
                    detail: msg,
                }],
                violation_count: 1,
                stats: Stats::default(),
                disconnects: Vec::new(),
                virtual_duration: Duration::ZERO,
                nodes_with_all_items: 0,
                nodes: scenario.nodes,
                trace: Vec::new(),
            }
        }
    }
}

/// The seeds to run: `SIM_SEED=x` (just x), else `0..SIM_SEEDS` (default `default`).
pub fn seeds(default: u64) -> Vec<u64> {
    if let Some(s) = std::env::var("SIM_SEED").ok().filter(|s| !s.is_empty()) {
        return vec![s.trim().parse().expect("SIM_SEED must be a u64")];
    }
    let n = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default);
    (0..n).collect()
}

/// Runs every seed on all cores; returns the outcomes in seed order.
pub fn run_seeds(scenario: &Scenario, seeds: &[u64]) -> Vec<Outcome> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let out = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(seeds.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = seeds.get(i) else {
                        break;
                    };
                    let o = run(scenario, seed);
                    out.lock().expect("no poisoned lock").push(o);
                }
            });
        }
    });
    let mut v = out.into_inner().expect("no poisoned lock");
    v.sort_by_key(|o| o.seed);
    v
}

/// Peak resident memory of this process (VmHWM), in KiB, where /proc exists.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time the calling thread has used (from /proc/thread-self/schedstat), where /proc exists.
/// On a loaded machine it measures the simulator better than wall time.
pub fn thread_cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
