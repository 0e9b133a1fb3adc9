//! Fuzz the decoders of what the store keeps on disk: index blocks (tuple codec, both
//! arities, whole and by range), dictionary blocks of both directions, `term → id`
//! entries, inline ids, the catalog record and the count records.  Whatever the bytes,
//! decoding gives a value or an error: never a panic, never an allocation past
//! libFuzzer's `-malloc_limit_mb`.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode fuzz/corpus/decode -- -malloc_limit_mb=64`
//! (see the README's developing section).
#![no_main]

use dossier::engine::catalog::Catalog;
use dossier::store::codec::{
    get_varint, BlockCodec, BytesCodec, TermCodec, TupleCodec, TupleHeader,
};
use dossier::store::dict::{split_term2id, NextIds};
use dossier::store::stats::PredStats;
use dossier::store::Id;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // The next byte says where the block's key ends and its value starts.
    let (key, value) = match rest.split_first() {
        Some((&at, r)) => r.split_at((at as usize).min(r.len())),
        None => (rest, &[][..]),
    };
    match selector % 8 {
        0 | 1 => {
            let codec = TupleCodec {
                arity: 3 + (selector % 2) as usize,
            };
            let _ = TupleHeader::parse(value);
            if let Ok(first) = codec.read_key(key) {
                let mut all = Vec::new();
                if codec.decode(first, value, &mut all).is_ok() {
                    // A block that decodes holds its entries in strictly increasing order.
                    assert!(all.windows(2).all(|w| w[0] < w[1]));
                }
                // Range decodes from the block's own bytes as bounds.
                let bound = |at: usize| {
                    let mut t = first;
                    if let Some(b) = value.get(at) {
                        t[at % codec.arity] = Id::new(*b % 8, u64::from(*b) << 3);
                    }
                    t
                };
                let (lo, hi) = (bound(0), bound(1));
                let mut part = Vec::new();
                if codec
                    .decode_range(first, value, Some(&lo), Some(&hi), &mut part)
                    .is_ok()
                {
                    assert!(part.iter().all(|e| *e >= lo && *e < hi));
                }
            }
        }
        2 => {
            let mut out = Vec::new();
            if BytesCodec.decode(key.to_vec(), value, &mut out).is_ok() {
                assert!(out.windows(2).all(|w| w[0] < w[1]));
            }
        }
        3 => {
            if let Ok(first) = TermCodec.read_key(key) {
                let mut out = Vec::new();
                let _ = TermCodec.decode(first.clone(), value, &mut out);
                let mut n = 0usize;
                let _ = TermCodec.for_each(&first, value, |_, text| {
                    n += 1;
                    let _ = std::str::from_utf8(text);
                    true
                });
            }
        }
        4 => {
            for chunk in rest.chunks(9) {
                if let Some(id) = Id::read_key(chunk) {
                    if let Some(v) = id.decode_inline() {
                        // What decodes is a value whose id is this one.
                        assert_eq!(Id::inline(&v), Some(id), "{v:?}");
                    }
                    let _ = id.successor();
                    let _ = id.date_start_day();
                    // The equal forms of a number are numbers equal to it.
                    for twin in id.numeric_twins().as_slice() {
                        assert!(twin.same_value(id), "{id:?} {twin:?}");
                    }
                    assert!(id.canonical() <= id);
                }
            }
        }
        5 => {
            if let Ok(c) = Catalog::from_record(rest) {
                let _ = c.schema_text();
                for t in c.types.keys().take(8) {
                    let _ = c.subtypes(t);
                    let _ = c.supertypes(t);
                }
            }
        }
        6 => {
            let _ = NextIds::from_bytes(rest);
            let _ = PredStats::from_bytes(rest);
            let _ = split_term2id(rest);
        }
        _ => {
            let mut pos = 0;
            while pos < rest.len() {
                if get_varint(rest, &mut pos).is_err() {
                    break;
                }
            }
        }
    }
});
