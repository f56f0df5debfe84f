//! The 12-byte command field of a frame header.

use core::fmt;

/// A command name: up to 12 printable ASCII bytes, NUL-padded on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    pub fn from_wire(raw: [u8; 12]) -> Option<Command> {
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
}
