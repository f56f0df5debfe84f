//! The 12-byte command field of a frame header.

use core::fmt;

/// A command name: up to 12 printable ASCII bytes, NUL-padded on the wire.
///
/// Aligned to 8 bytes so that headers, frames and errors carrying it are copied in whole
/// aligned words: packed at odd offsets, its bytes got reassembled from narrow stores and read
/// back wide, which stalls store forwarding on every frame.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(align(8))]
pub struct Command([u8; 12]);

impl Command {
    /// A command from a string of at most 12 printable ASCII characters.
    pub const fn new(name: &str) -> Option<Command> {
        let b = name.as_bytes();
        if b.len() > 12 {
            return None;
        }
        let mut out = [0u8; 12];
        let mut i = 0;
        while i < b.len() {
            if b[i] < 0x20 || b[i] > 0x7e {
                return None;
            }
            out[i] = b[i];
            i += 1;
        }
        Some(Command(out))
    }

    const fn known(name: &str) -> Command {
        match Command::new(name) {
            Some(c) => c,
            None => panic!("invalid built-in command"),
        }
    }

    /// Validates the raw header field: printable ASCII, then only NUL padding (Bitcoin Core's
    /// rule, stricter than btcd's UTF-8 check so that no invisible command reaches the peer).
    #[inline]
    pub fn from_wire(raw: [u8; 12]) -> Option<Command> {
        let command = Command(raw);
        if command.kind().is_some() {
            return Some(command);
        }
        let end = raw.iter().position(|&b| b == 0).unwrap_or(12);
        let printable = raw[..end].iter().all(|b| (0x20..=0x7e).contains(b));
        let padded = raw[end..].iter().all(|&b| b == 0);
        (printable && padded).then_some(Command(raw))
    }

    /// The 12 bytes as written in a frame header.
    pub const fn to_wire(&self) -> [u8; 12] {
        self.0
    }

    /// The command as a string.
    pub fn as_str(&self) -> &str {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(12);
        // Construction guarantees printable ASCII.
        core::str::from_utf8(&self.0[..end]).unwrap_or("")
    }

    /// `version`
    pub const VERSION: Command = Command::known("version");
    /// `verack`
    pub const VERACK: Command = Command::known("verack");
    /// `sendaddrv2`
    pub const SENDADDRV2: Command = Command::known("sendaddrv2");
    /// `wtxidrelay`
    pub const WTXIDRELAY: Command = Command::known("wtxidrelay");
    /// `getaddr`
    pub const GETADDR: Command = Command::known("getaddr");
    /// `addr`
    pub const ADDR: Command = Command::known("addr");
    /// `addrv2`
    pub const ADDRV2: Command = Command::known("addrv2");
    /// `inv`
    pub const INV: Command = Command::known("inv");
    /// `getdata`
    pub const GETDATA: Command = Command::known("getdata");
    /// `notfound`
    pub const NOTFOUND: Command = Command::known("notfound");
    /// `getblocks`
    pub const GETBLOCKS: Command = Command::known("getblocks");
    /// `getheaders`
    pub const GETHEADERS: Command = Command::known("getheaders");
    /// `headers`
    pub const HEADERS: Command = Command::known("headers");
    /// `block`
    pub const BLOCK: Command = Command::known("block");
    /// `tx`
    pub const TX: Command = Command::known("tx");
    /// `ping`
    pub const PING: Command = Command::known("ping");
    /// `pong`
    pub const PONG: Command = Command::known("pong");
    /// `reject`
    pub const REJECT: Command = Command::known("reject");
    /// `sendheaders`
    pub const SENDHEADERS: Command = Command::known("sendheaders");
    /// `feefilter`
    pub const FEEFILTER: Command = Command::known("feefilter");
    /// `mempool`
    pub const MEMPOOL: Command = Command::known("mempool");
    /// `merkleblock`
    pub const MERKLEBLOCK: Command = Command::known("merkleblock");
    /// `filterload`
    pub const FILTERLOAD: Command = Command::known("filterload");
    /// `filteradd`
    pub const FILTERADD: Command = Command::known("filteradd");
    /// `filterclear`
    pub const FILTERCLEAR: Command = Command::known("filterclear");
    /// `getcfilters`
    pub const GETCFILTERS: Command = Command::known("getcfilters");
    /// `cfilter`
    pub const CFILTER: Command = Command::known("cfilter");
    /// `getcfheaders`
    pub const GETCFHEADERS: Command = Command::known("getcfheaders");
    /// `cfheaders`
    pub const CFHEADERS: Command = Command::known("cfheaders");
    /// `getcfcheckpt`
    pub const GETCFCHECKPT: Command = Command::known("getcfcheckpt");
    /// `cfcheckpt`
    pub const CFCHECKPT: Command = Command::known("cfcheckpt");
    /// `sendcmpct`
    pub const SENDCMPCT: Command = Command::known("sendcmpct");
    /// `cmpctblock`
    pub const CMPCTBLOCK: Command = Command::known("cmpctblock");
    /// `getblocktxn`
    pub const GETBLOCKTXN: Command = Command::known("getblocktxn");
    /// `blocktxn`
    pub const BLOCKTXN: Command = Command::known("blocktxn");
    /// `sendtxrcncl`
    pub const SENDTXRCNCL: Command = Command::known("sendtxrcncl");
    /// `alert`
    pub const ALERT: Command = Command::known("alert");
}

