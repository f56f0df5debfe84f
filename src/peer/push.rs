//! Push helpers (PEER.md section 10): addresses, block requests, BIP157 requests, inventory.

use alloc::vec::Vec;

use super::{PeerState, Phase, SendId};
use crate::network::Chain;
use crate::wire::decred::{DcrAddrV2, DcrAddress};
use crate::wire::{
    AddrV2, EncodeError, Encoding, Field, GetBlocks, GetCFCheckpt, GetCFilters, Hash256, InvVect,
    MAX_ADDR_PER_MSG, MAX_LOCATORS, Message, NetAddress, ServiceFlags,
};

/// Decred protocol version from which `addrv2` replaces `addr`.
const DECRED_ADDRV2_VERSION: u32 = 12;

/// A push helper could not send.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The peer is disconnected.
    #[error("peer is disconnected")]
    Disconnected,
    /// The handshake has not completed.
    #[error("handshake not complete")]
    NotReady,
    /// More entries than the message allows.
    #[error("too many {field}: {count} > {max}")]
    TooMany {
        /// What was counted.
        field: Field,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The remote does not advertise a service the request needs.
    #[error("remote does not offer {0:?}")]
    NotOffered(ServiceFlags),
    /// The message cannot be encoded at the negotiated version.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The previous `getblocks` / `getheaders` request, for duplicate suppression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LastRequest {
    begin: Option<Hash256>,
    stop: Hash256,
}

impl LastRequest {
    fn is_duplicate(&self, begin: Option<Hash256>, stop: Hash256) -> bool {
        begin.is_some() && self.begin == begin && self.stop == stop
    }
}

impl PeerState {
    fn ensure_ready(&self) -> Result<(), PushError> {
        match self.phase {
            Phase::Active => Ok(()),
            Phase::Disconnected => Err(PushError::Disconnected),
            _ => Err(PushError::NotReady),
        }
    }

    fn send_checked(&mut self, msg: Message) -> Result<SendId, PushError> {
        self.send_encoded(msg, self.ctx.encoding)
    }

    /// Queues `msg` in `encoding` under a fresh [`SendId`] (what `send` and the helpers share).
    pub(crate) fn send_encoded(
        &mut self,
        msg: Message,
        encoding: Encoding,
    ) -> Result<SendId, PushError> {
        if self.phase == Phase::Disconnected {
            return Err(PushError::Disconnected);
        }
        let id = SendId(self.next_send_id);
        self.next_send_id += 1;
        let ctx = self.ctx.with_encoding(encoding);
        self.queue_with(&msg, Some(id), super::outbox::Purpose::Normal, &ctx)?;
        Ok(id)
    }

    /// Picks at most `MAX_ADDR_PER_MSG` entries: all of them, or a uniformly random subset
    /// (partial Fisher–Yates with the peer's PRNG) when there are more.
    fn sample<T: Clone>(&mut self, items: &[T]) -> Vec<T> {
        let mut v: Vec<T> = items.to_vec();
        if v.len() > MAX_ADDR_PER_MSG {
            for i in 0..MAX_ADDR_PER_MSG {
                let j = i + self.rng.below((v.len() - i) as u64) as usize;
                v.swap(i, j);
            }
            v.truncate(MAX_ADDR_PER_MSG);
        }
        v
    }

    /// Sends `addr` with at most 1000 of `addrs` (a uniform random subset when there are more)
    /// and returns what was sent. Nothing is sent for an empty list. Decred peers at protocol
    /// 12 get the same addresses in Decred's `addrv2`.
    pub fn push_addr(&mut self, addrs: &[NetAddress]) -> Result<Vec<NetAddress>, PushError> {
        self.ensure_ready()?;
        if addrs.is_empty() {
            return Ok(Vec::new());
        }
        let sent = self.sample(addrs);
        self.send_checked(self.address_message(&sent))?;
        Ok(sent)
    }

