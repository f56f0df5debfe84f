//! [`PeerState`]: one connection's protocol state machine.
//!
//! # The drive loop
//!
//! Every input method takes `now`. After **any** `handle_*` call or command, drain
//! [`PeerState::poll_transmit`] (write each frame, then report what was written with
//! [`PeerState::on_sent`]) and [`PeerState::poll_event`] until both return `None`, then sleep
//! until [`PeerState::poll_timeout`] (or until bytes arrive) and call
//! [`PeerState::handle_timeout`]. A spurious `handle_timeout` is harmless. `on_sent` is what
//! starts ping round-trip timing, stall deadlines and [`Event::Sent`] notices, so report writes
//! promptly. After [`Event::Disconnected`], write what `poll_transmit` still returns (a final
//! `reject` at most) and close the socket.

mod config;
mod event;
mod handshake;
mod inventory;
mod keepalive;
mod nonces;
mod outbox;
mod push;
mod rng;
mod stall;
mod stats;

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use bytes::{Bytes, BytesMut};
use core::net::SocketAddr;
use core::time::Duration;
use rand_core::RngCore;

pub use config::{BASE_USER_AGENT, Config, ConfigError, TricklePolicy};
pub use event::{Blame, DisconnectReason, Event, SendId};
pub use handshake::Phase;
pub use inventory::MAX_INV_TRICKLE_SIZE;
pub use nonces::NonceCache;
pub use push::PushError;
pub use rng::PeerRng;
pub use stats::{CommandStats, Stats};

use inventory::Inventory;
use keepalive::KeepAlive;
use outbox::{Outbox, Purpose};
use push::LastRequest;
pub use stall::MAX_PENDING_INVENTORY;
use stall::{InvStall, StallTracker};
use stats::Traffic;

use crate::time::Time;
use crate::wire::{
    Context, EncodeError, Encoding, FrameDecoder, Hash256, Message, MessageError, ReadError,
    Reject, RejectCode, ServiceFlags, Version, encode_message, versions,
};

/// Most bytes buffered while the handshake waits for the application's decision.
const MAX_PAUSED_INPUT: usize = 64 * 1024;

/// From this Decred protocol version `verack` must be the message right after `version`.
const DECRED_STRICT_VERACK_VERSION: u32 = 12;

/// Legacy Decred peers may send this many other messages before their `verack`.
const DECRED_MAX_HELD_MESSAGES: usize = 2;

/// Largest valid `feefilter` (21 million BTC in satoshis).
const MAX_MONEY: i64 = 21_000_000 * 100_000_000;

/// One connection's protocol state: sans-IO, deterministic, single-threaded.
pub struct PeerState {
    cfg: Config,
    remote_addr: SocketAddr,
    inbound: bool,
    phase: Phase,
    rng: PeerRng,
    created_at: Time,
    /// The latest time any input reported (commands without a `now` use it).
    clock: Time,
    local_nonce: u64,

    decoder: FrameDecoder,
    ctx: Context,
    paused_input: BytesMut,
    outbox: Outbox,
    events: VecDeque<Event>,
    next_send_id: u64,

    remote: Option<Version>,
    negotiated_version: u32,
    version_sent: bool,
    /// Decred legacy peers: messages that arrived before `verack`, dispatched once active.
    held_messages: alloc::vec::Vec<Message>,
    wants_addrv2: bool,
    wtxid_relay: bool,
    wants_headers: bool,
    fee_filter: Option<i64>,
    filter_loaded: bool,
    remote_relay: bool,
    last_block: i32,
    last_announced_block: Option<Hash256>,
    time_offset: i64,
    last_getblocks: LastRequest,
    last_getheaders: LastRequest,
    inventory: Inventory,

    handshake_deadline: Option<Time>,
    keepalive: KeepAlive,
    stall: StallTracker,
    inv_stall: InvStall,

    traffic: Traffic,
    bytes_sent: u64,
    bytes_recv: u64,
    last_send: Option<Time>,
    last_recv: Option<Time>,
}

impl PeerState {
    /// A peer we dialed: our `version` is queued at once.
    pub fn outbound<R: RngCore + ?Sized>(
        cfg: Config,
        remote: SocketAddr,
        now: Time,
        rng: &mut R,
    ) -> PeerState {
        let mut peer = PeerState::new(cfg, remote, false, now, rng);
        peer.send_version(now);
        peer
    }

