//! Address gossip: `addr` (legacy) and `addrv2` (BIP155).

use alloc::vec::Vec;
use bytes::BytesMut;

use crate::wire::encode::{Reader, check_count, put_compact_size, put_fixed};
use crate::wire::error::{DecodeError, EncodeError, Field};
use crate::wire::{AddrV2, NetAddress};

/// Most entries in an `addr` or `addrv2` message.
pub const MAX_ADDR_PER_MSG: usize = 1000;
/// From this protocol version `addr` entries carry a timestamp.
pub const NET_ADDRESS_TIME_VERSION: u32 = 31_402;
/// From this protocol version `addr` may carry more than one entry.
pub const MULTIPLE_ADDRESS_VERSION: u32 = 209;

pub(crate) fn decode_addr(
    r: &mut Reader<'_>,
    version: u32,
) -> Result<Vec<NetAddress>, DecodeError> {
    let count = r.read_count(MAX_ADDR_PER_MSG as u64, Field::Addresses)?;
    let with_time = version >= NET_ADDRESS_TIME_VERSION;
    let mut list = Vec::with_capacity(r.capacity_for(count, if with_time { 30 } else { 26 }));
    let done = if with_time {
        r.read_fixed(count, &mut list, |b| {
            Some(NetAddress::from_array_with_time(b))
        })
    } else {
        r.read_fixed(count, &mut list, |b| Some(NetAddress::from_array(b)))
    };
    for _ in done..count {
        list.push(NetAddress::decode(r, with_time)?);
    }
    Ok(list)
}

pub(crate) fn encode_addr(
    list: &[NetAddress],
    out: &mut BytesMut,
    version: u32,
) -> Result<(), EncodeError> {
    let max = if version < MULTIPLE_ADDRESS_VERSION && list.len() > 1 {
        1
    } else {
        MAX_ADDR_PER_MSG
    };
    check_count(list.len(), max, Field::Addresses)?;
    let with_time = version >= NET_ADDRESS_TIME_VERSION;
    put_compact_size(out, list.len() as u64);
    if with_time {
        put_fixed(out, list, NetAddress::to_bytes_with_time);
    } else {
        put_fixed(out, list, NetAddress::to_bytes);
    }
    Ok(())
}

pub(crate) fn decode_addrv2(r: &mut Reader<'_>) -> Result<Vec<AddrV2>, DecodeError> {
    let count = r.read_count(MAX_ADDR_PER_MSG as u64, Field::Addresses)?;
    // Smallest entry: time 4 + services 1 + id 1 + len 1 + port 2.
    let mut list = Vec::with_capacity(r.capacity_for(count, 9));
    for _ in 0..count {
        if let Some(a) = AddrV2::decode(r)? {
            list.push(a);
        }
    }
    Ok(list)
}

pub(crate) fn encode_addrv2(list: &[AddrV2], out: &mut BytesMut) -> Result<(), EncodeError> {
    check_count(list.len(), MAX_ADDR_PER_MSG, Field::Addresses)?;
    put_compact_size(out, list.len() as u64);
    // Size everything first, grow the buffer once, then write the entries in place.
    let start = out.len();
    let len: usize = list.iter().map(AddrV2::encoded_len).sum();
    out.resize(start + len, 0);
    let mut dst = &mut out[start..];
    for a in list {
        let n = a.write_to(dst);
        dst = &mut dst[n..];
    }
    Ok(())
}
