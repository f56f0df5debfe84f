//! Bitcoin blocks as zero-copy views, plus the block-request messages (getblocks, getheaders,
//! headers).

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

use super::tx::{Tx, scan_tx};
use crate::wire::encode::{Reader, check_count, put_compact_size, put_fixed};
use crate::wire::error::{DecodeError, EncodeError, Field};
use crate::wire::{BlockHeader, Encoding, Hash256};

/// Most transactions a block message can hold (4 000 000 / 10-byte minimum tx + 1).
pub const MAX_BLOCK_TXS: u64 = 400_001;
/// Most locator hashes in `getblocks` / `getheaders`.
pub const MAX_LOCATORS: usize = 500;
/// Most headers in a `headers` message.
pub const MAX_HEADERS: usize = 2000;

/// A block: its bytes as received (a zero-copy slice of the receive buffer). The structure of
/// every transaction was validated on decode; transactions are re-walked lazily on access.
#[derive(Clone, PartialEq, Eq)]
pub struct Block {
    raw: Bytes,
    tx_count: u32,
    any_witness: bool,
    encoding: Encoding,
}

impl core::fmt::Debug for Block {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Block")
            .field("hash", &self.block_hash())
            .field("txs", &self.tx_count)
            .field("len", &self.raw.len())
            .finish()
    }
}

impl Block {
    /// Validates `raw` as exactly one block (transactions read in `encoding`) and wraps it.
    pub fn from_bytes(raw: Bytes, encoding: Encoding) -> Result<Block, DecodeError> {
        let mut r = Reader::new(&raw);
        // Field by field, so a cut between header fields is a clean end of input.
        BlockHeader::decode(&mut r)?;
        let count = r.read_count(MAX_BLOCK_TXS, Field::Transactions)?;
        let mut any_witness = false;
        for _ in 0..count {
            any_witness |= scan_tx(&mut r, encoding)?.witness_start.is_some();
        }
        r.finish()?;
        Ok(Block {
            raw,
            tx_count: count as u32,
            any_witness,
            encoding,
        })
    }

    /// The bytes as received.
    pub fn as_bytes(&self) -> &Bytes {
        &self.raw
    }

    /// The 80-byte header.
    pub fn header(&self) -> BlockHeader {
        let mut b = [0u8; 80];
        b.copy_from_slice(&self.raw[..80]);
        BlockHeader::from_bytes(&b)
    }

    /// The block hash.
    pub fn block_hash(&self) -> Hash256 {
        Hash256(crate::wire::sha256d(&self.raw[..80]))
    }

    /// Number of transactions.
    pub fn tx_count(&self) -> usize {
        self.tx_count as usize
    }

    /// Whether any transaction carries witness data.
    pub fn has_witness(&self) -> bool {
        self.any_witness
    }

    /// The transactions, each a zero-copy [`Tx`] slice of the block.
    pub fn transactions(&self) -> Transactions<'_> {
        let mut r = Reader::new(&self.raw);
        let start = r
            .skip(BlockHeader::SIZE)
            .and_then(|_| r.read_compact_size())
            .map(|_| r.position())
            .unwrap_or(self.raw.len());
        Transactions {
            block: self,
            pos: start,
            left: self.tx_count,
        }
    }

    /// Encoded size in `encoding`.
    pub fn encoded_len(&self, encoding: Encoding) -> usize {
        if encoding == Encoding::Witness || !self.any_witness {
            return self.raw.len();
        }
        let prefix = self.raw.len() - self.transactions().map(|t| t.total_size()).sum::<usize>();
        prefix + self.transactions().map(|t| t.base_size()).sum::<usize>()
    }

    /// Writes the block in `encoding` (witness data stripped for [`Encoding::Base`]).
    pub fn encode(&self, out: &mut BytesMut, encoding: Encoding) {
        if encoding == Encoding::Witness || !self.any_witness {
            out.put_slice(&self.raw);
            return;
        }
        out.put_slice(&self.raw[..BlockHeader::SIZE]);
        put_compact_size(out, u64::from(self.tx_count));
        for tx in self.transactions() {
            tx.encode(out, Encoding::Base);
        }
    }
}

/// Iterator over a block's transactions.
#[derive(Clone, Debug)]
pub struct Transactions<'a> {
    block: &'a Block,
    pos: usize,
    left: u32,
}

