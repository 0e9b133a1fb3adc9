//! Parse and check a DQL text from stdin (or the first argument), printing each statement
//! in canonical form and every diagnostic as the command line shows it.
//!
//! `cargo run --example dql_check -- 'find ?x where ?x a Person.'`

use dossier::lang;
use std::io::Read;

fn main() {
    let text = match std::env::args().nth(1) {
        Some(t) => t,
        None => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                eprintln!("error: cannot read stdin: {e}");
                std::process::exit(2);
            }
            s
        }
    };
    println!("completeness: {:?}", lang::completeness(&text));
    for r in lang::statements(&text) {
        match r {
            Ok(s) => {
                println!("ok: {}", lang::print_statement(&s));
                for d in lang::check_statement(&s) {
                    println!("{}", d.report(None, &text));
                }
            }
            Err(d) => println!("{}", d.report(None, &text)),
        }
    }
}
