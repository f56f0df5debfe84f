//! Decred address gossip: legacy `addr` (before protocol 12, entries always timestamped) and
//! Decred's own `addrv2` (WIRE.md 2.6; not BIP155: fixed-size addresses, 64-bit time,
//! little-endian port).

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};

use super::MAX_TIMESTAMP;
use crate::wire::encode::{Reader, check_count, put_compact_size};
use crate::wire::error::{DecodeError, EncodeError, Field};
use crate::wire::{NetAddress, ServiceFlags};

/// Most entries in an `addr` or `addrv2` message.
pub const MAX_ADDR_PER_MSG: usize = 1000;
/// Largest encoded `addrv2` entry (time 8, services 8, type 1, Tor v3 address 32, port 2).
pub const MAX_ADDRV2_ENTRY: usize = 51;

/// The address of a Decred `addrv2` entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DcrAddress {
    /// Type 1, four bytes.
    Ipv4(Ipv4Addr),
    /// Type 2, sixteen bytes.
    Ipv6(Ipv6Addr),
    /// Type 3, a Tor v3 public key.
    TorV3([u8; 32]),
}

impl DcrAddress {
    /// The type byte on the wire.
    pub const fn type_id(&self) -> u8 {
        match self {
            DcrAddress::Ipv4(_) => 1,
            DcrAddress::Ipv6(_) => 2,
            DcrAddress::TorV3(_) => 3,
        }
    }

    /// The address bytes as on the wire (4, 16 or 32 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            DcrAddress::Ipv4(ip) => ip.octets().to_vec(),
            DcrAddress::Ipv6(ip) => ip.octets().to_vec(),
            DcrAddress::TorV3(key) => key.to_vec(),
        }
    }
}

/// One Decred `addrv2` entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DcrAddrV2 {
    /// Last-seen time in seconds (at most [`MAX_TIMESTAMP`]).
    pub time: u64,
    /// Advertised services.
    pub services: ServiceFlags,
    /// The address.
    pub addr: DcrAddress,
    /// The port.
    pub port: u16,
}

impl DcrAddrV2 {
    /// The IP address, for IPv4 and IPv6 entries.
    pub fn ip_addr(&self) -> Option<IpAddr> {
        match self.addr {
            DcrAddress::Ipv4(v4) => Some(IpAddr::V4(v4)),
            DcrAddress::Ipv6(v6) => Some(IpAddr::V6(v6)),
            DcrAddress::TorV3(_) => None,
        }
    }

    /// Decodes one entry field by field. A time above [`MAX_TIMESTAMP`] is
    /// [`DecodeError::InvalidTimestamp`]; an unknown type is [`DecodeError::UnknownAddressType`].
    pub fn decode(r: &mut Reader<'_>) -> Result<DcrAddrV2, DecodeError> {
        let time = r.read_u64()?;
        if time > MAX_TIMESTAMP {
            return Err(DecodeError::InvalidTimestamp(time));
        }
        let services = ServiceFlags(r.read_u64()?);
        let addr = match r.read_u8()? {
            1 => DcrAddress::Ipv4(Ipv4Addr::from(r.read_array::<4>()?)),
            2 => DcrAddress::Ipv6(Ipv6Addr::from(r.read_array::<16>()?)),
            3 => DcrAddress::TorV3(r.read_array()?),
            other => return Err(DecodeError::UnknownAddressType(other)),
        };
        let port = r.read_u16()?;
        Ok(DcrAddrV2 {
            time,
            services,
            addr,
            port,
        })
    }

    /// Encodes the entry (the port little-endian). A time above [`MAX_TIMESTAMP`] cannot be
    /// decoded by the other side and is refused.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        if self.time > MAX_TIMESTAMP {
            return Err(EncodeError::Unrepresentable("addrv2 time out of range"));
        }
        out.put_u64_le(self.time);
        out.put_u64_le(self.services.0);
        out.put_u8(self.addr.type_id());
        match &self.addr {
            DcrAddress::Ipv4(ip) => out.put_slice(&ip.octets()),
            DcrAddress::Ipv6(ip) => out.put_slice(&ip.octets()),
            DcrAddress::TorV3(key) => out.put_slice(key),
        }
        out.put_u16_le(self.port);
        Ok(())
    }
}

/// `addrv2`: between 1 and 1000 entries.
pub(crate) fn decode_addrv2(r: &mut Reader<'_>) -> Result<Vec<DcrAddrV2>, DecodeError> {
    let count = r.read_count(MAX_ADDR_PER_MSG as u64, Field::Addresses)?;
    if count == 0 {
        return Err(DecodeError::TooFew {
            field: Field::Addresses,
            count: 0,
            min: 1,
        });
    }
    // Smallest entry: time 8, services 8, type 1, IPv4 4, port 2.
    let mut list = Vec::with_capacity(r.capacity_for(count, 23));
    for _ in 0..count {
        list.push(DcrAddrV2::decode(r)?);
    }
    Ok(list)
}

pub(crate) fn encode_addrv2(list: &[DcrAddrV2], out: &mut BytesMut) -> Result<(), EncodeError> {
    check_count(list.len(), MAX_ADDR_PER_MSG, Field::Addresses)?;
    if list.is_empty() {
        return Err(EncodeError::Unrepresentable(
            "addrv2 needs at least one address",
        ));
    }
    put_compact_size(out, list.len() as u64);
    out.reserve(list.len() * MAX_ADDRV2_ENTRY);
    for a in list {
        a.encode(out)?;
    }
    Ok(())
}

/// Legacy `addr` as Decred has it: every entry carries its 4-byte time, at any protocol version.
pub(crate) fn decode_addr(r: &mut Reader<'_>) -> Result<Vec<NetAddress>, DecodeError> {
    let count = r.read_count(MAX_ADDR_PER_MSG as u64, Field::Addresses)?;
    let mut list = Vec::with_capacity(r.capacity_for(count, 30));
    for _ in 0..count {
        list.push(NetAddress::decode(r, true)?);
    }
    Ok(list)
}

pub(crate) fn encode_addr(list: &[NetAddress], out: &mut BytesMut) -> Result<(), EncodeError> {
    check_count(list.len(), MAX_ADDR_PER_MSG, Field::Addresses)?;
    put_compact_size(out, list.len() as u64);
    out.reserve(list.len() * 30);
    for a in list {
        a.encode(out, true);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_is_little_endian_and_types_are_fixed_size() {
        let a = DcrAddrV2 {
            time: 1,
            services: ServiceFlags(1),
            addr: DcrAddress::Ipv4(Ipv4Addr::new(127, 0, 0, 1)),
            port: 0x208d,
        };
        let mut out = BytesMut::new();
        a.encode(&mut out).unwrap();
        assert_eq!(out.len(), 23);
        assert_eq!(&out[21..], &[0x8d, 0x20]);
        let mut r = Reader::new(&out);
        assert_eq!(DcrAddrV2::decode(&mut r), Ok(a));
        out[16] = 4;
        let mut r = Reader::new(&out);
        assert_eq!(
            DcrAddrV2::decode(&mut r),
            Err(DecodeError::UnknownAddressType(4))
        );
        let late = DcrAddrV2 {
            time: MAX_TIMESTAMP + 1,
            ..a
        };
        assert!(late.encode(&mut BytesMut::new()).is_err());
    }
}
