//! The `reject` message (BIP61).

use alloc::string::String;
use bytes::{BufMut, BytesMut};

use crate::wire::Hash256;
use crate::wire::encode::{MAX_VAR_LEN, Reader, put_var_bytes};
use crate::wire::error::{DecodeError, Field};

/// A reject code (WIRE.md 2.9).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RejectCode(pub u8);

impl RejectCode {
    /// The message could not be decoded.
    pub const MALFORMED: RejectCode = RejectCode(0x01);
    /// The object is invalid.
    pub const INVALID: RejectCode = RejectCode(0x10);
    /// The version or feature is obsolete.
    pub const OBSOLETE: RejectCode = RejectCode(0x11);
    /// Already seen.
    pub const DUPLICATE: RejectCode = RejectCode(0x12);
    /// Not standard.
    pub const NONSTANDARD: RejectCode = RejectCode(0x40);
    /// Dust output.
    pub const DUST: RejectCode = RejectCode(0x41);
    /// Fee too low.
    pub const INSUFFICIENT_FEE: RejectCode = RejectCode(0x42);
    /// Conflicts with a checkpoint.
    pub const CHECKPOINT: RejectCode = RejectCode(0x43);
}

/// A `reject` message. The hash is on the wire only when `command` is `block` or `tx`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The command being rejected.
    pub command: String,
    /// Why, as a code.
    pub code: RejectCode,
    /// Why, as text.
    pub reason: String,
    /// The rejected object (block and tx only; zero otherwise).
    pub hash: Hash256,
}

impl Reject {
    /// Whether the hash field is present for this command.
    pub fn carries_hash(&self) -> bool {
        self.command == "block" || self.command == "tx"
    }

    pub(crate) fn decode(r: &mut Reader<'_>, strict_ascii: bool) -> Result<Reject, DecodeError> {
        let read = |r: &mut Reader<'_>| {
            if strict_ascii {
                r.read_ascii_string(MAX_VAR_LEN, Field::RejectString)
            } else {
                r.read_var_string(MAX_VAR_LEN, Field::VarString)
            }
        };
        let command = read(r)?;
        let code = RejectCode(r.read_u8()?);
        let reason = read(r)?;
        let mut reject = Reject {
            command,
            code,
            reason,
            hash: Hash256::ZERO,
        };
        if reject.carries_hash() {
            reject.hash = r.read_hash()?;
        }
        Ok(reject)
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        put_var_bytes(out, self.command.as_bytes());
        out.put_u8(self.code.0);
        put_var_bytes(out, self.reason.as_bytes());
        if self.carries_hash() {
            out.put_slice(&self.hash.0);
        }
    }
}
