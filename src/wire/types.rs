//! Shared field types: hashes, inventory vectors, service flags, network addresses, headers.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::ops::{BitAnd, BitOr, BitOrAssign};

use bytes::{BufMut, BytesMut};

use super::encode::{Reader, compact_size_len, write_compact_size};
use super::error::DecodeError;
use super::hash::sha256d;

/// A 32-byte hash in wire (internal) byte order. `Display` shows it byte-reversed, as explorers
/// and RPC do.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash256(pub [u8; 32]);

impl Hash256 {
    /// The all-zero hash.
    pub const ZERO: Hash256 = Hash256([0; 32]);

    /// The bytes in wire order.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses the display (byte-reversed) hex form.
    pub fn from_display_hex(s: &str) -> Option<Hash256> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in b.chunks_exact(2).enumerate() {
            let hi = (chunk[0] as char).to_digit(16)?;
            let lo = (chunk[1] as char).to_digit(16)?;
            out[31 - i] = (hi * 16 + lo) as u8;
        }
        Some(Hash256(out))
    }
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().rev() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<[u8; 32]> for Hash256 {
    fn from(b: [u8; 32]) -> Self {
        Hash256(b)
    }
}

/// The type of an inventory vector (any `u32` decodes; the constants name the known ones).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct InvType(pub u32);

impl InvType {
    /// Error / ignore.
    pub const ERROR: InvType = InvType(0);
    /// A transaction.
    pub const TX: InvType = InvType(1);
    /// A block.
    pub const BLOCK: InvType = InvType(2);
    /// A filtered (merkle) block.
    pub const FILTERED_BLOCK: InvType = InvType(3);
    /// A compact block (BIP152).
    pub const CMPCT_BLOCK: InvType = InvType(4);
    /// Decred: a mixing message (same value as `CMPCT_BLOCK` in Bitcoin).
    pub const MIX: InvType = InvType(4);
    /// A transaction by wtxid (BIP339).
    pub const WTX: InvType = InvType(5);
    /// A transaction with witness (BIP144).
    pub const WITNESS_TX: InvType = InvType(0x4000_0001);
    /// A block with witness (BIP144).
    pub const WITNESS_BLOCK: InvType = InvType(0x4000_0002);
    /// A filtered block with witness.
    pub const FILTERED_WITNESS_BLOCK: InvType = InvType(0x4000_0003);

    /// Whether this names a block (with or without witness).
    pub const fn is_block(self) -> bool {
        matches!(self.0, 2 | 0x4000_0002)
    }
}

impl fmt::Debug for InvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "ERROR",
            1 => "TX",
            2 => "BLOCK",
            3 => "FILTERED_BLOCK",
            4 => "CMPCT_BLOCK/MIX",
            5 => "WTX",
            0x4000_0001 => "WITNESS_TX",
            0x4000_0002 => "WITNESS_BLOCK",
            0x4000_0003 => "FILTERED_WITNESS_BLOCK",
            n => return write!(f, "InvType({n:#x})"),
        };
        f.write_str(name)
    }
}

/// An inventory vector: what kind of object and its hash (36 bytes on the wire).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct InvVect {
    /// The object type.
    pub inv_type: InvType,
    /// The object's hash.
    pub hash: Hash256,
}

impl InvVect {
    /// Encoded size.
    pub const SIZE: usize = 36;

    /// An inventory vector.
    pub const fn new(inv_type: InvType, hash: Hash256) -> InvVect {
        InvVect { inv_type, hash }
    }

    /// Decodes one inventory vector. The type and the hash are read as two fields, so input
    /// that ends between them is reported as a clean end (`Truncated { available: 0, .. }`).
    pub fn decode(r: &mut Reader<'_>) -> Result<InvVect, DecodeError> {
        Ok(InvVect {
            inv_type: InvType(r.read_u32()?),
            hash: r.read_hash()?,
        })
    }

    /// Encodes the inventory vector (36 bytes).
    pub fn encode(&self, out: &mut BytesMut) {
        let mut b = [0u8; 36];
        self.write_wire(&mut b);
        out.put_slice(&b);
    }

