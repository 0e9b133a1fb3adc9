fn main() -> Result<(), dossier::Error> {
    let db = dossier::Db::memory()?;
    let script = r#"
type Actor. type State sub Actor. type ArmedGroup sub Actor. type Person sub Actor.
type Event. type Meeting sub Event. type Talks sub Event.
haftar a Person; label "Khalifa Haftar"; commands lna.
lna a ArmedGroup; backed_by egypt, uae, russia.
gna a Government; backed_by turkey, qatar.
egypt a State. uae a State. russia a State. turkey a State. qatar a State.
hurghada_talks a Meeting; venue hurghada; date 2020-09-28; party lna, gna; mediator unsmil.
berlin_conf a Talks; venue berlin; date 2020-01-19; party lna, gna.
aa_2020_09_28 a Source; label "Anadolu Agency"; published 2020-09-28.
lna backed_by egypt from aa_2020_09_28.
from aa_2020_09_28 {
  gna backed_by turkey, qatar.
  sirte controlled_by lna.
}
find ?who where ?who backed_by turkey.
find ?m ?d where ?m a Meeting; venue hurghada; date ?d.
find ?m ?d where ?m a Event; date ?d, ?d in 2020 order by ?d desc limit 5.
find ?backer count(?client) as clients where ?client backed_by ?backer order by clients desc.
find ?g where ?g a ArmedGroup, not { ?e a Talks; party ?g }.
find ?x ?l where ?x a Actor, optional { ?x label ?l }.
find ?x where { ?x backed_by egypt } or { ?x backed_by uae }.
find ?x ?l where ?x label ?l, contains(?l, "Haftar").
find ?a ?b count(?e) as n where ?e party ?a, ?e party ?b, ?a < ?b having n >= 1.
find ?x ?y ?src where ?x backed_by ?y from ?src.
rule ?a allied_with ?b :- ?a backed_by ?s, ?b backed_by ?s, ?a != ?b.
find ?a ?b where ?a allied_with ?b.
explain find ?e where ?e party ?a, ?a backed_by egypt.
describe lna.
search "haftar".
del lna backed_by russia.
find ?x where lna backed_by ?x.
check.
"#;
    for r in db.script(script) {
        match r {
            Ok(e) => {
                for w in &e.warnings {
                    println!("{w}");
                }
                match &e.outcome {
                    dossier::Outcome::Rows(rows) => print!("{rows}"),
                    o => println!("{o}"),
                }
                println!("---");
            }
            Err(e) => println!("{e}\n---"),
        }
    }
    Ok(())
}
