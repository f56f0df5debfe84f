//! The wire codec: framing, primitives and every message the peer speaks.
//!
//! Data flows one way: bytes → [`FrameDecoder`] → [`Frame`] → [`Message::decode`] → [`Message`].
//! Encoding goes the other way through [`encode_message`] into a caller's `BytesMut`.

#[cfg(feature = "arbitrary")]
mod arbitrary;
mod command;
pub mod decred;
pub mod encode;
mod error;
mod frame;
mod hash;
mod message;
pub mod msg;
mod types;

pub use command::Command;
pub use error::{DecodeError, EncodeError, Field, FrameError, MessageError, ReadError};
pub use frame::{
    Frame, FrameDecoder, FrameHeader, HEADER_SIZE, MessageDecoder, UnknownCommands, checksum,
    encode_frame, encode_message, parse_header,
};
pub use hash::{sha256d, sha256d_parts};
pub use message::{
    Context, Encoding, MAX_INV_PER_MSG, Message, max_payload_len, min_version, versions,
};
pub use msg::addr::MAX_ADDR_PER_MSG;
pub use msg::block::{Block, GetBlocks, MAX_HEADERS, MAX_LOCATORS, Transactions};
pub use msg::bloom::{BloomFlags, FilterLoad, MerkleBlock};
pub use msg::cfilter::{CFCheckpt, CFHeaders, CFilter, GetCFCheckpt, GetCFilters};
pub use msg::compact::{BlockTxn, CmpctBlock, GetBlockTxn, PrefilledTx, SendCmpct, SendTxRcncl};
pub use msg::reject::{Reject, RejectCode};
pub use msg::tx::{Tx, TxIn, TxOut};
pub use msg::version::{Version, append_user_agent};
pub use types::{
    AddrV2, AddrV2Address, BlockHeader, Hash256, InvType, InvVect, NetAddress, ServiceFlags,
};