    /// From the 36 bytes on the wire.
    #[inline]
    pub(crate) fn from_array(b: &[u8; 36]) -> InvVect {
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&b[4..]);
        InvVect {
            inv_type: InvType(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            hash: Hash256(hash),
        }
    }

    /// Writes the 36 bytes on the wire into `b`.
    #[inline]
    pub(crate) fn write_wire(&self, b: &mut [u8; 36]) {
        b[..4].copy_from_slice(&self.inv_type.0.to_le_bytes());
        b[4..].copy_from_slice(&self.hash.0);
    }
}

/// Service bits a node advertises (WIRE.md 2.8).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServiceFlags(pub u64);

impl ServiceFlags {
    /// No services.
    pub const NONE: ServiceFlags = ServiceFlags(0);
    /// NODE_NETWORK: serves the full chain.
    pub const NETWORK: ServiceFlags = ServiceFlags(1);
    /// NODE_GETUTXO (BIP64).
    pub const GETUTXO: ServiceFlags = ServiceFlags(1 << 1);
    /// NODE_BLOOM (BIP111).
    pub const BLOOM: ServiceFlags = ServiceFlags(1 << 2);
    /// NODE_WITNESS (BIP144).
    pub const WITNESS: ServiceFlags = ServiceFlags(1 << 3);
    /// NODE_XTHIN.
    pub const XTHIN: ServiceFlags = ServiceFlags(1 << 4);
    /// NODE_COMPACT_FILTERS (BIP157).
    pub const COMPACT_FILTERS: ServiceFlags = ServiceFlags(1 << 6);
    /// NODE_NETWORK_LIMITED (BIP159).
    pub const NETWORK_LIMITED: ServiceFlags = ServiceFlags(1 << 10);
    /// NODE_P2P_V2 (BIP324).
    pub const P2P_V2: ServiceFlags = ServiceFlags(1 << 11);
    /// Decred SFNodeBloom (bit 1).
    pub const DECRED_BLOOM: ServiceFlags = ServiceFlags(1 << 1);
    /// Decred SFNodeCF (bit 2).
    pub const DECRED_CF: ServiceFlags = ServiceFlags(1 << 2);

    /// Whether every bit of `other` is set.
    pub const fn has(self, other: ServiceFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The raw bits.
    pub const fn bits(self) -> u64 {
        self.0
    }
}

impl BitOr for ServiceFlags {
    type Output = ServiceFlags;
    fn bitor(self, rhs: Self) -> Self {
        ServiceFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for ServiceFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for ServiceFlags {
    type Output = ServiceFlags;
    fn bitand(self, rhs: Self) -> Self {
        ServiceFlags(self.0 & rhs.0)
    }
}

impl fmt::Debug for ServiceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceFlags({:#x})", self.0)
    }
}

/// A legacy network address: services, IPv6 (or IPv4-mapped) address and port (26 bytes;
/// 30 with the timestamp `addr` messages carry).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NetAddress {
    /// Last-seen time in seconds (only on the wire in `addr` messages).
    pub time: u32,
    /// Advertised services.
    pub services: ServiceFlags,
    /// The address; IPv4 is stored IPv4-mapped.
    pub ip: Ipv6Addr,
    /// The port.
    pub port: u16,
}

impl Default for NetAddress {
    fn default() -> Self {
        NetAddress {
            time: 0,
            services: ServiceFlags::NONE,
            ip: Ipv6Addr::UNSPECIFIED,
            port: 0,
        }
    }
}

impl NetAddress {
    /// An address from an IP (IPv4 is mapped), port and services, with time 0.
    pub fn new(ip: IpAddr, port: u16, services: ServiceFlags) -> NetAddress {
        let ip = match ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        NetAddress {
            time: 0,
            services,
            ip,
            port,
        }
    }

    /// The IP, unmapped to IPv4 where it is IPv4-mapped.
    pub fn ip_addr(&self) -> IpAddr {
        match self.ip.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(self.ip),
        }
    }

