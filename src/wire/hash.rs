//! Hash functions the wire needs: double SHA-256 (Bitcoin checksums, block hashes, txids).

use sha2::{Digest, Sha256};

/// Double SHA-256 of the concatenation of `parts`.
#[inline]
pub fn sha256d_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    finish_sha256d(h)
}

/// Double SHA-256 of `data`.
#[inline]
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    finish_sha256d(Sha256::new_with_prefix(data))
}

/// Finishes a running SHA-256 as double SHA-256.
#[inline]
pub(crate) fn finish_sha256d(h: Sha256) -> [u8; 32] {
    let first = h.finalize();
    Sha256::digest(first).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_checksum() {
        assert_eq!(sha256d(b"")[..4], [0x5d, 0xf6, 0xe0, 0xe2]);
        assert_eq!(sha256d_parts(&[b"ab", b"c"]), sha256d(b"abc"));
    }
}
