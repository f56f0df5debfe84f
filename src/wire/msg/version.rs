//! The `version` message and BIP14 user agents.

use alloc::string::String;
use bytes::{BufMut, BytesMut};

use crate::wire::encode::{Reader, check_len, put_var_bytes};
use crate::wire::error::{DecodeError, EncodeError, Field};
use crate::wire::{NetAddress, ServiceFlags};

/// Longest user agent accepted or sent.
pub const MAX_USER_AGENT_LEN: usize = 256;

/// Protocol version from which the relay byte is written (BIP37).
const RELAY_BYTE_VERSION: u32 = 70_001;

/// A `version` message (WIRE.md 4.1). Fields missing from a short payload decode to their
/// defaults (relay = true), as btcd and Bitcoin Core do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// The sender's protocol version (signed on the wire; negative values decode as-is).
    pub protocol_version: i32,
    /// The sender's services.
    pub services: ServiceFlags,
    /// The sender's clock, seconds since the epoch.
    pub timestamp: i64,
    /// The receiver's address as the sender sees it.
    pub receiver: NetAddress,
    /// The sender's own address (usually empty).
    pub sender: NetAddress,
    /// Random nonce for self-connection detection.
    pub nonce: u64,
    /// BIP14 user agent.
    pub user_agent: String,
    /// The sender's best height.
    pub start_height: i32,
    /// Whether the sender wants transactions relayed (BIP37).
    pub relay: bool,
}

impl Default for Version {
    fn default() -> Self {
        Version {
            protocol_version: 0,
            services: ServiceFlags::NONE,
            timestamp: 0,
            receiver: NetAddress::default(),
            sender: NetAddress::default(),
            nonce: 0,
            user_agent: String::new(),
            start_height: 0,
            relay: true,
        }
    }
}

impl Version {
    pub(crate) fn decode(r: &mut Reader<'_>, strict_ascii: bool) -> Result<Version, DecodeError> {
        let mut v = Version {
            protocol_version: r.read_i32()?,
            services: ServiceFlags(r.read_u64()?),
            timestamp: r.read_i64()?,
            receiver: NetAddress::decode(r, false)?,
            ..Version::default()
        };
        if r.is_empty() {
            return Ok(v);
        }
        v.sender = NetAddress::decode(r, false)?;
        if r.is_empty() {
            return Ok(v);
        }
        v.nonce = r.read_u64()?;
        if r.is_empty() {
            return Ok(v);
        }
        let max = MAX_USER_AGENT_LEN as u64;
        v.user_agent = if strict_ascii {
            r.read_ascii_string(max, Field::UserAgent)?
        } else {
            let mut ua = r.read_var_string(max, Field::UserAgent)?;
            // Invalid UTF-8 is replaced by U+FFFD (3 bytes), which can lengthen the string past
            // the limit; cut it so the decoded user agent is never one we would refuse to send.
            if ua.len() > MAX_USER_AGENT_LEN {
                let mut end = MAX_USER_AGENT_LEN;
                while !ua.is_char_boundary(end) {
                    end -= 1;
                }
                ua.truncate(end);
            }
            ua
        };
        if r.is_empty() {
            return Ok(v);
        }
        v.start_height = r.read_i32()?;
        if r.is_empty() {
            return Ok(v);
        }
        v.relay = r.read_bool()?;
        Ok(v)
    }

    pub(crate) fn encode(
        &self,
        out: &mut BytesMut,
        version: u32,
        always_relay_byte: bool,
    ) -> Result<(), EncodeError> {
        check_len(self.user_agent.len(), MAX_USER_AGENT_LEN, Field::UserAgent)?;
        out.put_i32_le(self.protocol_version);
        out.put_u64_le(self.services.0);
        out.put_i64_le(self.timestamp);
        self.receiver.encode(out, false);
        self.sender.encode(out, false);
        out.put_u64_le(self.nonce);
        put_var_bytes(out, self.user_agent.as_bytes());
        out.put_i32_le(self.start_height);
        if always_relay_byte || version >= RELAY_BYTE_VERSION {
            out.put_u8(u8::from(self.relay));
        }
        Ok(())
    }
}

/// Characters BIP14 reserves in user-agent names, versions and comments.
fn bip14_clean(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| matches!(c, '/' | ':' | '(' | ')' | ';') || c.is_control())
}

/// Appends `name:version(c1; c2)/` to `base` (BIP14). Returns `None` if a part holds a reserved
/// character (`/ : ( ) ;`) or is empty, or if the result would exceed 256 bytes.
pub fn append_user_agent(
    base: &str,
    name: &str,
    version: &str,
    comments: &[&str],
) -> Option<String> {
    if !bip14_clean(name) || !bip14_clean(version) || !comments.iter().all(|c| bip14_clean(c)) {
        return None;
    }
    let mut ua = String::from(base);
    if !ua.ends_with('/') {
        ua.push('/');
    }
    ua.push_str(name);
    ua.push(':');
    ua.push_str(version);
    if !comments.is_empty() {
        ua.push('(');
        for (i, c) in comments.iter().enumerate() {
            if i > 0 {
                ua.push_str("; ");
            }
            ua.push_str(c);
        }
        ua.push(')');
    }
    ua.push('/');
    (ua.len() <= MAX_USER_AGENT_LEN).then_some(ua)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bip14_user_agents() {
        assert_eq!(
            append_user_agent("/bitpeer:0.1.0/", "app", "1.2", &["a", "b c"]).as_deref(),
            Some("/bitpeer:0.1.0/app:1.2(a; b c)/")
        );
        assert_eq!(append_user_agent("/x:1/", "a/b", "1", &[]), None);
        assert_eq!(append_user_agent("/x:1/", "a", "1", &["c(d"]), None);
        let long = "x".repeat(250);
        assert_eq!(append_user_agent("/x:1/", &long, "1", &[]), None);
    }
}
