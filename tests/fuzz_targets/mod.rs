//! Bodies of the fuzz targets, shared by the cargo-fuzz binaries (`fuzz/fuzz_targets/*.rs`
//! include this file with `#[path]`) and the corpus replay test (`tests/fuzz_corpus.rs`), so a
//! committed corpus file runs through exactly the same code in both.
//!
//! Every function takes arbitrary bytes and panics only when an invariant is broken.
#![allow(dead_code)]

mod differential;
mod frame_decoder;
mod message_payload;
mod peer_state;
mod roundtrip;

pub use differential::differential;
pub use frame_decoder::frame_decoder;
pub use message_payload::message_payload;
pub use peer_state::peer_state;
pub use roundtrip::roundtrip;

/// A target body: arbitrary bytes in, a panic when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target by name, as its directories under `fuzz/corpus/` are named.
pub const TARGETS: [(&str, Target); 5] = [
    ("frame_decoder", frame_decoder),
    ("message_payload", message_payload),
    ("roundtrip", roundtrip),
    ("differential", differential),
    ("peer_state", peer_state),
];

use bitpeer::wire::{Command, versions};

/// Every command the codec knows, Bitcoin's then Decred's own, in a fixed order (a fuzz input
/// picks one by index; `fuzz/seed_corpus.py` has the same list), then two nobody knows.
pub const COMMAND_NAMES: [&str; 58] = [
    "version",
    "verack",
    "sendaddrv2",
    "wtxidrelay",
    "getaddr",
    "addr",
    "addrv2",
    "inv",
    "getdata",
    "notfound",
    "getblocks",
    "getheaders",
    "headers",
    "block",
    "tx",
    "ping",
    "pong",
    "reject",
    "sendheaders",
    "feefilter",
    "mempool",
    "merkleblock",
    "filterload",
    "filteradd",
    "filterclear",
    "getcfilters",
    "cfilter",
    "getcfheaders",
    "cfheaders",
    "getcfcheckpt",
    "cfcheckpt",
    "sendcmpct",
    "cmpctblock",
    "getblocktxn",
    "blocktxn",
    "sendtxrcncl",
    "alert",
    "futurecmd",
    "",
    "mixpairreq",
    "getminings",
    "miningstate",
    "getcfilter",
    "getcftypes",
    "cftypes",
    "getcfilterv2",
    "cfilterv2",
    "getcfsv2",
    "cfiltersv2",
    "getinitstate",
    "initstate",
    "mixkeyxchg",
    "mixcphrtxt",
    "mixslotres",
    "mixfactpoly",
    "mixdcnet",
    "mixconfirm",
    "mixsecrets",
];

/// The command `COMMAND_NAMES[i % len]`.
pub fn command(i: u8) -> Command {
    let name = COMMAND_NAMES[usize::from(i) % COMMAND_NAMES.len()];
    Command::new(name).expect("a valid command name")
}

/// Protocol versions at and around every threshold the codec and the peer care about (a fuzz
/// input picks one by index).
pub const VERSIONS: [u32; 24] = [
    0,
    1,
    9,
    12,
    versions::MULTIPLE_ADDRESS - 1,
    versions::MULTIPLE_ADDRESS,
    versions::NET_ADDRESS_TIME - 1,
    versions::NET_ADDRESS_TIME,
    versions::BIP0031,
    versions::BIP0031 + 1,
    versions::BIP0035,
    versions::BIP0037 - 1,
    versions::BIP0037,
    versions::REJECT - 1,
    versions::REJECT,
    versions::BIP0111 - 1,
    versions::BIP0111,
    versions::SEND_HEADERS,
    versions::FEE_FILTER,
    70_015,
    versions::ADDRV2,
    70_017,
    i32::MAX as u32,
    u32::MAX,
];