    /// A peer that dialed us: we wait for its `version`.
    pub fn inbound<R: RngCore + ?Sized>(
        cfg: Config,
        remote: SocketAddr,
        now: Time,
        rng: &mut R,
    ) -> PeerState {
        PeerState::new(cfg, remote, true, now, rng)
    }

    fn new<R: RngCore + ?Sized>(
        cfg: Config,
        remote_addr: SocketAddr,
        inbound: bool,
        now: Time,
        rng: &mut R,
    ) -> PeerState {
        let mut rng = PeerRng::from_rng(rng);
        let local_nonce = rng.nonzero_u64();
        let mut decoder = FrameDecoder::new(cfg.network);
        decoder.set_protocol_version(cfg.protocol_version);
        let ctx = Context {
            chain: cfg.network.chain(),
            version: cfg.protocol_version,
            encoding: Encoding::Witness,
        };
        PeerState {
            remote_addr,
            inbound,
            phase: Phase::AwaitVersion,
            rng,
            created_at: now,
            clock: now,
            local_nonce,
            decoder,
            ctx,
            paused_input: BytesMut::new(),
            outbox: Outbox::default(),
            events: VecDeque::new(),
            next_send_id: 0,
            remote: None,
            negotiated_version: cfg.protocol_version,
            version_sent: false,
            held_messages: alloc::vec::Vec::new(),
            wants_addrv2: false,
            wtxid_relay: false,
            wants_headers: false,
            fee_filter: None,
            filter_loaded: false,
            remote_relay: true,
            last_block: 0,
            last_announced_block: None,
            time_offset: 0,
            last_getblocks: LastRequest::default(),
            last_getheaders: LastRequest::default(),
            inventory: Inventory::new(cfg.max_known_inventory, cfg.known_inventory_ttl),
            handshake_deadline: Some(now.saturating_add(cfg.handshake_timeout)),
            keepalive: KeepAlive::default(),
            stall: StallTracker::default(),
            inv_stall: InvStall::default(),
            traffic: Traffic::default(),
            bytes_sent: 0,
            bytes_recv: 0,
            last_send: None,
            last_recv: None,
            cfg,
        }
    }

    // ----------------------------------------------------------------------------------------
    // Inputs
    // ----------------------------------------------------------------------------------------

    /// Bytes arrived from the socket. Partial frames are buffered until complete.
    pub fn handle_input(&mut self, now: Time, data: &[u8]) {
        if self.phase == Phase::Disconnected {
            return;
        }
        self.clock = now;
        self.bytes_recv += data.len() as u64;
        if self.phase == Phase::AwaitApproval {
            self.pause_input(data);
            return;
        }
        self.process_input(now, data);
        // Between reads an idle peer holds no receive chunk (the next read allocates one).
        self.decoder.release_idle_buffer();
    }

    fn pause_input(&mut self, data: &[u8]) {
        if self.paused_input.len() + data.len() > MAX_PAUSED_INPUT {
            self.close(DisconnectReason::HandshakeBufferFull);
        } else {
            self.paused_input.extend_from_slice(data);
        }
    }

    fn process_input(&mut self, now: Time, mut data: &[u8]) {
        loop {
            let frame = match self.decoder.decode(&mut data) {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(e) => return self.on_read_error(ReadError::Frame(e)),
            };
            let command = frame.command;
            self.traffic.record_recv(command, frame.wire_len());
            match Message::decode(command, frame.payload, &self.ctx) {
                Ok(msg) => self.on_message(now, msg),
                Err(error) => {
                    return self.on_read_error(ReadError::Message(MessageError { command, error }));
                }
            }
            match self.phase {
                Phase::Disconnected => return,
                Phase::AwaitApproval => return self.pause_input(data),
                _ => {}
            }
        }
    }

