//! Limits that protect the machine from one statement or one input file: their defaults,
//! and how sizes are written and read (`16 MiB`, `--max-memory 2G`).
//!
//! - a query (with the rules it evaluates) may hold [`MAX_MEMORY`] bytes of rows in hash
//!   tables, sorts, groups, distinct sets and derived facts;
//! - a statement of a script, and a line or record of an imported file, may be
//!   [`MAX_STATEMENT`] bytes long (so a 100 MB literal or `/dev/zero` fails at once,
//!   naming its line, instead of filling the memory).
//!
//! Both are set per database ([`crate::Options`]) and per statement
//! ([`crate::Db::with_limits`], the command line's flags, the shell's `.set`).

/// Default bytes a query may hold: 1 GiB.
pub const MAX_MEMORY: u64 = 1 << 30;

/// Default bytes of one statement of a script, or one line (record) of an import: 16 MiB.
pub const MAX_STATEMENT: usize = 16 << 20;

/// A size for people: `512 bytes`, `64 KiB`, `16 MiB`, `1.5 GiB`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v.fract() < 0.05 || v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Read a size: a number of bytes, or a number with a unit `K`, `M`, `G`, `T` (powers of
/// 1024; `KB`, `KiB`, `MB`, `MiB`… are read the same way, any case), e.g. `512M`, `2G`,
/// `1.5GiB`.
///
/// ```
/// use dossier::limits::parse_size;
/// assert_eq!(parse_size("4096"), Ok(4096));
/// assert_eq!(parse_size("512M"), Ok(512 << 20));
/// assert_eq!(parse_size("1.5 GiB"), Ok(3 << 29));
/// assert!(parse_size("lots").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || format!("'{text}' is not a size (write e.g. 512M, 2G or a number of bytes)");
    let n: f64 = number.parse().map_err(|_| bad())?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" | "bytes" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    let bytes = n * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes >= u64::MAX as f64 {
        return Err(format!("'{text}' is not a size between 1 byte and 16 EiB"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_and_parse() {
        assert_eq!(format_size(100), "100 bytes");
        assert_eq!(format_size(16 << 20), "16 MiB");
        assert_eq!(format_size(MAX_MEMORY), "1 GiB");
        assert_eq!(format_size(3 << 29), "1.5 GiB");
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size(" 10 k "), Ok(10 << 10));
        for bad in ["", "0", "-1", "1e9", "5 parsecs", "1.2.3M", "99999999999T"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
