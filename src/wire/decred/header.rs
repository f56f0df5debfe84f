//! The Decred block header: 180 bytes, hashed with BLAKE-256 (WIRE.md 5.1).

use bytes::{BufMut, BytesMut};

use crate::blake256::blake256;
use crate::wire::Hash256;
use crate::wire::encode::Reader;
use crate::wire::error::DecodeError;

/// A Decred block header (180 bytes on the wire).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct DcrBlockHeader {
    /// Block version.
    pub version: i32,
    /// Hash of the previous block.
    pub prev_block: Hash256,
    /// Merkle root of the regular transaction tree.
    pub merkle_root: Hash256,
    /// Merkle root of the stake transaction tree.
    pub stake_root: Hash256,
    /// Votes on the previous block and on agendas.
    pub vote_bits: u16,
    /// Final state of the ticket lottery.
    pub final_state: [u8; 6],
    /// Number of votes in the block.
    pub voters: u16,
    /// Number of ticket purchases in the block.
    pub fresh_stake: u8,
    /// Number of revocations in the block.
    pub revocations: u8,
    /// Number of live tickets.
    pub pool_size: u32,
    /// Compact difficulty target.
    pub bits: u32,
    /// Stake difficulty (ticket price in atoms).
    pub sbits: i64,
    /// Block height.
    pub height: u32,
    /// Serialized block size.
    pub size: u32,
    /// Block time (seconds since the epoch).
    pub timestamp: u32,
    /// Nonce.
    pub nonce: u32,
    /// Extra nonce space and miner data.
    pub extra_data: [u8; 32],
    /// Stake version.
    pub stake_version: u32,
}

impl DcrBlockHeader {
    /// Encoded size.
    pub const SIZE: usize = 180;

    /// Parses the 180 header bytes.
    pub fn from_bytes(b: &[u8; 180]) -> DcrBlockHeader {
        let mut r = Reader::new(b);
        // 180 bytes hold every field, so the field reads cannot fail.
        DcrBlockHeader::decode(&mut r).unwrap_or_default()
    }

    /// The 180 header bytes.
    pub fn to_bytes(&self) -> [u8; 180] {
        let mut b = [0u8; 180];
        b[0..4].copy_from_slice(&self.version.to_le_bytes());
        b[4..36].copy_from_slice(&self.prev_block.0);
        b[36..68].copy_from_slice(&self.merkle_root.0);
        b[68..100].copy_from_slice(&self.stake_root.0);
        b[100..102].copy_from_slice(&self.vote_bits.to_le_bytes());
        b[102..108].copy_from_slice(&self.final_state);
        b[108..110].copy_from_slice(&self.voters.to_le_bytes());
        b[110] = self.fresh_stake;
        b[111] = self.revocations;
        b[112..116].copy_from_slice(&self.pool_size.to_le_bytes());
        b[116..120].copy_from_slice(&self.bits.to_le_bytes());
        b[120..128].copy_from_slice(&self.sbits.to_le_bytes());
        b[128..132].copy_from_slice(&self.height.to_le_bytes());
        b[132..136].copy_from_slice(&self.size.to_le_bytes());
        b[136..140].copy_from_slice(&self.timestamp.to_le_bytes());
        b[140..144].copy_from_slice(&self.nonce.to_le_bytes());
        b[144..176].copy_from_slice(&self.extra_data);
        b[176..180].copy_from_slice(&self.stake_version.to_le_bytes());
        b
    }

    /// The block hash: BLAKE-256 of the 180 header bytes.
    pub fn block_hash(&self) -> Hash256 {
        Hash256(blake256(&self.to_bytes()))
    }

    /// Decodes a header field by field, so input that ends between two fields is reported as
    /// a clean end (`Truncated { available: 0, .. }`), as dcrd does.
    pub fn decode(r: &mut Reader<'_>) -> Result<DcrBlockHeader, DecodeError> {
        Ok(DcrBlockHeader {
            version: r.read_i32()?,
            prev_block: r.read_hash()?,
            merkle_root: r.read_hash()?,
            stake_root: r.read_hash()?,
            vote_bits: r.read_u16()?,
            final_state: r.read_array()?,
            voters: r.read_u16()?,
            fresh_stake: r.read_u8()?,
            revocations: r.read_u8()?,
            pool_size: r.read_u32()?,
            bits: r.read_u32()?,
            sbits: r.read_i64()?,
            height: r.read_u32()?,
            size: r.read_u32()?,
            timestamp: r.read_u32()?,
            nonce: r.read_u32()?,
            extra_data: r.read_array()?,
            stake_version: r.read_u32()?,
        })
    }

    /// Encodes the 180 header bytes.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.to_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_field_offsets() {
        let h = DcrBlockHeader {
            version: -2,
            prev_block: Hash256([1; 32]),
            merkle_root: Hash256([2; 32]),
            stake_root: Hash256([3; 32]),
            vote_bits: 0x0405,
            final_state: [6, 7, 8, 9, 10, 11],
            voters: 0x0c0d,
            fresh_stake: 14,
            revocations: 15,
            pool_size: 0x1011_1213,
            bits: 0x1415_1617,
            sbits: -0x1819_1a1b_1c1d_1e1f,
            height: 0x2021_2223,
            size: 0x2425_2627,
            timestamp: 0x2829_2a2b,
            nonce: 0x2c2d_2e2f,
            extra_data: [0x30; 32],
            stake_version: 0x3132_3334,
        };
        let b = h.to_bytes();
        assert_eq!(DcrBlockHeader::from_bytes(&b), h);
        assert_eq!(b[110], 14);
        assert_eq!(&b[176..], &0x3132_3334u32.to_le_bytes());
        let mut r = Reader::new(&b[..179]);
        assert!(matches!(
            DcrBlockHeader::decode(&mut r),
            Err(DecodeError::Truncated {
                needed: 4,
                available: 3
            })
        ));
    }
}
