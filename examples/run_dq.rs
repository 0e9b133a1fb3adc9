//! Runs a .dq script from stdin against a temporary database and prints every outcome.
//! (A debugging aid; the `dossier` binary is the real interface.)
fn main() -> Result<(), dossier::Error> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|e| dossier::Error::io("<stdin>", e))?;
    let db = dossier::Db::memory()?;
    for r in db.script(&text) {
        match r {
            Ok(e) => {
                for w in &e.warnings {
                    println!("{w}");
                }
                match &e.outcome {
                    dossier::Outcome::Rows(rows) => print!("{rows}"),
                    o => println!("{o}"),
                }
            }
            Err(e) => println!("{e}"),
        }
    }
    Ok(())
}