    /// Timers may have expired: handshake timeout, idle timeout, ping, stall checks.
    pub fn handle_timeout(&mut self, now: Time) {
        if self.phase == Phase::Disconnected {
            return;
        }
        self.clock = now;
        if self.phase != Phase::Active {
            if self.handshake_deadline.is_some_and(|d| now >= d) {
                self.close(DisconnectReason::HandshakeTimeout);
            }
            return;
        }
        if self.keepalive.idle_deadline.is_some_and(|d| now >= d) {
            return self.close(DisconnectReason::IdleTimeout);
        }
        if !self.cfg.stall_tick.is_zero()
            && self
                .stall
                .next_check(self.cfg.stall_tick)
                .is_some_and(|t| now >= t)
        {
            if let Some(command) = self.stall.expired(now) {
                return self.close(DisconnectReason::Stalled(command));
            }
        }
        if self.inv_stall_check().is_some_and(|t| now >= t) {
            match self.inv_stall.expired(now) {
                Some(Ok(command)) => return self.close(DisconnectReason::Stalled(command)),
                Some(Err(iv)) => return self.close(DisconnectReason::StalledInventory(iv)),
                None => {}
            }
        }
        if self.keepalive.ping_due(now, self.cfg.ping_interval) {
            let nonce = self.rng.nonzero_u64();
            self.queue(&Message::Ping(nonce), None, Purpose::Ping(nonce));
        }
        self.run_trickle();
    }

    /// The transport closed (EOF or an I/O error). The reason is
    /// [`DisconnectReason::SelfConnection`] for an outbound peer whose `version` one of our own
    /// inbound peers received, [`DisconnectReason::ConnectionClosed`] otherwise.
    pub fn handle_closed(&mut self) {
        let reason = if !self.inbound && self.cfg.nonces.was_detected(self.local_nonce) {
            DisconnectReason::SelfConnection
        } else {
            DisconnectReason::ConnectionClosed
        };
        self.close(reason);
        self.outbox = Outbox::default();
    }

