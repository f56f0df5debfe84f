//! What a [`PeerState`](super::PeerState) tells its driver: events, send ids and disconnect
//! reasons.

use alloc::string::String;

use crate::wire::{
    Command, FrameError, InvVect, Message, MessageError, ReadError, Reject, RejectCode, Version,
};

/// Identifies a message queued with [`PeerState::send`](super::PeerState::send); reported back
/// in [`Event::Sent`] once [`on_sent`](super::PeerState::on_sent) covered its last byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SendId(pub u64);

/// Something the driver should know about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The remote's `version` arrived and [`Config::approve_versions`](super::Config) is set:
    /// the handshake waits for [`accept_version`](super::PeerState::accept_version) or
    /// [`reject_version`](super::PeerState::reject_version). The peer's getters already
    /// reflect the version (negotiated protocol, services, user agent, heights).
    VersionReceived(Version),
    /// The handshake completed; the peer is active. Carries the remote's `version`.
    Ready(Version),
    /// A message from the remote that the application should see.
    Message(Message),
    /// A message queued with `send` was completely written.
    Sent(SendId),
    /// The connection is over; the driver should flush what `poll_transmit` still returns and
    /// close the socket. Emitted exactly once.
    Disconnected(DisconnectReason),
}

/// Who is to blame for a disconnect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Blame {
    /// The remote broke the protocol.
    Remote,
    /// The remote is valid but we cannot or will not talk to it (old version, missing services,
    /// a connection to ourselves).
    Incompatible,
    /// The remote did not answer or send in time.
    Timeout,
    /// Our side decided (the application, or a local resource limit).
    Local,
    /// The transport closed or failed.
    Transport,
}

/// Why a peer was disconnected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The application called [`disconnect`](super::PeerState::disconnect).
    #[error("disconnected by the application: {0}")]
    Requested(String),
    /// The transport was closed or failed (reported by the driver).
    #[error("connection closed")]
    ConnectionClosed,
    /// The handshake did not finish in time.
    #[error("protocol negotiation timeout")]
    HandshakeTimeout,
    /// Nothing was received for the idle timeout.
    #[error("no message received for the idle timeout")]
    IdleTimeout,
    /// An expected response did not arrive in time (stall handler).
    #[error("peer appears to be stalled or misbehaving: {0} timeout")]
    Stalled(Command),
    /// A requested inventory object did not arrive in time (dcrd's per-vector stall handler).
    #[error("peer appears to be stalled: {0:?} not delivered in time")]
    StalledInventory(InvVect),
    /// Too many requested inventory vectors outstanding (dcrd: 75 000).
    #[error("{0} requested inventory vectors outstanding")]
    TooManyPendingRequests(usize),
    /// The remote's `version` carried a nonce one of our own peers sent.
    #[error("disconnecting peer connected to self")]
    SelfConnection,
    /// The remote's protocol version is below our minimum.
    #[error("protocol version {version} is below the minimum {minimum}")]
    ProtocolVersionTooOld {
        /// The remote's version.
        version: i32,
        /// Our minimum.
        minimum: u32,
    },
    /// The application rejected the remote's version.
    #[error("version rejected: {reason}")]
    VersionRejected {
        /// The reject code sent.
        code: RejectCode,
        /// The reason sent.
        reason: String,
    },
    /// The remote answered our handshake with a `reject`.
    #[error("remote rejected us: {0:?}")]
    RejectedByRemote(Reject),
    /// The first message was not `version`.
    #[error("a version message must precede all others (got {0})")]
    VersionNotFirst(Command),
    /// A message other than the negotiation messages arrived before `verack`.
    #[error("{0} received before the handshake completed")]
    UnexpectedHandshakeMessage(Command),
    /// A second `version`.
    #[error("duplicate version message")]
    DuplicateVersion,
    /// A second `verack`.
    #[error("duplicate verack message")]
    DuplicateVerack,
    /// `sendaddrv2`, `wtxidrelay` or `sendtxrcncl` after the handshake.
    #[error("{0} received after the handshake")]
    LateNegotiation(Command),
    /// The remote's bytes did not decode.
    #[error("cannot read message: {0}")]
    Malformed(ReadError),
    /// A bloom-filter or mempool message although we do not advertise NODE_BLOOM. `violation`
    /// is true when the remote's protocol version (≥ 70011, BIP111) means it knowingly broke the
    /// protocol.
    #[error("{command} received but NODE_BLOOM is not offered")]
    BloomNotOffered {
        /// The offending command.
        command: Command,
        /// Whether BIP111 makes this a protocol violation.
        violation: bool,
    },
    /// `filteradd` without a loaded filter.
    #[error("filteradd without a loaded filter")]
    FilterNotLoaded,
    /// A `feefilter` outside the valid money range.
    #[error("invalid feefilter value {0}")]
    InvalidFeeFilter(i64),
    /// Our queue of unsent bytes exceeded its cap: the remote is not reading.
    #[error("send queue exceeded {0} bytes")]
    SendQueueFull(usize),
    /// Input arrived while the handshake waited for the application and the buffer filled.
    #[error("handshake input buffer overflow")]
    HandshakeBufferFull,
}

impl DisconnectReason {
    /// Who is to blame.
    pub fn blame(&self) -> Blame {
        use DisconnectReason::*;
        match self {
            Requested(_) | SendQueueFull(_) | TooManyPendingRequests(_) => Blame::Local,
            ConnectionClosed => Blame::Transport,
            HandshakeTimeout | IdleTimeout | Stalled(_) | StalledInventory(_) => Blame::Timeout,
            SelfConnection
            | ProtocolVersionTooOld { .. }
            | VersionRejected { .. }
            | RejectedByRemote(_) => Blame::Incompatible,
            BloomNotOffered { violation, .. } => {
                if *violation {
                    Blame::Remote
                } else {
                    Blame::Incompatible
                }
            }
            VersionNotFirst(_)
            | UnexpectedHandshakeMessage(_)
            | DuplicateVersion
            | DuplicateVerack
            | LateNegotiation(_)
            | Malformed(_)
            | FilterNotLoaded
            | InvalidFeeFilter(_)
            | HandshakeBufferFull => Blame::Remote,
        }
    }
}

impl From<FrameError> for DisconnectReason {
    fn from(e: FrameError) -> Self {
        DisconnectReason::Malformed(ReadError::Frame(e))
    }
}

impl From<MessageError> for DisconnectReason {
    fn from(e: MessageError) -> Self {
        DisconnectReason::Malformed(ReadError::Message(e))
    }
}
