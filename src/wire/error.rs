//! Typed codec errors. Every variant says what was wrong with the bytes; none panics.

use core::fmt;

use super::Command;

/// What a length or count limit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// A generic variable-length string.
    VarString,
    /// A generic variable-length byte string.
    VarBytes,
    /// The user agent of a `version` message.
    UserAgent,
    /// A transaction script (signature or public-key script).
    Script,
    /// One witness stack item.
    WitnessItem,
    /// Witness stack items of one input.
    WitnessItems,
    /// Total script and witness bytes of one transaction.
    ScriptBytes,
    /// Entries of an `addr` / `addrv2` message.
    Addresses,
    /// Entries of an `inv` / `getdata` / `notfound` message.
    InvVectors,
    /// Block locator hashes.
    Locators,
    /// Headers of a `headers` message.
    Headers,
    /// Transactions of a block.
    Transactions,
    /// Inputs of a transaction.
    TxInputs,
    /// Outputs of a transaction.
    TxOutputs,
    /// Hashes of a `merkleblock`.
    TxHashes,
    /// Flag bytes of a `merkleblock`.
    MerkleFlags,
    /// The bloom filter of a `filterload`.
    BloomFilter,
    /// Hash functions of a `filterload`.
    HashFuncs,
    /// Data of a `filteradd`.
    FilterAddData,
    /// A compact filter.
    CompactFilter,
    /// Filter headers or hashes of a `cfheaders` / `cfcheckpt`.
    FilterHeaders,
    /// An addrv2 address.
    Address,
    /// Short transaction ids of a `cmpctblock`.
    ShortIds,
    /// Prefilled transactions of a `cmpctblock`.
    PrefilledTxs,
    /// Transaction indexes of a `getblocktxn`.
    TxIndexes,
    /// The reject reason or command string.
    RejectString,
    /// Decred: blocks in `miningstate` / `initstate`.
    Blocks,
    /// Decred: votes in `miningstate` / `initstate`.
    Votes,
    /// Decred: treasury spends in `initstate`.
    TSpends,
    /// Decred: filter types in `cftypes`.
    FilterTypes,
    /// Decred: inclusion proof hashes of a `cfilterv2`.
    Proofs,
    /// Decred: filters in `cfiltersv2`.
    CFilters,
    /// Decred: state types in `getinitstate`.
    InitStateTypes,
    /// Decred: previously seen mix messages.
    PrevMixMsgs,
    /// Decred: UTXOs of a mix pair request.
    MixUtxos,
    /// Decred: other mix message elements.
    MixElements,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A payload (or primitive) could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended early. `available == 0` means it ended exactly at a field boundary.
    #[error("input ended early: field needs {needed} bytes, {available} available")]
    Truncated {
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A compact size used a longer encoding than its value needs.
    #[error("non-canonical compact size")]
    NonCanonicalCompactSize,
    /// A length prefix exceeds the field's maximum.
    #[error("{field} length {len} exceeds the maximum {max}")]
    TooLong {
        /// The field.
        field: Field,
        /// The announced length.
        len: u64,
        /// The maximum.
        max: u64,
    },
    /// A count exceeds the message's maximum.
    #[error("too many {field}: {count} > {max}")]
    TooMany {
        /// What was counted.
        field: Field,
        /// The announced count.
        count: u64,
        /// The maximum.
        max: u64,
    },
    /// A count is below the message's minimum.
    #[error("too few {field}: {count} < {min}")]
    TooFew {
        /// What was counted.
        field: Field,
        /// The announced count.
        count: u64,
        /// The minimum.
        min: u64,
    },
    /// A header in a `headers` message claims transactions.
    #[error("block header in a headers message claims {0} transactions")]
    HeaderContainsTxs(u64),
    /// The message does not exist at the negotiated protocol version.
    #[error("{command} is invalid for protocol version {version}")]
    InvalidForVersion {
        /// The command.
        command: Command,
        /// The protocol version.
        version: u32,
    },
    /// Bytes were left over after a complete payload.
    #[error("{extra} trailing bytes after the payload")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A witness transaction's flag byte is not 0x01.
    #[error("witness transaction flag byte is {0:#04x}, expected 0x01")]
    BadWitnessFlag(u8),
    /// A witness transaction's witnesses are all empty.
    #[error("witness flag set but every witness is empty")]
    SuperfluousWitness,
    /// An addrv2 address has the wrong length for its network id.
    #[error("addrv2 address of network {network_id} has invalid length {len}")]
    InvalidAddressSize {
        /// The BIP155 network id.
        network_id: u8,
        /// The announced length.
        len: u64,
    },
    /// Decred: unknown address type in an addrv2 entry.
    #[error("unknown address type {0}")]
    UnknownAddressType(u8),
    /// Decred: unknown transaction serialization type.
    #[error("unknown transaction serialization type {0}")]
    UnknownTxType(u16),
    /// Decred: the witness count differs from the input count.
    #[error("witness count {witnesses} does not match input count {inputs}")]
    MismatchedWitnessCount {
        /// Inputs in the prefix.
        inputs: u64,
        /// Witnesses that followed.
        witnesses: u64,
    },
    /// Decred: a timestamp is out of range.
    #[error("timestamp {0} out of range")]
    InvalidTimestamp(u64),
    /// A string that must be printable ASCII is not.
    #[error("string is not printable ASCII")]
    MalformedString,
    /// Any other structural violation.
    #[error("invalid message: {0}")]
    Invalid(&'static str),
}

/// A frame header (or the frame as a whole) was bad.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The magic belongs to another network.
    #[error("message from another network (magic {magic:#010x}, expected {expected:#010x})")]
    WrongNetwork {
        /// The magic received.
        magic: u32,
        /// The magic expected.
        expected: u32,
    },
    /// The command field holds characters outside printable ASCII, or NULs before the end.
    #[error("malformed command field {0:02x?}")]
    MalformedCommand([u8; 12]),
    /// The announced length exceeds the chain's global cap.
    #[error("payload of {len} bytes exceeds the maximum {max}")]
    PayloadTooLarge {
        /// Announced length.
        len: u32,
        /// The cap.
        max: u32,
    },
    /// The announced length exceeds the command's own cap.
    #[error("{command} payload of {len} bytes exceeds the maximum {max} for that command")]
    PayloadTooLargeForCommand {
        /// The command.
        command: Command,
        /// Announced length.
        len: u32,
        /// The command's cap.
        max: u32,
    },
    /// The payload's checksum does not match the header's.
    #[error(
        "bad checksum on {command}: header says {expected:02x?}, payload hashes to {actual:02x?}"
    )]
    BadChecksum {
        /// The command.
        command: Command,
        /// Checksum in the header.
        expected: [u8; 4],
        /// Checksum of the payload received.
        actual: [u8; 4],
    },
    /// Decred: a well-formed command that the dialect does not know.
    #[error("unknown command {0}")]
    UnknownCommand(Command),
}

