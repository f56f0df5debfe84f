//! [`Node`]: many [`PeerState`]s plus the small amount of host logic every node needs —
//! relay inventory learned from one peer to the others, remember gossiped addresses and answer
//! `getaddr` with them. Still sans-IO: the tokio and mio examples and the simulator all drive
//! this same type.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use bytes::Bytes;
use core::net::SocketAddr;
use rand_core::RngCore;

use crate::lru::LruSet;
use crate::peer::{Config, DisconnectReason, Event, PeerRng, PeerState};
use crate::time::Time;
use crate::wire::{InvType, InvVect, Message, NetAddress};

/// Identifies a peer within a [`Node`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

/// How many inventory vectors a node remembers having relayed (so each is relayed once, however
/// many peers announce it).
pub const MAX_RELAYED_INVENTORY: usize = 10_000;

/// Most gossiped addresses a node remembers.
pub const MAX_KNOWN_ADDRESSES: usize = 2000;

/// A node: peers keyed by [`PeerId`] (iterated in id order, so behaviour is deterministic)
/// and the host logic between them.
pub struct Node {
    cfg: Config,
    rng: PeerRng,
    peers: BTreeMap<PeerId, Slot>,
    next_id: u64,
    addresses: VecDeque<NetAddress>,
    relayed: LruSet<InvVect>,
    events: VecDeque<(PeerId, Event)>,
}

struct Slot {
    peer: PeerState,
    answered_getaddr: bool,
}

impl Node {
    /// A node whose peers all use `cfg` (and so share its self-connection nonce cache).
    pub fn new<R: RngCore + ?Sized>(cfg: Config, rng: &mut R) -> Node {
        Node {
            cfg,
            rng: PeerRng::from_rng(rng),
            peers: BTreeMap::new(),
            next_id: 0,
            addresses: VecDeque::new(),
            relayed: LruSet::new(MAX_RELAYED_INVENTORY),
            events: VecDeque::new(),
        }
    }

    fn add(&mut self, peer: PeerState) -> PeerId {
        let id = PeerId(self.next_id);
        self.next_id += 1;
        self.peers.insert(
            id,
            Slot {
                peer,
                answered_getaddr: false,
            },
        );
        id
    }

    /// Adds a peer we dialed.
    pub fn connect(&mut self, remote: SocketAddr, now: Time) -> PeerId {
        let peer = PeerState::outbound(self.cfg.clone(), remote, now, &mut self.rng);
        self.add(peer)
    }

    /// Adds a peer that dialed us.
    pub fn accept(&mut self, remote: SocketAddr, now: Time) -> PeerId {
        let peer = PeerState::inbound(self.cfg.clone(), remote, now, &mut self.rng);
        self.add(peer)
    }

    /// Bytes arrived from peer `id`.
    pub fn handle_input(&mut self, id: PeerId, now: Time, data: &[u8]) {
        if let Some(slot) = self.peers.get_mut(&id) {
            slot.peer.handle_input(now, data);
        }
        self.process(id);
    }

    /// Peer `id`'s transport closed.
    pub fn handle_closed(&mut self, id: PeerId) {
        if let Some(slot) = self.peers.get_mut(&id) {
            slot.peer.handle_closed();
        }
        self.process(id);
    }

    /// The driver wrote `n` bytes to peer `id`.
    pub fn on_sent(&mut self, id: PeerId, n: usize, now: Time) {
        if let Some(slot) = self.peers.get_mut(&id) {
            slot.peer.on_sent(n, now);
        }
        self.process(id);
    }

    /// Runs every peer's due timers.
    pub fn handle_timeout(&mut self, now: Time) {
        let ids: Vec<PeerId> = self.peers.keys().copied().collect();
        for id in ids {
            if let Some(slot) = self.peers.get_mut(&id) {
                if slot.peer.poll_timeout().is_some_and(|t| t <= now) {
                    slot.peer.handle_timeout(now);
                }
            }
            self.process(id);
        }
    }

    /// Announces `iv` to every ready peer that is not known to have it (trickled).
    /// Transactions go only to peers that want transaction relay (see [`relays_to`]).
    pub fn announce(&mut self, iv: InvVect) {
        self.relayed.insert(iv);
        for slot in self.peers.values_mut() {
            if relays_to(&slot.peer, &iv) {
                slot.peer.queue_inventory(iv);
            }
        }
    }

    /// Ends the connection to `id` for the application's reason.
    pub fn disconnect(&mut self, id: PeerId, reason: DisconnectReason) {
        if let Some(slot) = self.peers.get_mut(&id) {
            slot.peer.disconnect(reason);
        }
        self.process(id);
    }

    /// Forgets peer `id` (after its socket is closed).
    pub fn remove(&mut self, id: PeerId) -> Option<PeerState> {
        self.peers.remove(&id).map(|s| s.peer)
    }