impl Iterator for Transactions<'_> {
    type Item = Tx;

    fn next(&mut self) -> Option<Tx> {
        if self.left == 0 {
            return None;
        }
        let raw = &self.block.raw;
        let mut r = Reader::new(&raw[self.pos..]);
        // The block was validated on construction, so this cannot fail; stop quietly if it does.
        let layout = scan_tx(&mut r, self.block.encoding).ok()?;
        let tx = Tx::from_layout(raw.slice(self.pos..self.pos + layout.len), layout);
        self.pos += layout.len;
        self.left -= 1;
        Some(tx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Transactions<'_> {}

/// The body of `getblocks` and `getheaders`: a block locator and a stop hash.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GetBlocks {
    /// The version field (btcd writes its protocol version for getblocks, 0 for getheaders).
    pub version: u32,
    /// Locator hashes, newest first (at most 500).
    pub locator: Vec<Hash256>,
    /// Stop at this hash (zero = as many as allowed).
    pub stop: Hash256,
}

impl GetBlocks {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<GetBlocks, DecodeError> {
        let version = r.read_u32()?;
        let count = r.read_count(MAX_LOCATORS as u64, Field::Locators)?;
        let mut locator = Vec::with_capacity(r.capacity_for(count, 32));
        for _ in 0..count {
            locator.push(r.read_hash()?);
        }
        let stop = r.read_hash()?;
        Ok(GetBlocks {
            version,
            locator,
            stop,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_count(self.locator.len(), MAX_LOCATORS, Field::Locators)?;
        out.put_u32_le(self.version);
        put_compact_size(out, self.locator.len() as u64);
        for h in &self.locator {
            out.put_slice(&h.0);
        }
        out.put_slice(&self.stop.0);
        Ok(())
    }
}

pub(crate) fn decode_headers(r: &mut Reader<'_>) -> Result<Vec<BlockHeader>, DecodeError> {
    let count = r.read_count(MAX_HEADERS as u64, Field::Headers)?;
    let mut headers = Vec::with_capacity(r.capacity_for(count, 81));
    let done = r.read_fixed(count, &mut headers, |b: &[u8; 81]| {
        let header = b.first_chunk::<80>()?;
        (b[80] == 0).then(|| BlockHeader::from_bytes(header))
    });
    for _ in done..count {
        headers.push(BlockHeader::decode(r)?);
        let txs = r.read_compact_size()?;
        if txs != 0 {
            return Err(DecodeError::HeaderContainsTxs(txs));
        }
    }
    Ok(headers)
}

pub(crate) fn encode_headers(
    headers: &[BlockHeader],
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    check_count(headers.len(), MAX_HEADERS, Field::Headers)?;
    put_compact_size(out, headers.len() as u64);
    // The 81st byte of each entry, the transaction count, stays 0.
    put_fixed(out, headers, |h, b: &mut [u8; 81]| {
        if let Some(b) = b.first_chunk_mut::<80>() {
            h.write_wire(b);
        }
    });
    Ok(())
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use alloc::vec;

    fn slow_headers(r: &mut Reader<'_>) -> Result<Vec<BlockHeader>, DecodeError> {
        let count = r.read_count(MAX_HEADERS as u64, Field::Headers)?;
        let mut headers = Vec::new();
        for _ in 0..count {
            headers.push(BlockHeader::decode(r)?);
            let txs = r.read_compact_size()?;
            if txs != 0 {
                return Err(DecodeError::HeaderContainsTxs(txs));
            }
        }
        Ok(headers)
    }

    #[test]
    fn headers_fast_path_agrees_with_field_by_field_decoding() {
        let mut seed = 3u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as u8
        };
        for round in 0..200 {
            let count = usize::from(next() % 6);
            let mut p = vec![count as u8];
            for _ in 0..count {
                p.extend((0..80).map(|_| next()));
                // Mostly the required zero; sometimes a transaction count, canonical or not.
                match next() % 8 {
                    0 => p.push(1),
                    1 => p.extend_from_slice(&[0xfd, 0x00, 0x00]),
                    _ => p.push(0),
                }
            }
            for cut in 0..=p.len() {
                let (mut a, mut b) = (Reader::new(&p[..cut]), Reader::new(&p[..cut]));
                let fast = decode_headers(&mut a).map(|h| (h, a.position()));
                let slow = slow_headers(&mut b).map(|h| (h, b.position()));
                assert_eq!(fast, slow, "round {round} cut {cut}");
            }
        }
    }
}
