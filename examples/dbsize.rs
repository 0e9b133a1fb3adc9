fn main() {
    let path = std::env::args().nth(1).expect("path");
    let db = sled::open(&path).expect("open");
    let t = db.open_tree("dossier").expect("tree");
    let mut sizes = std::collections::BTreeMap::<u8, (u64, u64, u64)>::new();
    for r in t.iter() {
        let (k, v) = r.expect("entry");
        let e = sizes.entry(k[0]).or_default();
        e.0 += 1;
        e.1 += k.len() as u64;
        e.2 += v.len() as u64;
    }
    for (tag, (n, k, v)) in sizes {
        println!("tag {tag:02x}: {n} entries, keys {k} B, values {v} B");
    }
    println!("size_on_disk {}", db.size_on_disk().unwrap());
}
