//! `dossier graph`, `dossier timeline` and the shell's `.graph` and `.timeline`: pictures
//! made by [`dossier::viz`], written to a file or standard output.

use crate::cli::{GraphArgs, PictureFormat, Settings, TimelineArgs};
use crate::commands::{Failure, Usage};
use dossier::viz::{self, NetworkOptions, SvgOptions, TimelineOptions};
use dossier::{Db, Error};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a picture goes: the `-o` file, else `default` (the shell's), else standard output.
fn write_out(out: Option<&Path>, default: Option<&str>, text: &str) -> Result<String, Error> {
    match out
        .map(Path::to_path_buf)
        .or_else(|| default.map(PathBuf::from))
    {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
            Ok(path.display().to_string())
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(text.as_bytes())
                .and_then(|_| o.flush())
                .map_err(|e| Error::io("<stdout>", e))?;
            Ok("standard output".into())
        }
    }
}

/// Draw the network `args` asks for; `default_file` is where it goes without `-o` (the
/// shell).  Prints a one-line summary and the picture's notes on standard error.
pub fn graph(
    db: &Db,
    args: &GraphArgs,
    settings: &Settings,
    default_file: Option<&str>,
) -> Result<(), Failure> {
    let mut graph = match &args.query {
        Some(q) => {
            let rows = db.query_with(q, &settings.params)?;
            viz::graph_from_rows(db, &rows, args.max_nodes)?
        }
        None => {
            if args.entities.is_empty() {
                return Err(Failure::Usage(Usage(
                    "name the entities to draw the network around (graph haftar gna), or give \
                     --query 'find ?a ?p ?b where …'"
                        .into(),
                )));
            }
            let roots: Vec<&str> = args.entities.iter().map(String::as_str).collect();
            let options = NetworkOptions {
                depth: args.depth,
                follow: args.follow.clone(),
                exclude: args.exclude.clone(),
                max_nodes: args.max_nodes,
                max_fanout: args.max_fanout,
            };
            viz::network(db, &roots, &options)?
        }
    };
    let text = match args.format {
        PictureFormat::Dot => viz::graph_dot(&graph),
        PictureFormat::Svg => {
            viz::layout(&mut graph);
            viz::graph_svg(
                &graph,
                &SvgOptions {
                    sources: args.sources,
                    title: args.title.clone(),
                    ..SvgOptions::default()
                },
            )
        }
    };
    let default_file = default_file.map(|f| match args.format {
        PictureFormat::Dot => f.replace(".svg", ".dot"),
        PictureFormat::Svg => f.to_string(),
    });
    let to = write_out(args.out.as_deref(), default_file.as_deref(), &text)?;
    for note in &graph.notes {
        errln!("note: {note}");
    }
    errln!(
        "wrote {} nodes and {} edges to {to}",
        graph.nodes.len(),
        graph.edges.len()
    );
    Ok(())
}

/// Draw the timeline `args` asks for (see [`graph`] for `default_file`).
pub fn timeline(
    db: &Db,
    args: &TimelineArgs,
    settings: &Settings,
    default_file: Option<&str>,
) -> Result<(), Failure> {
    let options = TimelineOptions {
        from: args.from,
        to: args.to,
        title: args.title.clone(),
        max_items: args.max_items,
    };
    let t = match &args.query {
        Some(q) => {
            let rows = db.query_with(q, &settings.params)?;
            viz::timeline(db, &rows, &options)?
        }
        None => viz::dated_events(db, &options)?,
    };
    let text = viz::timeline_svg(&t, &options);
    let to = write_out(args.out.as_deref(), default_file, &text)?;
    for note in &t.notes {
        errln!("note: {note}");
    }
    errln!("wrote {} events to {to}", t.items.len());
    Ok(())
}

/// Split a dot-command's arguments like a shell: spaces separate, quotes group (`'…'`
/// literally, `"…"` with `\"` and `\\`).
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a ' is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a \" is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a \" is not closed".into()),
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_words(r#"haftar  --query 'find ?a ?b where ?a backed_by ?b.' -o "my file.svg""#)
                .unwrap(),
            [
                "haftar",
                "--query",
                "find ?a ?b where ?a backed_by ?b.",
                "-o",
                "my file.svg"
            ]
        );
        assert_eq!(split_words(r#""say \"hi\"""#).unwrap(), [r#"say "hi""#]);
        assert_eq!(split_words("''").unwrap(), [""]);
        assert!(split_words("'open").is_err());
    }
}