    /// The driver wrote `n` more bytes of what `poll_transmit` returned.
    pub fn on_sent(&mut self, n: usize, now: Time) {
        if n == 0 {
            return;
        }
        self.clock = now;
        self.bytes_sent += n as u64;
        self.last_send = Some(now);
        self.outbox.confirm(n);
        while let Some(w) = self.outbox.next_written() {
            self.traffic.record_sent(w.command, w.len);
            match w.purpose {
                Purpose::Ping(nonce) if self.ping_has_nonce() => {
                    self.keepalive.on_ping_written(nonce, now)
                }
                Purpose::Normal if self.phase == Phase::Active && !self.is_decred() => {
                    self.stall.on_sent(w.command, now, self.cfg.stall_timeout)
                }
                Purpose::Normal if self.is_decred() => {
                    self.on_decred_request_written(w.command, now)
                }
                _ => {}
            }
            // Frames handed out before a disconnect may still be reported written; the
            // application heard Disconnected last and gets no Sent after it.
            if let Some(id) = w.id.filter(|_| self.phase != Phase::Disconnected) {
                self.events.push_back(Event::Sent(id));
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Commands
    // ----------------------------------------------------------------------------------------

    /// Queues a message, encoded for the negotiated version and the remote's witness support.
    /// Returns `None` (and sends nothing) if the peer is disconnected or the message cannot be
    /// encoded at the negotiated version.
    pub fn send(&mut self, msg: Message) -> Option<SendId> {
        self.send_with_encoding(msg, self.ctx.encoding)
    }

    /// Queues a message with an explicit transaction encoding.
    pub fn send_with_encoding(&mut self, msg: Message, encoding: Encoding) -> Option<SendId> {
        self.send_encoded(msg, encoding).ok()
    }

    /// Ends the connection for a reason of the application's. Idempotent.
    pub fn disconnect(&mut self, reason: DisconnectReason) {
        self.close(reason);
    }

    /// Accepts the remote's version (when [`Config::approve_versions`] is set).
    pub fn accept_version(&mut self, now: Time) {
        if self.phase != Phase::AwaitApproval {
            return;
        }
        self.clock = now;
        self.finish_version(now);
        let pending = core::mem::take(&mut self.paused_input);
        if !pending.is_empty() {
            self.process_input(now, &pending);
        }
    }

    /// Rejects the remote's version: a `reject` is sent where the version allows, then the
    /// peer disconnects.
    pub fn reject_version(&mut self, code: RejectCode, reason: &str) {
        if self.phase != Phase::AwaitApproval {
            return;
        }
        self.farewell_reject("version", code, reason);
        self.close(DisconnectReason::VersionRejected {
            code,
            reason: String::from(reason),
        });
    }

    /// Sends a `reject` unless the negotiated version predates BIP61 (70002). The hash goes on
    /// the wire only for `tx` and `block`.
    pub fn push_reject(
        &mut self,
        command: &str,
        code: RejectCode,
        reason: &str,
        hash: Hash256,
    ) -> Option<SendId> {
        if !self.reject_allowed() {
            return None;
        }
        self.send(Message::Reject(Reject {
            command: String::from(command),
            code,
            reason: String::from(reason),
            hash,
        }))
    }

    /// Updates the height our future `version` messages advertise.
    pub fn update_best_height(&mut self, height: i32) {
        self.cfg.best_height = height;
    }

    /// Raises the remote's known best height (never lowers it).
    pub fn update_last_block_height(&mut self, height: i32) {
        self.last_block = self.last_block.max(height);
    }

    /// Records the last block the remote announced.
    pub fn update_last_announced_block(&mut self, hash: Hash256) {
        self.last_announced_block = Some(hash);
    }

    // ----------------------------------------------------------------------------------------
    // Outputs
    // ----------------------------------------------------------------------------------------

    /// The next frame to write, if any.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.outbox.pop()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if self.events.is_empty() && self.events.capacity() > 0 {
            // An idle peer should not keep a burst's worth of event slots.
            self.events = VecDeque::new();
        }
        event
    }

    fn inv_stall_check(&self) -> Option<Time> {
        if self.cfg.stall_tick.is_zero() {
            return None;
        }
        let origin = self.stall.origin()?;
        self.inv_stall.next_check(origin, self.cfg.stall_tick)
    }

    /// When `handle_timeout` should next be called.
    pub fn poll_timeout(&self) -> Option<Time> {
        match self.phase {
            Phase::Disconnected => None,
            Phase::Active => {
                let stall = if self.cfg.stall_tick.is_zero() {
                    None
                } else {
                    self.stall.next_check(self.cfg.stall_tick)
                };
                [
                    self.keepalive.idle_deadline,
                    self.keepalive.next_ping,
                    stall,
                    self.inv_stall_check(),
                    self.inventory.deadline(),
                ]
                .into_iter()
                .flatten()
                .min()
            }
            _ => self.handshake_deadline,
        }
    }

    /// A snapshot of the peer's state and counters.
    pub fn stats(&self, now: Time) -> Stats {
        let remote = self.remote.as_ref();
        Stats {
            addr: self.remote_addr,
            inbound: self.inbound,
            services: self.services(),
            last_send: self.last_send,
            last_recv: self.last_recv,
            bytes_sent: self.bytes_sent,
            bytes_recv: self.bytes_recv,
            connected_at: self.created_at,
            uptime: now.saturating_since(self.created_at),
            time_offset: self.time_offset,
            version: self.remote_version(),
            negotiated_version: self.negotiated_version,
            user_agent: remote.map(|v| v.user_agent.clone()).unwrap_or_default(),
            starting_height: self.starting_height(),
            last_block: self.last_block,
            last_ping_nonce: self.keepalive.last_ping_nonce,
            last_ping_time: self.keepalive.last_ping_time,
            last_ping_rtt: self.keepalive.last_rtt,
            commands: self.traffic.snapshot(),
        }
    }

    // ----------------------------------------------------------------------------------------
    // Getters
    // ----------------------------------------------------------------------------------------

    /// Where the handshake stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the handshake completed and the peer is not disconnected.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Active
    }

    /// Whether the peer is disconnected.
    pub fn is_disconnected(&self) -> bool {
        self.phase == Phase::Disconnected
    }

    /// The remote address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// Whether the remote dialed us.
    pub fn is_inbound(&self) -> bool {
        self.inbound
    }