    /// The address message this peer understands: legacy `addr`, or Decred's own `addrv2` from
    /// Decred protocol 12 (where `addr` no longer exists).
    fn address_message(&self, list: &[NetAddress]) -> Message {
        if self.cfg.network.chain() != Chain::Decred
            || self.negotiated_version < DECRED_ADDRV2_VERSION
        {
            return Message::Addr(list.to_vec());
        }
        Message::DcrAddrV2(
            list.iter()
                .map(|a| DcrAddrV2 {
                    time: u64::from(a.time),
                    services: a.services,
                    addr: match a.ip.to_ipv4_mapped() {
                        Some(v4) => DcrAddress::Ipv4(v4),
                        None => DcrAddress::Ipv6(a.ip),
                    },
                    port: a.port,
                })
                .collect(),
        )
    }

    /// Sends `addrv2` (at most 1000, a uniform random subset when there are more) if the remote
    /// asked for it with `sendaddrv2`; otherwise falls back to `addr` with only the entries it
    /// can carry (IPv4 and IPv6). Returns what was sent, as addrv2 entries.
    pub fn push_addrv2(&mut self, addrs: &[AddrV2]) -> Result<Vec<AddrV2>, PushError> {
        self.ensure_ready()?;
        if self.wants_addrv2 && self.cfg.network.chain() == Chain::Bitcoin {
            if addrs.is_empty() {
                return Ok(Vec::new());
            }
            let sent = self.sample(addrs);
            self.send_checked(Message::AddrV2(sent.clone()))?;
            return Ok(sent);
        }
        let legacy: Vec<AddrV2> = addrs
            .iter()
            .filter(|a| a.to_legacy().is_some())
            .copied()
            .collect();
        if legacy.is_empty() {
            return Ok(Vec::new());
        }
        let sent = self.sample(&legacy);
        let list: Vec<NetAddress> = sent.iter().filter_map(AddrV2::to_legacy).collect();
        self.send_checked(self.address_message(&list))?;
        Ok(sent)
    }

    fn push_locator_request(
        &mut self,
        locator: &[Hash256],
        stop: Hash256,
        headers: bool,
    ) -> Result<Option<SendId>, PushError> {
        self.ensure_ready()?;
        if locator.len() > MAX_LOCATORS {
            return Err(PushError::TooMany {
                field: Field::Locators,
                count: locator.len(),
                max: MAX_LOCATORS,
            });
        }
        let begin = locator.first().copied();
        let last = if headers {
            self.last_getheaders
        } else {
            self.last_getblocks
        };
        if last.is_duplicate(begin, stop) {
            return Ok(None);
        }
        let body = GetBlocks {
            version: self.cfg.protocol_version,
            locator: locator.to_vec(),
            stop,
        };
        let msg = if headers {
            Message::GetHeaders(body)
        } else {
            Message::GetBlocks(body)
        };
        let id = self.send_checked(msg)?;
        let record = LastRequest { begin, stop };
        if headers {
            self.last_getheaders = record;
        } else {
            self.last_getblocks = record;
        }
        Ok(Some(id))
    }

    /// Sends `getblocks` unless it repeats the previous request exactly (same first locator
    /// hash and stop hash), in which case nothing is sent and `Ok(None)` is returned.
    /// More than 500 locator hashes is an error and changes nothing.
    pub fn push_get_blocks(
        &mut self,
        locator: &[Hash256],
        stop: Hash256,
    ) -> Result<Option<SendId>, PushError> {
        self.push_locator_request(locator, stop, false)
    }

    /// Sends `getheaders`, with the same duplicate suppression and limit as
    /// [`push_get_blocks`](Self::push_get_blocks) (tracked separately).
    pub fn push_get_headers(
        &mut self,
        locator: &[Hash256],
        stop: Hash256,
    ) -> Result<Option<SendId>, PushError> {
        self.push_locator_request(locator, stop, true)
    }

    fn ensure_filters(&self) -> Result<(), PushError> {
        self.ensure_ready()?;
        if !self.services().has(ServiceFlags::COMPACT_FILTERS) {
            return Err(PushError::NotOffered(ServiceFlags::COMPACT_FILTERS));
        }
        Ok(())
    }

    /// BIP157: requests filters for `start_height..=stop_hash`'s height.
    pub fn push_get_cfilters(
        &mut self,
        filter_type: u8,
        start_height: u32,
        stop_hash: Hash256,
    ) -> Result<SendId, PushError> {
        self.ensure_filters()?;
        self.send_checked(Message::GetCFilters(GetCFilters {
            filter_type,
            start_height,
            stop_hash,
        }))
    }

