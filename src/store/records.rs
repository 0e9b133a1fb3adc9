//! The register of meta records: the name, length and hash of every record the layers
//! above keep in the store (the catalog of schema and rules, the import counter), written
//! in the same commit as the records.  A record that goes missing or changes outside a
//! commit no longer matches it, so a removed catalog is noticed instead of reading as "no
//! schema, no rules".

use super::digest::fnv1a;
use super::kv::Kv;
use super::{META_USER, TAG_META};
use crate::error::Result;
use std::collections::BTreeMap;

/// The register's key.
pub(super) const META_RECORDS: &[u8] = b"\x00records";
const REGISTER_VERSION: u8 = 1;

/// Every record of the layers above: full key → value.
pub(super) fn user_records(kv: &Kv) -> Result<BTreeMap<Vec<u8>, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for r in kv.range(&[TAG_META, META_USER], &[TAG_META, META_USER + 1]) {
        let (k, v) = r?;
        out.insert(k.to_vec(), v.to_vec());
    }
    Ok(out)
}

/// The register of `records`: a version byte, then per record its key length and key, the
/// hash of its value and the value's length.
pub(super) fn register(records: &BTreeMap<Vec<u8>, Vec<u8>>) -> Vec<u8> {
    let mut out = vec![REGISTER_VERSION];
    for (k, v) in records {
        super::codec::put_varint(&mut out, k.len() as u64);
        out.extend_from_slice(k);
        out.extend_from_slice(&fnv1a(&[v]).to_be_bytes());
        super::codec::put_varint(&mut out, v.len() as u64);
    }
    out
}

/// One register entry: key, value hash, value length.
type Entry = (Vec<u8>, u64, u64);

fn parse(bytes: &[u8]) -> Option<Vec<Entry>> {
    let (&version, _) = bytes.split_first()?;
    if version != REGISTER_VERSION {
        return None;
    }
    let mut pos = 1;
    let mut out = Vec::new();
    while pos < bytes.len() {
        let len = super::codec::get_varint(bytes, &mut pos).ok()? as usize;
        let key = bytes.get(pos..pos.checked_add(len)?)?.to_vec();
        pos += len;
        let hash = u64::from_be_bytes(bytes.get(pos..pos + 8)?.try_into().ok()?);
        pos += 8;
        let n = super::codec::get_varint(bytes, &mut pos).ok()?;
        out.push((key, hash, n));
    }
    Some(out)
}

/// A record's name as a user knows it.
fn what(key: &[u8]) -> String {
    let name = String::from_utf8_lossy(key.get(2..).unwrap_or_default()).to_string();
    match name.as_str() {
        "catalog" => "the catalog (schema and rules)".to_string(),
        "imports" => "the import counter".to_string(),
        _ => format!("the '{name}' record"),
    }
}

/// How the stored records differ from the register (`register` is its stored bytes, if
/// any).  Empty when they agree.
pub(super) fn problems(
    register: Option<&[u8]>,
    records: &BTreeMap<Vec<u8>, Vec<u8>>,
) -> Vec<String> {
    let Some(bytes) = register else {
        return if records.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "meta records: the register of records is missing ({} records are there)",
                records.len()
            )]
        };
    };
    let Some(entries) = parse(bytes) else {
        return vec!["meta records: the register of records cannot be read".to_string()];
    };
    let mut out = Vec::new();
    let mut listed = BTreeMap::new();
    for (key, hash, len) in entries {
        match records.get(&key) {
            None => out.push(format!(
                "meta records: {} is missing (it held {len} bytes): what it recorded is lost",
                what(&key)
            )),
            Some(v) if fnv1a(&[v]) != hash || v.len() as u64 != len => out.push(format!(
                "meta records: {} was changed outside a commit (damaged)",
                what(&key)
            )),
            Some(_) => {}
        }
        listed.insert(key, ());
    }
    for key in records.keys().filter(|k| !listed.contains_key(*k)) {
        out.push(format!(
            "meta records: {} is not in the register (damaged or written by another program)",
            what(key)
        ));
    }
    out
}

/// The records the register lists that are gone, in words (for a repair's report).
/// `except` names records whose absence does not count.
pub(super) fn missing(
    register: Option<&[u8]>,
    records: &BTreeMap<Vec<u8>, Vec<u8>>,
    except: &[&str],
) -> Vec<String> {
    register
        .and_then(parse)
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _, _)| !records.contains_key(key))
        .filter(|(key, _, _)| !except.iter().any(|e| key.get(2..) == Some(e.as_bytes())))
        .map(|(key, _, len)| {
            format!(
                "{} ({len} bytes) is missing and cannot be rebuilt: restore it from a backup or an export",
                what(&key)
            )
        })
        .collect()
}

/// The records whose value no longer matches the register (changed outside a commit).
pub(super) fn changed(
    register: Option<&[u8]>,
    records: &BTreeMap<Vec<u8>, Vec<u8>>,
) -> Vec<(Vec<u8>, String)> {
    register
        .and_then(parse)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, hash, len)| {
            let v = records.get(&key)?;
            (fnv1a(&[v]) != hash || v.len() as u64 != len).then(|| {
                let w = what(&key);
                (key, w)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_changed_record_is_seen() {
        let mut records = BTreeMap::new();
        records.insert(b"\x00ucatalog".to_vec(), vec![1, 2, 3]);
        records.insert(b"\x00uimports".to_vec(), vec![0, 0, 0, 0, 0, 0, 0, 4]);
        let reg = register(&records);
        assert!(problems(Some(&reg), &records).is_empty());
        let mut gone = records.clone();
        gone.remove(b"\x00ucatalog".as_slice());
        let p = problems(Some(&reg), &gone);
        assert!(
            p[0].contains("the catalog (schema and rules) is missing"),
            "{p:?}"
        );
        let mut altered = records.clone();
        altered.insert(b"\x00ucatalog".to_vec(), vec![1, 2, 4]);
        assert!(problems(Some(&reg), &altered)[0].contains("changed"));
        assert_eq!(changed(Some(&reg), &altered).len(), 1);
        assert!(changed(Some(&reg), &records).is_empty());
        assert_eq!(missing(Some(&reg), &gone, &[]).len(), 1);
        assert!(missing(Some(&reg), &gone, &["catalog"]).is_empty());
        assert!(problems(None, &records)[0].contains("register of records is missing"));
        assert!(problems(None, &BTreeMap::new()).is_empty());
        assert!(problems(Some(&[9]), &records)[0].contains("cannot be read"));
    }
}