    /// The nonce of our `version` message.
    pub fn local_nonce(&self) -> u64 {
        self.local_nonce
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The remote's `version`, once received.
    pub fn remote_version_message(&self) -> Option<&Version> {
        self.remote.as_ref()
    }

    /// Whether the remote's `version` has been processed.
    pub fn version_known(&self) -> bool {
        self.remote.is_some()
    }

    /// Whether the remote's `verack` arrived.
    pub fn verack_received(&self) -> bool {
        self.phase == Phase::Active
    }

    /// The negotiated protocol version: min(ours, theirs) once known, ours before.
    pub fn negotiated_version(&self) -> u32 {
        self.negotiated_version
    }

    /// The protocol version the remote advertised (0 before its `version`).
    pub fn remote_version(&self) -> u32 {
        self.remote
            .as_ref()
            .map_or(0, |v| v.protocol_version as u32)
    }

    /// The remote's services (ours before its `version`, as btcd reports).
    pub fn services(&self) -> ServiceFlags {
        self.remote
            .as_ref()
            .map_or(self.cfg.services, |v| v.services)
    }

    /// The remote's user agent ("" before its `version`).
    pub fn user_agent(&self) -> &str {
        self.remote.as_ref().map_or("", |v| v.user_agent.as_str())
    }

    /// The remote's height at its `version`.
    pub fn starting_height(&self) -> i32 {
        self.remote.as_ref().map_or(0, |v| v.start_height)
    }

    /// The remote's best known height.
    pub fn last_block(&self) -> i32 {
        self.last_block
    }

    /// The last block the remote announced (as recorded by the application).
    pub fn last_announced_block(&self) -> Option<Hash256> {
        self.last_announced_block
    }

    /// The remote's clock minus ours in seconds, from its `version`.
    pub fn time_offset(&self) -> i64 {
        self.time_offset
    }

    /// Nonce of the outstanding ping (0 = none).
    pub fn last_ping_nonce(&self) -> u64 {
        self.keepalive.last_ping_nonce
    }

    /// When the last ping was written.
    pub fn last_ping_time(&self) -> Option<Time> {
        self.keepalive.last_ping_time
    }

    /// Round trip of the last answered ping.
    pub fn last_ping_rtt(&self) -> Option<Duration> {
        self.keepalive.last_rtt
    }

    /// Whether the remote advertised NODE_WITNESS (we then read and send witness encoding).
    pub fn witness_enabled(&self) -> bool {
        self.services().has(ServiceFlags::WITNESS) && self.remote.is_some()
    }

    /// Whether the remote sent `sendheaders` (announce blocks with `headers`).
    pub fn wants_headers(&self) -> bool {
        self.wants_headers
    }

    /// Whether the remote sent `sendaddrv2` (gossip addresses with `addrv2`).
    pub fn wants_addrv2(&self) -> bool {
        self.wants_addrv2
    }

    /// Whether the remote sent `wtxidrelay` (announce transactions by wtxid).
    pub fn wtxid_relay(&self) -> bool {
        self.wtxid_relay
    }

    /// The remote's minimum fee rate from `feefilter`, in sat/kvB.
    pub fn fee_filter(&self) -> Option<i64> {
        self.fee_filter
    }

    /// Whether the remote wants transactions relayed (its `version` relay flag, turned on by a
    /// later `filterload` or `filterclear`).
    pub fn wants_tx_relay(&self) -> bool {
        self.remote_relay
    }

    /// Whether the remote loaded a bloom filter.
    pub fn filter_loaded(&self) -> bool {
        self.filter_loaded
    }

    /// Frames waiting in the send queue.
    pub fn queued_frames(&self) -> usize {
        self.outbox.len()
    }

    /// Bytes queued or handed out but not yet reported written.
    pub fn unsent_bytes(&self) -> usize {
        self.outbox.unsent_bytes()
    }

    /// Bytes of a partial inbound frame currently buffered.
    pub fn buffered_input(&self) -> usize {
        self.decoder.buffered() + self.paused_input.len()
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    fn ping_has_nonce(&self) -> bool {
        self.cfg.network.chain() == crate::Chain::Decred
            || self.negotiated_version > versions::BIP0031
    }

    fn reject_allowed(&self) -> bool {
        match self.cfg.network.chain() {
            // dcrd never sends reject (the minimum remote version, 9, removed it).
            crate::Chain::Decred => false,
            crate::Chain::Bitcoin => {
                self.remote.is_none() || self.negotiated_version >= versions::REJECT
            }
        }
    }

    fn queue(&mut self, msg: &Message, id: Option<SendId>, purpose: Purpose) {
        let ctx = self.ctx;
        // Messages the state machine builds itself always encode.
        let _ = self.queue_with(msg, id, purpose, &ctx);
    }

    fn queue_with(
        &mut self,
        msg: &Message,
        id: Option<SendId>,
        purpose: Purpose,
        ctx: &Context,
    ) -> Result<(), EncodeError> {
        let mut buf = BytesMut::new();
        encode_message(self.cfg.network, msg, ctx, &mut buf)?;
        if self.is_decred() && purpose == Purpose::Normal {
            self.track_decred_request(msg);
            if self.phase == Phase::Disconnected {
                return Ok(());
            }
        }
        self.outbox.push(buf.freeze(), msg.command(), id, purpose);
        if purpose != Purpose::Farewell
            && self.outbox.unsent_bytes() > self.cfg.max_send_queue_bytes
        {
            self.close(DisconnectReason::SendQueueFull(
                self.cfg.max_send_queue_bytes,
            ));
        }
        Ok(())
    }

    fn farewell_reject(&mut self, command: &str, code: RejectCode, reason: &str) {
        if !self.reject_allowed() {
            return;
        }
        let msg = Message::Reject(Reject {
            command: String::from(command),
            code,
            reason: String::from(reason),
            hash: Hash256::ZERO,
        });
        self.queue(&msg, None, Purpose::Farewell);
    }

    fn close(&mut self, reason: DisconnectReason) {
        if self.phase == Phase::Disconnected {
            return;
        }
        self.phase = Phase::Disconnected;
        self.outbox.drop_unsent();
        self.paused_input = BytesMut::new();
        self.events.push_back(Event::Disconnected(reason));
    }

    fn send_version(&mut self, now: Time) {
        let remote_services = match (&self.remote, self.inbound) {
            (Some(v), true) => v.services,
            _ => ServiceFlags::NONE,
        };
        let version = handshake::our_version(
            &self.cfg,
            self.remote_addr,
            remote_services,
            now,
            self.local_nonce,
        );
        self.cfg.nonces.insert(self.local_nonce);
        let mut version = version;
        if self.is_decred() {
            // dcrd advertises its current protocol version: for inbound peers that is already
            // the negotiated one.
            version.protocol_version = self.negotiated_version as i32;
        }
        // Our version is encoded at our own maximum, before negotiation.
        let ctx = self.ctx.with_version(self.cfg.protocol_version);
        let _ = self.queue_with(&Message::Version(version), None, Purpose::Handshake, &ctx);
        self.version_sent = true;
    }

    fn on_read_error(&mut self, err: ReadError) {
        if self.phase == Phase::Active {
            let reason = format!("Can't read message from {}: {}", self.remote_addr, err);
            self.farewell_reject("malformed", RejectCode::MALFORMED, &reason);
        }
        self.close(DisconnectReason::Malformed(err));
    }

    fn on_message(&mut self, now: Time, msg: Message) {
        match self.phase {
            Phase::AwaitVersion => self.on_first_message(now, msg),
            Phase::AwaitVerack => self.on_negotiation_message(now, msg),
            Phase::Active => self.on_active_message(now, msg),
            Phase::AwaitApproval | Phase::Disconnected => {}
        }
    }

    fn on_first_message(&mut self, now: Time, msg: Message) {
        if let Message::Reject(r) = msg {
            return self.close(DisconnectReason::RejectedByRemote(r));
        }
        let Message::Version(v) = msg else {
            let command = msg.command();
            self.farewell_reject(
                "version",
                RejectCode::MALFORMED,
                "a version message must precede all others",
            );
            return self.close(DisconnectReason::VersionNotFirst(command));
        };
        if let Err(reason) = handshake::check_remote(&self.cfg, &v) {
            if matches!(reason, DisconnectReason::ProtocolVersionTooOld { .. }) {
                self.negotiated_version = self
                    .cfg
                    .protocol_version
                    .min(v.protocol_version.max(0) as u32);
                self.remote = Some(v);
                let minimum = self.cfg.min_protocol_version;
                self.farewell_reject(
                    "version",
                    RejectCode::OBSOLETE,
                    &format!("protocol version must be {minimum} or greater"),
                );
            }
            return self.close(reason);
        }
        self.negotiated_version = self.cfg.protocol_version.min(v.protocol_version as u32);
        self.time_offset = v.timestamp.saturating_sub(now.as_secs() as i64);
        self.last_block = v.start_height;
        self.remote_relay = v.relay;
        let encoding = if v.services.has(ServiceFlags::WITNESS) {
            Encoding::Witness
        } else {
            Encoding::Base
        };
        self.ctx = Context {
            chain: self.cfg.network.chain(),
            version: self.negotiated_version,
            encoding,
        };
        self.decoder.set_protocol_version(self.negotiated_version);
        self.remote = Some(v.clone());
        if self.cfg.approve_versions {
            self.phase = Phase::AwaitApproval;
            self.events.push_back(Event::VersionReceived(v));
        } else {
            self.finish_version(now);
        }
    }

    /// Second half of version processing: answer and move on to waiting for `verack`.
    fn finish_version(&mut self, now: Time) {
        if !self.version_sent {
            self.send_version(now);
        }
        self.phase = Phase::AwaitVerack;
        if self.is_decred() {
            // dcrd: an outbound peer sends its verack only after the remote's arrives.
            if self.inbound {
                self.queue(&Message::Verack, None, Purpose::Handshake);
            }
            return;
        }
        if self.negotiated_version >= versions::ADDRV2 {
            self.queue(&Message::WtxidRelay, None, Purpose::Handshake);
            self.queue(&Message::SendAddrV2, None, Purpose::Handshake);
        }
        self.queue(&Message::Verack, None, Purpose::Handshake);
    }

    /// dcrd's pending-request limit applies when a request is queued: a `getdata` that would
    /// take the vectors pending or queued over [`MAX_PENDING_INVENTORY`] disconnects.
    fn track_decred_request(&mut self, msg: &Message) {
        if let Message::GetData(list) = msg {
            if !self.inv_stall.on_getdata_queued(list) {
                let pending = self.inv_stall.pending() + self.inv_stall.queued() + list.len();
                self.close(DisconnectReason::TooManyPendingRequests(pending));
            }
        }
    }

    /// dcrd's stall deadlines start when a request is written (PEER.md section 15, "on sent"),
    /// not when it is queued: a request stuck behind our own backlog is not the remote's delay.
    fn on_decred_request_written(&mut self, command: crate::wire::Command, now: Time) {
        let timeout = self.cfg.stall_timeout;
        if command == crate::wire::Command::GETDATA {
            self.inv_stall.on_getdata_written(now, timeout);
        } else if command.as_str() == "getinitstate" {
            self.inv_stall.on_getinitstate(now, timeout);
        }
    }

    /// dcrd: what an arriving message answers among our pending requests.
    fn on_decred_answer(&mut self, msg: &Message) {
        match msg {
            Message::NotFound(list) => {
                for iv in list {
                    self.inv_stall.on_received(iv);
                }
            }
            m if m.command().as_str() == "initstate" => self.inv_stall.on_initstate(),
            _ => {
                if let Some(iv) = msg.inventory() {
                    self.inv_stall.on_received(&iv);
                }
            }
        }
    }

    fn is_decred(&self) -> bool {
        self.cfg.network.chain() == crate::Chain::Decred
    }

    /// dcrd's verack rules: at protocol 12 the next message must be `verack`; legacy peers may
    /// send up to two other messages first, which are held and dispatched once active.
    fn on_decred_negotiation_message(&mut self, now: Time, msg: Message) {
        if let Message::Verack = msg {
            if !self.inbound {
                self.queue(&Message::Verack, None, Purpose::Handshake);
            }
            self.become_active(now);
            for held in core::mem::take(&mut self.held_messages) {
                if self.phase != Phase::Active {
                    return;
                }
                self.on_active_message(now, held);
            }
            return;
        }
        let legacy = self.negotiated_version < DECRED_STRICT_VERACK_VERSION;
        if legacy && self.held_messages.len() < DECRED_MAX_HELD_MESSAGES {
            self.held_messages.push(msg);
            return;
        }
        self.close(DisconnectReason::UnexpectedHandshakeMessage(msg.command()));
    }

    fn on_negotiation_message(&mut self, now: Time, msg: Message) {
        if self.is_decred() {
            return self.on_decred_negotiation_message(now, msg);
        }
        match msg {
            Message::Verack => self.become_active(now),
            Message::SendAddrV2 => self.wants_addrv2 = true,
            Message::WtxidRelay => self.wtxid_relay = true,
            Message::SendTxRcncl(_) | Message::Unknown { .. } => {}
            Message::Reject(r) => self.close(DisconnectReason::RejectedByRemote(r)),
            other => {
                let command = other.command();
                self.close(DisconnectReason::UnexpectedHandshakeMessage(command));
            }
        }
    }

    fn become_active(&mut self, now: Time) {
        self.phase = Phase::Active;
        self.handshake_deadline = None;
        self.keepalive
            .start(now, self.cfg.ping_interval, self.cfg.idle_timeout);
        self.stall.start(now);
        let (policy, inbound) = (self.cfg.trickle, self.inbound);
        self.inventory.start(now, &policy, inbound, &mut self.rng);
        self.last_recv = Some(now);
        if let Some(v) = &self.remote {
            self.events.push_back(Event::Ready(v.clone()));
        }
    }

    fn on_active_message(&mut self, now: Time, msg: Message) {
        self.last_recv = Some(now);
        self.keepalive.on_received(now, self.cfg.idle_timeout);
        let command = msg.command();
        if self.is_decred() {
            self.on_decred_answer(&msg);
        } else {
            self.stall.on_received(command);
        }
        match &msg {
            Message::Version(_) => {
                self.farewell_reject(
                    "version",
                    RejectCode::DUPLICATE,
                    "duplicate version message",
                );
                return self.close(DisconnectReason::DuplicateVersion);
            }
            Message::Verack => {
                self.farewell_reject("verack", RejectCode::DUPLICATE, "duplicate verack message");
                return self.close(DisconnectReason::DuplicateVerack);
            }
            Message::SendAddrV2 | Message::WtxidRelay | Message::SendTxRcncl(_) => {
                return self.close(DisconnectReason::LateNegotiation(command));
            }
            Message::Ping(nonce) if self.ping_has_nonce() => {
                self.queue(&Message::Pong(*nonce), None, Purpose::Normal);
            }
            Message::Pong(nonce) if self.ping_has_nonce() => self.keepalive.on_pong(*nonce, now),
            Message::SendHeaders => self.wants_headers = true,
            Message::Inv(_) => self.learn_inventory(&msg),
            Message::FeeFilter(fee) => {
                if !(0..=MAX_MONEY).contains(fee) {
                    return self.close(DisconnectReason::InvalidFeeFilter(*fee));
                }
                self.fee_filter = Some(*fee);
            }
            Message::FilterLoad(_)
            | Message::FilterAdd(_)
            | Message::FilterClear
            | Message::MemPool
                if !self.is_decred() =>
            {
                if let Some(reason) = self.check_bloom(&msg) {
                    return self.close(reason);
                }
            }
            _ => {}
        }
        // Answering a ping can overflow the send queue and disconnect: Disconnected stays the
        // last event.
        if self.phase == Phase::Disconnected {
            return;
        }
        self.events.push_back(Event::Message(msg));
    }

    /// BIP111 gating and filter state: bloom messages and `mempool` need NODE_BLOOM from us.
    fn check_bloom(&mut self, msg: &Message) -> Option<DisconnectReason> {
        let command = msg.command();
        if !self.cfg.services.has(ServiceFlags::BLOOM) {
            return Some(DisconnectReason::BloomNotOffered {
                command,
                violation: self.negotiated_version >= versions::BIP0111,
            });
        }
        match msg {
            Message::FilterLoad(_) => {
                self.filter_loaded = true;
                self.remote_relay = true;
            }
            Message::FilterAdd(_) if !self.filter_loaded => {
                return Some(DisconnectReason::FilterNotLoaded);
            }
            Message::FilterClear => {
                self.filter_loaded = false;
                self.remote_relay = true;
            }
            _ => {}
        }
        None
    }
}