    /// BIP157: requests filter headers for a range.
    pub fn push_get_cfheaders(
        &mut self,
        filter_type: u8,
        start_height: u32,
        stop_hash: Hash256,
    ) -> Result<SendId, PushError> {
        self.ensure_filters()?;
        self.send_checked(Message::GetCFHeaders(GetCFilters {
            filter_type,
            start_height,
            stop_hash,
        }))
    }

    /// BIP157: requests the filter-header checkpoints up to `stop_hash`.
    pub fn push_get_cfcheckpt(
        &mut self,
        filter_type: u8,
        stop_hash: Hash256,
    ) -> Result<SendId, PushError> {
        self.ensure_filters()?;
        self.send_checked(Message::GetCFCheckpt(GetCFCheckpt {
            filter_type,
            stop_hash,
        }))
    }

    /// Queues `iv` for the next trickled `inv`, unless the remote is known to have it.
    /// On Bitcoin, blocks skip the trickle and are announced at once (as btcd does).
    /// Returns whether it was queued or sent.
    pub fn queue_inventory(&mut self, iv: InvVect) -> bool {
        if self.phase == Phase::Disconnected || self.inventory.is_known(&iv, self.clock) {
            return false;
        }
        if self.phase == Phase::Active
            && self.cfg.network.chain() == Chain::Bitcoin
            && iv.inv_type.is_block()
        {
            return self.announce_now(iv);
        }
        let (now, policy, inbound) = (self.clock, self.cfg.trickle, self.inbound);
        self.inventory
            .rearm_if_stale(now, &policy, inbound, &mut self.rng);
        self.inventory.enqueue(iv);
        true
    }

    /// Announces `iv` in its own `inv` now, bypassing the trickle (dcrd's immediate path, for
    /// new tip blocks), unless the remote is known to have it. Before the handshake completes
    /// it waits in the trickle queue instead.
    pub fn queue_inventory_now(&mut self, iv: InvVect) -> bool {
        if self.phase == Phase::Disconnected || self.inventory.is_known(&iv, self.clock) {
            return false;
        }
        if self.phase != Phase::Active {
            self.inventory.enqueue(iv);
            return true;
        }
        self.announce_now(iv)
    }

    fn announce_now(&mut self, iv: InvVect) -> bool {
        self.inventory.add_known(iv, self.clock);
        self.queue(
            &Message::Inv(alloc::vec![iv]),
            None,
            super::outbox::Purpose::Normal,
        );
        true
    }

    /// Records that the remote has `iv` (e.g. it sent us that transaction or block).
    pub fn add_known_inventory(&mut self, iv: InvVect) {
        self.inventory.add_known(iv, self.clock);
    }

    /// Whether the remote is known to have `iv`.
    pub fn is_known_inventory(&self, iv: &InvVect) -> bool {
        self.inventory.is_known(iv, self.clock)
    }

    /// Entries in the known-inventory cache.
    pub fn known_inventory_len(&self) -> usize {
        self.inventory.known_len()
    }

    /// Heap bytes the known-inventory cache holds.
    pub fn known_inventory_heap_bytes(&self) -> usize {
        self.inventory.known_heap_bytes()
    }

    /// Vectors waiting for the next trickle.
    pub fn queued_inventory(&self) -> usize {
        self.inventory.queued()
    }

    /// Runs a due trickle round (called from `handle_timeout`).
    pub(crate) fn run_trickle(&mut self) {
        let (now, policy, inbound) = (self.clock, self.cfg.trickle, self.inbound);
        for batch in self.inventory.trickle(now, &policy, inbound, &mut self.rng) {
            self.queue(&Message::Inv(batch), None, super::outbox::Purpose::Normal);
            if self.phase == Phase::Disconnected {
                return;
            }
        }
    }

    /// Marks inventory the remote announced as known to it.
    pub(crate) fn learn_inventory(&mut self, msg: &Message) {
        if let Message::Inv(list) = msg {
            for iv in list {
                self.inventory.add_known(*iv, self.clock);
            }
        }
    }
}
