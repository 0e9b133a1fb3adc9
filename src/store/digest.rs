//! Stable hashes for consistency checks: FNV-1a for records and texts, and order-free
//! fingerprints of sets of tuples (so two indexes can be compared in one streaming pass
//! each, whatever order they keep their entries in).
//!
//! These values are compared within one run or stored (the record register), so they
//! must not depend on the build: no `std` hasher, whose keys are random.

use super::codec::Tuple;

/// FNV-1a, 64 bits.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A multiset of tuples summarized as a count and two independent 64-bit sums of their
/// hashes: equal sets give equal fingerprints whatever the order they were added in, and
/// different ones collide with probability about 2^-128.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// Tuples added.
    pub count: u64,
    a: u64,
    b: u64,
}

impl Fingerprint {
    /// Add one tuple.
    pub fn add(&mut self, t: &Tuple) {
        let mut h1 = 0x5163_7a1d_4b2f_0e93u64;
        let mut h2 = 0x2c8e_91f5_07a3_d6b1u64;
        for id in t {
            let word = id.raw() ^ (u64::from(id.kind()) << 59).rotate_left(3);
            h1 = splitmix(h1 ^ word ^ u64::from(id.kind()));
            h2 = splitmix(h2.wrapping_add(word).rotate_left(17) ^ u64::from(id.kind()) << 8);
        }
        self.count += 1;
        self.a = self.a.wrapping_add(h1);
        self.b = self.b.wrapping_add(h2);
    }
}

#[cfg(test)]
mod tests {
    use super::super::id::{kind, Id};
    use super::*;

    #[test]
    fn fingerprints_ignore_order_and_see_changes() {
        let t = |a: u64, b: u64| {
            [
                Id::new(kind::ENTITY, a),
                Id::new(kind::ENTITY, b),
                Id::int(1),
                Id::NONE,
            ]
        };
        let (mut x, mut y, mut z) = (
            Fingerprint::default(),
            Fingerprint::default(),
            Fingerprint::default(),
        );
        for i in 0..100 {
            x.add(&t(i, i + 1));
        }
        for i in (0..100).rev() {
            y.add(&t(i, i + 1));
        }
        for i in 0..100 {
            z.add(&t(i, if i == 50 { 7 } else { i + 1 }));
        }
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert_eq!(z.count, 100);
        assert_ne!(fnv1a(&[b"ab"]), fnv1a(&[b"ba"]));
        assert_eq!(fnv1a(&[b"a", b"b"]), fnv1a(&[b"ab"]));
    }
}
