//! Hash functions the wire needs: double SHA-256 (Bitcoin checksums, block hashes, txids).
//!
//! Built directly on `sha2`'s block function ([`sha2::compress256`], which picks SHA-NI, ARMv8
//! or software at run time) rather than on its `Digest` wrapper: double SHA-256 of a short
//! payload (ping, inv, tx) is two or three block compressions, and the wrapper's buffering,
//! finalization and second-hash setup cost about as much again. The second hash here is one
//! prepared block.

use core::slice;

use sha2::compress256;
use sha2::digest::block_buffer::EagerBuffer;
use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;

/// SHA-256 initial state (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A running double SHA-256: feed it with [`Sha256d::update`], finish with
/// [`Sha256d::finish`].
#[derive(Clone)]
pub(crate) struct Sha256d {
    state: [u32; 8],
    blocks: u64,
    buffer: EagerBuffer<U64>,
}

impl Sha256d {
    #[inline]
    pub(crate) fn new() -> Sha256d {
        Sha256d {
            state: IV,
            blocks: 0,
            buffer: EagerBuffer::default(),
        }
    }

    #[inline]
    pub(crate) fn update(&mut self, data: &[u8]) {
        let Sha256d {
            state,
            blocks,
            buffer,
        } = self;
        buffer.digest_blocks(data, |b| {
            *blocks += b.len() as u64;
            compress256(state, b);
        });
    }

    /// The double SHA-256 of everything fed in.
    #[inline]
    pub(crate) fn finish(mut self) -> [u8; 32] {
        let bits = (self.blocks * 64 + self.buffer.get_pos() as u64) * 8;
        let state = &mut self.state;
        self.buffer
            .len64_padding_be(bits, |b| compress256(state, slice::from_ref(b)));
        hash_digest(&self.state)
    }
}

/// SHA-256 of the 32-byte digest whose state words are `first`: one prepared block.
#[inline]
fn hash_digest(first: &[u32; 8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    for (out, w) in block.chunks_exact_mut(4).zip(first) {
        out.copy_from_slice(&w.to_be_bytes());
    }
    block[32] = 0x80;
    // Message length: 256 bits, big-endian in the last 8 bytes.
    block[62] = 0x01;
    let mut state = IV;
    compress256(
        &mut state,
        slice::from_ref(GenericArray::from_slice(&block)),
    );
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(&state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// Double SHA-256 of the concatenation of `parts`.
#[inline]
pub fn sha256d_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256d::new();
    for p in parts {
        h.update(p);
    }
    h.finish()
}

/// Double SHA-256 of `data`.
#[inline]
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256d::new();
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn reference(data: &[u8]) -> [u8; 32] {
        Sha256::digest(Sha256::digest(data)).into()
    }

    #[test]
    fn empty_checksum() {
        assert_eq!(sha256d(b"")[..4], [0x5d, 0xf6, 0xe0, 0xe2]);
        assert_eq!(sha256d_parts(&[b"ab", b"c"]), sha256d(b"abc"));
    }

    #[test]
    fn matches_sha2_at_every_length_and_split() {
        let data: alloc::vec::Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..data.len() {
            let want = reference(&data[..n]);
            assert_eq!(sha256d(&data[..n]), want, "len {n}");
            for cut in [0, 1, n / 3, n / 2, n.saturating_sub(1)] {
                let cut = cut.min(n);
                assert_eq!(
                    sha256d_parts(&[&data[..cut], &data[cut..n]]),
                    want,
                    "len {n} cut {cut}"
                );
            }
        }
    }
}
