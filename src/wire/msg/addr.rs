//! Address gossip: `addr` (legacy) and `addrv2` (BIP155).

use alloc::vec::Vec;
use bytes::BytesMut;

use crate::wire::encode::{Reader, STAGE, check_count, put_compact_size, put_fixed};
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
        put_fixed(out, list, NetAddress::write_wire_with_time);
    } else {
        put_fixed(out, list, NetAddress::write_wire);
    }
    Ok(())
}

pub(crate) fn decode_addrv2(r: &mut Reader<'_>) -> Result<Vec<AddrV2>, DecodeError> {
    let count = r.read_count(MAX_ADDR_PER_MSG as u64, Field::Addresses)?;
    // Smallest entry: time 4 + services 1 + id 1 + len 1 + port 2.
    let mut list = Vec::with_capacity(r.capacity_for(count, 9));
    for _ in 0..count {
        if let Some(a) = AddrV2::decode_common(r) {
            list.push(a);
        } else if let Some(a) = AddrV2::decode(r)? {
            list.push(a);
        }
    }
    Ok(list)
}

pub(crate) fn encode_addrv2(list: &[AddrV2], out: &mut BytesMut) -> Result<(), EncodeError> {
    check_count(list.len(), MAX_ADDR_PER_MSG, Field::Addresses)?;
    put_compact_size(out, list.len() as u64);
    // Entries are written into a stack buffer that is appended a couple of kilobytes at a time.
    out.reserve(list.iter().map(AddrV2::encoded_len).sum());
    let mut stage = [0u8; STAGE];
    let mut used = 0;
    for a in list {
        if STAGE - used < AddrV2::MAX_SIZE {
            out.extend_from_slice(&stage[..used]);
            used = 0;
        }
        used += a.write_to(&mut stage[used..]);
    }
    out.extend_from_slice(&stage[..used]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// The field-by-field path alone, as reference for the fast paths.
    fn slow_addrv2(r: &mut Reader<'_>) -> Result<Vec<AddrV2>, DecodeError> {
        let count = r.read_count(MAX_ADDR_PER_MSG as u64, Field::Addresses)?;
        let mut list = Vec::new();
        for _ in 0..count {
            if let Some(a) = AddrV2::decode(r)? {
                list.push(a);
            }
        }
        Ok(list)
    }

    fn slow_addr(r: &mut Reader<'_>, with_time: bool) -> Result<Vec<NetAddress>, DecodeError> {
        let count = r.read_count(MAX_ADDR_PER_MSG as u64, Field::Addresses)?;
        let mut list = Vec::new();
        for _ in 0..count {
            list.push(NetAddress::decode(r, with_time)?);
        }
        Ok(list)
    }

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            self.0 >> 33
        }
    }

    /// One addrv2 entry, mostly well-formed, sometimes odd: every network id, wrong lengths,
    /// non-canonical services, OnionCat and IPv4-mapped IPv6.
    fn entry(rng: &mut Lcg, out: &mut Vec<u8>) {
        out.extend_from_slice(&(rng.next() as u32).to_le_bytes());
        match rng.next() % 8 {
            0 => out.extend_from_slice(&[0xfd, 0x09, 0x04]),
            1 => out.extend_from_slice(&[0xfd, 0x10, 0x00]), // non-canonical
            2 => out.extend_from_slice(&[0xfe, 0x09, 0x04, 0, 0]), // non-canonical
            3 => out.extend_from_slice(&[0xfe, 0x01, 0x00, 0x01, 0x00]),
            _ => out.push((rng.next() % 0xfd) as u8),
        }
        let id = (1 + rng.next() % 7) as u8;
        let mut len = match id {
            1 => 4,
            2 | 6 => 16,
            3 => 10,
            4 | 5 => 32,
            _ => rng.next() % 20,
        } as u8;
        if rng.next() % 16 == 0 {
            len = len.wrapping_add(1);
        }
        out.push(id);
        out.push(len);
        let mut addr: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if id == 2 && len == 16 {
            match rng.next() % 4 {
                0 => addr[..6].copy_from_slice(&[0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43]),
                1 => addr[..12].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]),
                _ => {}
            }
        }
        out.extend_from_slice(&addr);
        out.extend_from_slice(&(rng.next() as u16).to_be_bytes());
    }

    #[test]
    fn fast_paths_agree_with_field_by_field_decoding() {
        let mut rng = Lcg(7);
        for round in 0..300 {
            let count = (rng.next() % 12) as usize;
            let mut v2 = vec![count as u8];
            for _ in 0..count {
                entry(&mut rng, &mut v2);
            }
            let mut legacy = vec![count as u8];
            legacy.extend((0..count * 30).map(|_| rng.next() as u8));
            // Every cut of the payload, so truncation lands in every field.
            for cut in 0..=v2.len() {
                let p = &v2[..cut];
                let (mut a, mut b) = (Reader::new(p), Reader::new(p));
                let fast = decode_addrv2(&mut a).map(|l| (l, a.position()));
                let slow = slow_addrv2(&mut b).map(|l| (l, b.position()));
                assert_eq!(fast, slow, "round {round} cut {cut}");
            }
            for cut in 0..=legacy.len() {
                for (with_time, version) in [(true, 70_016), (false, 31_401)] {
                    let p = &legacy[..cut];
                    let (mut a, mut b) = (Reader::new(p), Reader::new(p));
                    let fast = decode_addr(&mut a, version).map(|l| (l, a.position()));
                    let slow = slow_addr(&mut b, with_time).map(|l| (l, b.position()));
                    assert_eq!(fast, slow, "round {round} cut {cut}");
                }
            }
        }
    }
}