/// A frame's payload failed to decode as its message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {command}: {error}")]
pub struct MessageError {
    /// The command of the frame.
    pub command: Command,
    /// What was wrong.
    pub error: DecodeError,
}

/// Anything that can go wrong reading messages from a byte stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The frame layer failed.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The payload did not decode.
    #[error(transparent)]
    Message(#[from] MessageError),
}

/// A message could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message does not exist at this protocol version.
    #[error("{command} is invalid for protocol version {version}")]
    InvalidForVersion {
        /// The command.
        command: Command,
        /// The protocol version.
        version: u32,
    },
    /// The message does not exist in this chain's dialect.
    #[error("{0} does not exist in this chain's dialect")]
    InvalidForChain(Command),
    /// The payload is larger than the command (or chain) allows.
    #[error("{command} payload of {len} bytes exceeds the maximum {max}")]
    PayloadTooLarge {
        /// The command.
        command: Command,
        /// Encoded length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A list is longer than the message allows.
    #[error("too many {field}: {count} > {max}")]
    TooMany {
        /// What was counted.
        field: Field,
        /// How many were given.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// A string or byte field is longer than allowed.
    #[error("{field} length {len} exceeds the maximum {max}")]
    TooLong {
        /// The field.
        field: Field,
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A value cannot be represented in this message (e.g. an address type in Decred addrv2).
    #[error("cannot encode: {0}")]
    Unrepresentable(&'static str),
}