    /// Decodes one address; `with_time` says whether the 4-byte timestamp precedes it (the
    /// `addr` message form at protocol versions from 31402; `version` never carries it).
    pub fn decode(r: &mut Reader<'_>, with_time: bool) -> Result<NetAddress, DecodeError> {
        let time = if with_time { r.read_u32()? } else { 0 };
        let services = ServiceFlags(r.read_u64()?);
        let ip = Ipv6Addr::from(r.read_array::<16>()?);
        let port = r.read_u16_be()?;
        Ok(NetAddress {
            time,
            services,
            ip,
            port,
        })
    }

    /// Encodes the address, with the leading timestamp if `with_time`.
    pub fn encode(&self, out: &mut BytesMut, with_time: bool) {
        if with_time {
            let mut b = [0u8; 30];
            self.write_wire_with_time(&mut b);
            out.put_slice(&b);
        } else {
            let mut b = [0u8; 26];
            self.write_wire(&mut b);
            out.put_slice(&b);
        }
    }

    /// From the 26 bytes on the wire without the timestamp.
    #[inline]
    pub(crate) fn from_array(b: &[u8; 26]) -> NetAddress {
        let mut ip = [0u8; 16];
        ip.copy_from_slice(&b[8..24]);
        let mut services = [0u8; 8];
        services.copy_from_slice(&b[..8]);
        NetAddress {
            time: 0,
            services: ServiceFlags(u64::from_le_bytes(services)),
            ip: Ipv6Addr::from(ip),
            port: u16::from_be_bytes([b[24], b[25]]),
        }
    }

    /// From the 30 bytes on the wire with the timestamp.
    #[inline]
    pub(crate) fn from_array_with_time(b: &[u8; 30]) -> NetAddress {
        let mut rest = [0u8; 26];
        rest.copy_from_slice(&b[4..]);
        NetAddress {
            time: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            ..NetAddress::from_array(&rest)
        }
    }

    /// Writes the 26 bytes on the wire without the timestamp into `b`.
    #[inline]
    pub(crate) fn write_wire(&self, b: &mut [u8; 26]) {
        b[..8].copy_from_slice(&self.services.0.to_le_bytes());
        b[8..24].copy_from_slice(&self.ip.octets());
        b[24..].copy_from_slice(&self.port.to_be_bytes());
    }

    /// Writes the 30 bytes on the wire with the timestamp into `b`.
    #[inline]
    pub(crate) fn write_wire_with_time(&self, b: &mut [u8; 30]) {
        b[..4].copy_from_slice(&self.time.to_le_bytes());
        b[4..12].copy_from_slice(&self.services.0.to_le_bytes());
        b[12..28].copy_from_slice(&self.ip.octets());
        b[28..].copy_from_slice(&self.port.to_be_bytes());
    }
}

/// The address of a BIP155 `addrv2` entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AddrV2Address {
    /// Network id 1.
    Ipv4(Ipv4Addr),
    /// Network id 2 (never IPv4-mapped or OnionCat; those are dropped on decode).
    Ipv6(Ipv6Addr),
    /// Network id 3, deprecated Tor v2 (still decoded).
    TorV2([u8; 10]),
    /// Network id 4, Tor v3 public key.
    TorV3([u8; 32]),
}

impl AddrV2Address {
    /// The BIP155 network id.
    pub const fn network_id(&self) -> u8 {
        match self {
            AddrV2Address::Ipv4(_) => 1,
            AddrV2Address::Ipv6(_) => 2,
            AddrV2Address::TorV2(_) => 3,
            AddrV2Address::TorV3(_) => 4,
        }
    }
}

/// One BIP155 `addrv2` entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AddrV2 {
    /// Last-seen time in seconds.
    pub time: u32,
    /// Advertised services.
    pub services: ServiceFlags,
    /// The address.
    pub addr: AddrV2Address,
    /// The port.
    pub port: u16,
}

/// Largest address an addrv2 entry may carry (BIP155).
const MAX_ADDRV2_LEN: u64 = 512;