/// The built-in commands as a dense enum, so that dispatch on a command is one table lookup
/// and a jump table instead of a chain of 12-byte comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Version,
    Verack,
    SendAddrV2,
    WtxidRelay,
    GetAddr,
    Addr,
    AddrV2,
    Inv,
    GetData,
    NotFound,
    GetBlocks,
    GetHeaders,
    Headers,
    Block,
    Tx,
    Ping,
    Pong,
    Reject,
    SendHeaders,
    FeeFilter,
    MemPool,
    MerkleBlock,
    FilterLoad,
    FilterAdd,
    FilterClear,
    GetCFilters,
    CFilter,
    GetCFHeaders,
    CFHeaders,
    GetCFCheckpt,
    CFCheckpt,
    SendCmpct,
    CmpctBlock,
    GetBlockTxn,
    BlockTxn,
    SendTxRcncl,
    Alert,
}

/// Every built-in command with its kind.
const BUILTIN: [(Command, Kind); 37] = [
    (Command::VERSION, Kind::Version),
    (Command::VERACK, Kind::Verack),
    (Command::SENDADDRV2, Kind::SendAddrV2),
    (Command::WTXIDRELAY, Kind::WtxidRelay),
    (Command::GETADDR, Kind::GetAddr),
    (Command::ADDR, Kind::Addr),
    (Command::ADDRV2, Kind::AddrV2),
    (Command::INV, Kind::Inv),
    (Command::GETDATA, Kind::GetData),
    (Command::NOTFOUND, Kind::NotFound),
    (Command::GETBLOCKS, Kind::GetBlocks),
    (Command::GETHEADERS, Kind::GetHeaders),
    (Command::HEADERS, Kind::Headers),
    (Command::BLOCK, Kind::Block),
    (Command::TX, Kind::Tx),
    (Command::PING, Kind::Ping),
    (Command::PONG, Kind::Pong),
    (Command::REJECT, Kind::Reject),
    (Command::SENDHEADERS, Kind::SendHeaders),
    (Command::FEEFILTER, Kind::FeeFilter),
    (Command::MEMPOOL, Kind::MemPool),
    (Command::MERKLEBLOCK, Kind::MerkleBlock),
    (Command::FILTERLOAD, Kind::FilterLoad),
    (Command::FILTERADD, Kind::FilterAdd),
    (Command::FILTERCLEAR, Kind::FilterClear),
    (Command::GETCFILTERS, Kind::GetCFilters),
    (Command::CFILTER, Kind::CFilter),
    (Command::GETCFHEADERS, Kind::GetCFHeaders),
    (Command::CFHEADERS, Kind::CFHeaders),
    (Command::GETCFCHECKPT, Kind::GetCFCheckpt),
    (Command::CFCHECKPT, Kind::CFCheckpt),
    (Command::SENDCMPCT, Kind::SendCmpct),
    (Command::CMPCTBLOCK, Kind::CmpctBlock),
    (Command::GETBLOCKTXN, Kind::GetBlockTxn),
    (Command::BLOCKTXN, Kind::BlockTxn),
    (Command::SENDTXRCNCL, Kind::SendTxRcncl),
    (Command::ALERT, Kind::Alert),
];

/// Every built-in kind, in discriminant order (`ALL_KINDS[k as usize] == k`).
pub(crate) const ALL_KINDS: [Kind; BUILTIN.len()] = {
    let mut all = [Kind::Version; BUILTIN.len()];
    let mut i = 0;
    while i < BUILTIN.len() {
        all[i] = BUILTIN[i].1;
        assert!(all[i] as usize == i, "BUILTIN is in discriminant order");
        i += 1;
    }
    all
};

