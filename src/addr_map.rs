//! Maps keyed by addresses (held struct results, live callbacks). Addresses are already
//! unique and unpredictable to users, so they need no DoS-resistant hash: one folded
//! multiply mixes every bit of the address into both ends of the hash (the table uses the
//! low bits for the bucket and the high bits as a tag), several times cheaper than SipHash
//! on the callback and struct-result hot paths.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A HashMap from addresses to `V` with the address hasher.
pub type AddrMap<V> = HashMap<usize, V, BuildHasherDefault<AddrHasher>>;

#[derive(Default)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used for usize keys; a correct fallback for anything else.
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        let m = u128::from(x ^ self.0) * 0x9E37_79B9_7F4A_7C15_u128;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_addresses_spread_over_low_and_high_bits() {
        let hash = |a: usize| {
            let mut h = AddrHasher::default();
            h.write_usize(a);
            h.finish()
        };
        // 4096 16-byte-aligned addresses: their low 7 hash bits take (nearly) every value,
        // and so do the top 7.
        let lows: std::collections::HashSet<u64> = (0..4096)
            .map(|i| hash(0x7f00_0000_0000 + i * 16) & 127)
            .collect();
        let highs: std::collections::HashSet<u64> = (0..4096)
            .map(|i| hash(0x7f00_0000_0000 + i * 16) >> 57)
            .collect();
        assert!(lows.len() > 120, "{}", lows.len());
        assert!(highs.len() > 120, "{}", highs.len());
        let mut m: AddrMap<u32> = AddrMap::default();
        for i in 0..1000 {
            m.insert(i * 16, i as u32);
        }
        assert!((0..1000).all(|i| m[&(i * 16)] == i as u32));
    }
}