impl AddrV2 {
    /// Decodes one entry of the common kinds (IPv4, plain IPv6, Tor v3) straight from the
    /// bytes, with one length check; `None` (nothing consumed) sends the entry through
    /// [`AddrV2::decode`], which handles every other case and reports every error.
    #[inline(always)]
    pub(crate) fn decode_common(r: &mut Reader<'_>) -> Option<AddrV2> {
        let b = r.rest();
        let head: &[u8; 16] = b.first_chunk()?;
        let time = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        // Canonical CompactSize services of 1 or 3 bytes.
        let (services, at) = match head[4] {
            n @ 0..=0xfc => (u64::from(n), 5),
            0xfd => match u16::from_le_bytes([head[5], head[6]]) {
                n @ 0xfd.. => (u64::from(n), 7),
                _ => return None,
            },
            _ => return None,
        };
        let (id, len) = (head[at], head[at + 1]);
        let start = at + 2;
        let end = start + usize::from(len);
        let port = b.get(end..end + 2)?;
        let port = u16::from_be_bytes([port[0], port[1]]);
        let bytes = &b[start..end];
        let addr = match (id, bytes.len()) {
            (1, 4) => AddrV2Address::Ipv4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
            (2, 16) => {
                let mut ip = [0u8; 16];
                ip.copy_from_slice(bytes);
                let dropped = ip[..6] == ONIONCAT_PREFIX || ip[..12] == IPV4_MAPPED_PREFIX;
                if dropped {
                    return None;
                }
                AddrV2Address::Ipv6(Ipv6Addr::from(ip))
            }
            (4, 32) => {
                let mut key = [0u8; 32];
                key.copy_from_slice(bytes);
                AddrV2Address::TorV3(key)
            }
            _ => return None,
        };
        r.skip(end + 2).ok()?;
        Some(AddrV2 {
            time,
            services: ServiceFlags(services),
            addr,
            port,
        })
    }

    /// Decodes one entry. `Ok(None)` means the entry was well-formed but of a kind that is
    /// dropped (I2P, CJDNS, unknown network ids, OnionCat or IPv4-mapped IPv6), as btcd does.
    pub fn decode(r: &mut Reader<'_>) -> Result<Option<AddrV2>, DecodeError> {
        let time = r.read_u32()?;
        let services = ServiceFlags(r.read_compact_size()?);
        let network_id = r.read_u8()?;
        let len = r.read_compact_size()?;
        let expect = match network_id {
            1 => Some(4),
            2 | 6 => Some(16),
            3 => Some(10),
            4 | 5 => Some(32),
            _ => None,
        };
        let bad_size = match expect {
            Some(e) => len != e,
            None => len > MAX_ADDRV2_LEN,
        };
        if bad_size {
            return Err(DecodeError::InvalidAddressSize { network_id, len });
        }
        let bytes = r.read_slice(len as usize)?;
        let port = r.read_u16_be()?;
        let addr = match network_id {
            1 => AddrV2Address::Ipv4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
            2 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(bytes);
                let ip = Ipv6Addr::from(b);
                let onioncat = b[..6] == [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43];
                if onioncat || ip.to_ipv4_mapped().is_some() && b[..12] == IPV4_MAPPED_PREFIX {
                    return Ok(None);
                }
                AddrV2Address::Ipv6(ip)
            }
            3 => {
                let mut b = [0u8; 10];
                b.copy_from_slice(bytes);
                AddrV2Address::TorV2(b)
            }
            4 => {
                let mut b = [0u8; 32];
                b.copy_from_slice(bytes);
                AddrV2Address::TorV3(b)
            }
            _ => return Ok(None),
        };
        Ok(Some(AddrV2 {
            time,
            services,
            addr,
            port,
        }))
    }

    /// Encodes the entry.
    pub fn encode(&self, out: &mut BytesMut) {
        let mut b = [0u8; Self::MAX_SIZE];
        let n = self.write_to(&mut b);
        out.put_slice(&b[..n]);
    }

    /// Largest encoded entry: time, 9-byte services, id, length, Tor v3 key, port.
    pub(crate) const MAX_SIZE: usize = 4 + 9 + 1 + 1 + 32 + 2;

    /// Encoded size of the entry.
    #[inline]
    pub(crate) fn encoded_len(&self) -> usize {
        let addr = match self.addr {
            AddrV2Address::Ipv4(_) => 4,
            AddrV2Address::Ipv6(_) => 16,
            AddrV2Address::TorV2(_) => 10,
            AddrV2Address::TorV3(_) => 32,
        };
        4 + compact_size_len(self.services.0) + 2 + addr + 2
    }

    /// Writes the entry at the front of `dst` (at least [`AddrV2::encoded_len`] bytes);
    /// returns its length.
    #[inline]
    pub(crate) fn write_to(&self, dst: &mut [u8]) -> usize {
        dst[..4].copy_from_slice(&self.time.to_le_bytes());
        let mut n = 4 + write_compact_size(&mut dst[4..], self.services.0);
        dst[n] = self.addr.network_id();
        let addr: &[u8] = match &self.addr {
            AddrV2Address::Ipv4(ip) => &ip.octets(),
            AddrV2Address::Ipv6(ip) => &ip.octets(),
            AddrV2Address::TorV2(b) => b,
            AddrV2Address::TorV3(b) => b,
        };
        dst[n + 1] = addr.len() as u8;
        n += 2;
        dst[n..n + addr.len()].copy_from_slice(addr);
        n += addr.len();
        dst[n..n + 2].copy_from_slice(&self.port.to_be_bytes());
        n + 2
    }

    /// The legacy form of this entry, if it has one (IPv4 and IPv6 only).
    pub fn to_legacy(&self) -> Option<NetAddress> {
        let ip = match self.addr {
            AddrV2Address::Ipv4(v4) => v4.to_ipv6_mapped(),
            AddrV2Address::Ipv6(v6) => v6,
            _ => return None,
        };
        Some(NetAddress {
            time: self.time,
            services: self.services,
            ip,
            port: self.port,
        })
    }
}