    /// The next frame to write to peer `id`.
    pub fn poll_transmit(&mut self, id: PeerId) -> Option<Bytes> {
        self.peers.get_mut(&id)?.peer.poll_transmit()
    }

    /// Peers with frames waiting to be written.
    pub fn peers_with_output(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.peers
            .iter()
            .filter(|(_, s)| s.peer.queued_frames() > 0)
            .map(|(id, _)| *id)
    }

    /// The next event, after the node's own handling.
    pub fn poll_event(&mut self) -> Option<(PeerId, Event)> {
        self.events.pop_front()
    }

    /// The earliest deadline of any peer.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.peers
            .values()
            .filter_map(|s| s.peer.poll_timeout())
            .min()
    }

    /// A peer.
    pub fn peer(&self, id: PeerId) -> Option<&PeerState> {
        self.peers.get(&id).map(|s| &s.peer)
    }

    /// A peer, mutably (to send messages or use the push helpers).
    pub fn peer_mut(&mut self, id: PeerId) -> Option<&mut PeerState> {
        self.peers.get_mut(&id).map(|s| &mut s.peer)
    }

    /// Every peer id, in order.
    pub fn peer_ids(&self) -> Vec<PeerId> {
        self.peers.keys().copied().collect()
    }

    /// The addresses learned from gossip (newest last).
    pub fn known_addresses(&self) -> impl Iterator<Item = &NetAddress> {
        self.addresses.iter()
    }

    /// Adds addresses to the node's gossip store (deduplicated, bounded).
    pub fn add_addresses(&mut self, addrs: impl IntoIterator<Item = NetAddress>) {
        for a in addrs {
            if a.port == 0
                || self
                    .addresses
                    .iter()
                    .any(|k| k.ip == a.ip && k.port == a.port)
            {
                continue;
            }
            if self.addresses.len() == MAX_KNOWN_ADDRESSES {
                self.addresses.pop_front();
            }
            self.addresses.push_back(a);
        }
    }

    /// Drains peer `id`'s events through the host logic into the node's event queue.
    fn process(&mut self, id: PeerId) {
        loop {
            let Some(event) = self.peers.get_mut(&id).and_then(|s| s.peer.poll_event()) else {
                return;
            };
            if let Event::Message(msg) = &event {
                self.on_message(id, msg);
            }
            self.events.push_back((id, event));
        }
    }

    fn on_message(&mut self, from: PeerId, msg: &Message) {
        match msg {
            Message::Inv(list) => {
                // Relay each vector once: later announcements of it by other peers add nothing
                // (every ready peer already has it queued or known).
                let fresh: Vec<InvVect> = list
                    .iter()
                    .copied()
                    .filter(|iv| self.relayed.insert(*iv))
                    .collect();
                let list = &fresh;
                for (other, slot) in self.peers.iter_mut() {
                    if *other != from {
                        for iv in list {
                            if relays_to(&slot.peer, iv) {
                                slot.peer.queue_inventory(*iv);
                            }
                        }
                    }
                }
            }
            Message::Addr(list) => self.add_addresses(list.iter().copied()),
            Message::AddrV2(list) => {
                self.add_addresses(list.iter().filter_map(|a| a.to_legacy()));
            }
            Message::DcrAddrV2(list) => {
                self.add_addresses(list.iter().filter_map(|a| {
                    let ip = a.ip_addr()?;
                    let mut na = NetAddress::new(ip, a.port, a.services);
                    na.time = u32::try_from(a.time).unwrap_or(u32::MAX);
                    Some(na)
                }));
            }
            Message::GetAddr => {
                let addrs: Vec<NetAddress> = self.addresses.iter().copied().collect();
                if let Some(slot) = self.peers.get_mut(&from) {
                    // Answer once per connection, and only peers that dialed us (Core's and
                    // btcd's policy: it keeps outbound peers from fingerprinting us).
                    if slot.peer.is_inbound() && !slot.answered_getaddr {
                        slot.answered_getaddr = true;
                        let _ = slot.peer.push_addr(&addrs);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether the node relays `iv` to `peer`: only once it is ready, and transactions only if it
/// wants transaction relay ([`PeerState::wants_tx_relay`]: its `version` relay flag, or a bloom
/// filter loaded since). btcd's server skips such peers the same way, and Bitcoin Core
/// disconnects a peer that announces transactions on a `-blocksonly` or block-relay-only
/// connection (both send relay = false).
pub fn relays_to(peer: &PeerState, iv: &InvVect) -> bool {
    let is_tx = matches!(
        iv.inv_type,
        InvType::TX | InvType::WTX | InvType::WITNESS_TX
    );
    peer.is_ready() && (!is_tx || peer.wants_tx_relay())
}