/// Multiplier of the perfect hash from a command's 12 bytes to a slot of [`SLOTS`] (found by
/// search; [`SLOTS`] fails to build if two built-in commands ever share a slot).
const SLOT_MULTIPLIER: u64 = 0x4a99_1b6c_4458_0325;

/// The 12 command bytes as two little-endian words.
#[inline]
const fn words(raw: &[u8; 12]) -> (u64, u32) {
    let lo = u64::from_le_bytes([
        raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
    ]);
    let hi = u32::from_le_bytes([raw[8], raw[9], raw[10], raw[11]]);
    (lo, hi)
}

#[inline]
const fn slot_of(lo: u64, hi: u32) -> usize {
    ((lo ^ ((hi as u64) << 32)).wrapping_mul(SLOT_MULTIPLIER) >> 58) as usize
}

#[inline]
const fn slot(raw: &[u8; 12]) -> usize {
    let (lo, hi) = words(raw);
    slot_of(lo, hi)
}

/// [`BUILTIN`] as words, for lookups that never materialize the bytes.
const BUILTIN_WORDS: [(u64, u32); BUILTIN.len()] = {
    let mut table = [(0, 0); BUILTIN.len()];
    let mut i = 0;
    while i < BUILTIN.len() {
        table[i] = words(&BUILTIN[i].0.0);
        i += 1;
    }
    table
};

/// The built-in kind whose command bytes are the words `(lo, hi)`.
#[inline]
fn kind_of_words(lo: u64, hi: u32) -> Option<Kind> {
    let i = usize::from(SLOTS[slot_of(lo, hi)]);
    let found = *BUILTIN_WORDS.get(i)?;
    (found == (lo, hi)).then_some(ALL_KINDS[i])
}

/// Slot → index into [`BUILTIN`] (`u8::MAX` for an empty slot).
const SLOTS: [u8; 64] = {
    let mut table = [u8::MAX; 64];
    let mut i = 0;
    while i < BUILTIN.len() {
        let s = slot(&BUILTIN[i].0.0);
        assert!(table[s] == u8::MAX, "two built-in commands share a slot");
        table[s] = i as u8;
        i += 1;
    }
    table
};

impl Command {
    /// The built-in command this is, if any.
    #[inline]
    pub(crate) fn kind(&self) -> Option<Kind> {
        let (lo, hi) = words(&self.0);
        kind_of_words(lo, hi)
    }

    /// [`Command::from_wire`] for the command field of a frame header, read as words straight
    /// from the header bytes (`raw` is the whole 24-byte header).
    #[inline(always)]
    pub(crate) fn from_header(raw: &[u8; 24]) -> Option<Command> {
        let lo = u64::from_le_bytes([
            raw[4], raw[5], raw[6], raw[7], raw[8], raw[9], raw[10], raw[11],
        ]);
        let hi = u32::from_le_bytes([raw[12], raw[13], raw[14], raw[15]]);
        if kind_of_words(lo, hi).is_some() {
            let mut bytes = [0u8; 12];
            bytes[..8].copy_from_slice(&lo.to_le_bytes());
            bytes[8..].copy_from_slice(&hi.to_le_bytes());
            return Some(Command(bytes));
        }
        let mut bytes = [0u8; 12];
        bytes.copy_from_slice(&raw[4..16]);
        Command::from_wire(bytes)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validation() {
        let mut raw = [0u8; 12];
        raw[..3].copy_from_slice(b"inv");
        assert_eq!(Command::from_wire(raw), Some(Command::INV));
        raw[5] = b'x';
        assert_eq!(Command::from_wire(raw), None, "embedded NUL");
        let mut raw = [0u8; 12];
        raw[0] = 0xc3;
        raw[1] = 0xa9;
        assert_eq!(Command::from_wire(raw), None, "non-ASCII");
        assert_eq!(Command::new("thirteen_char"), None);
        assert_eq!(Command::VERSION.as_str(), "version");
    }

    #[test]
    fn kinds_are_found_for_builtins_only() {
        for (i, (command, kind)) in BUILTIN.iter().enumerate() {
            assert_eq!(command.kind(), Some(*kind));
            assert_eq!(*kind as usize, i);
        }
        for name in [
            "",
            "a",
            "versio",
            "versionx",
            "tx2",
            "getblockstxn",
            "notacommand",
        ] {
            assert_eq!(Command::new(name).and_then(|c| c.kind()), None, "{name}");
        }
    }
}