const IPV4_MAPPED_PREFIX: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
const ONIONCAT_PREFIX: [u8; 6] = [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43];

/// A Bitcoin block header (80 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct BlockHeader {
    /// Block version.
    pub version: i32,
    /// Hash of the previous block.
    pub prev_block: Hash256,
    /// Merkle root of the transactions.
    pub merkle_root: Hash256,
    /// Block time (seconds).
    pub time: u32,
    /// Compact difficulty target.
    pub bits: u32,
    /// Nonce.
    pub nonce: u32,
}

impl BlockHeader {
    /// Encoded size.
    pub const SIZE: usize = 80;

    /// Parses the 80 header bytes.
    pub fn from_bytes(b: &[u8; 80]) -> BlockHeader {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let hash_at = |i: usize| {
            let mut h = [0u8; 32];
            h.copy_from_slice(&b[i..i + 32]);
            Hash256(h)
        };
        BlockHeader {
            version: u32_at(0) as i32,
            prev_block: hash_at(4),
            merkle_root: hash_at(36),
            time: u32_at(68),
            bits: u32_at(72),
            nonce: u32_at(76),
        }
    }

    /// The 80 header bytes.
    pub fn to_bytes(&self) -> [u8; 80] {
        let mut b = [0u8; 80];
        self.write_wire(&mut b);
        b
    }

    /// Writes the 80 header bytes into `b`.
    #[inline]
    pub(crate) fn write_wire(&self, b: &mut [u8; 80]) {
        b[0..4].copy_from_slice(&self.version.to_le_bytes());
        b[4..36].copy_from_slice(&self.prev_block.0);
        b[36..68].copy_from_slice(&self.merkle_root.0);
        b[68..72].copy_from_slice(&self.time.to_le_bytes());
        b[72..76].copy_from_slice(&self.bits.to_le_bytes());
        b[76..80].copy_from_slice(&self.nonce.to_le_bytes());
    }

    /// The block hash (double SHA-256 of the header).
    pub fn block_hash(&self) -> Hash256 {
        Hash256(sha256d(&self.to_bytes()))
    }

    /// Decodes a header field by field, so input that ends between two fields is reported
    /// as a clean end (`Truncated { available: 0, .. }`), as btcd does.
    pub fn decode(r: &mut Reader<'_>) -> Result<BlockHeader, DecodeError> {
        Ok(BlockHeader {
            version: r.read_i32()?,
            prev_block: r.read_hash()?,
            merkle_root: r.read_hash()?,
            time: r.read_u32()?,
            bits: r.read_u32()?,
            nonce: r.read_u32()?,
        })
    }

    /// Encodes the 80 header bytes.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.to_bytes());
    }
}
