//! Printing that never panics: `println!` and `eprintln!` panic when their stream is
//! closed (`dossier … 2>&-`, a reader of `2>&1 | head -1` that went away), and a message
//! about the work is never worth failing the work for.  Results go through writers that
//! return their errors (`output.rs`), so a closed standard output still stops a script.

/// `eprintln!` that ignores a closed or failing standard error.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` for messages (banners, help, reports) that ignores a closed standard output.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
