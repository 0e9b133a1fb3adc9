//! `explain` and `explain analyze`: the plan as an indented tree, with estimated rows per
//! operator and, when the query ran, actual rows and time.

use super::exec::StepProfile;
use super::ir::Slot;
use super::plan::{Plan, StepKind};
use rustc_hash::FxHashMap;
use std::fmt::Write;

pub fn render(
    plan: &Plan,
    vars: &[String],
    profile: Option<&FxHashMap<usize, StepProfile>>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan: estimated {} rows, cost {:.0}",
        fmt_rows(plan.rows),
        plan.cost
    );
    steps(plan, vars, profile, 1, &mut out);
    out.truncate(out.trim_end().len());
    out
}

fn fmt_rows(r: f64) -> String {
    if r >= 100.0 || r == 0.0 {
        format!("{r:.0}")
    } else if r >= 1.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.2}")
    }
}

fn var_list(slots: &[Slot], vars: &[String]) -> String {
    slots
        .iter()
        .map(|s| format!("?{}", vars.get(*s).map_or("_", String::as_str)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn steps(
    plan: &Plan,
    vars: &[String],
    profile: Option<&FxHashMap<usize, StepProfile>>,
    depth: usize,
    out: &mut String,
) {
    let indent = "  ".repeat(depth);
    let n = plan.steps.len();
    for (i, step) in plan.steps.iter().enumerate() {
        let what = match &step.kind {
            StepKind::Scan { pat, ranges, text } => {
                let range = match text {
                    Some(t) => format!(" with objects from the text index for {}", t.filter.text),
                    None if ranges.is_empty() => String::new(),
                    None => " with object range pushed into the index".into(),
                };
                if i == 0 && depth == 1 {
                    format!("scan {}{range}", pat.text)
                } else {
                    format!("index lookup {}{range}", pat.text)
                }
            }
            StepKind::HashJoin {
                pat, keys, text, ..
            } => {
                let objects = match text {
                    Some(t) => format!(" with objects from the text index for {}", t.filter.text),
                    None => String::new(),
                };
                format!(
                    "hash join {}{objects} on {}",
                    pat.text,
                    var_list(keys, vars)
                )
            }
            StepKind::Filter(f) => format!("filter {}", f.text),
            StepKind::NotExists { keys, hashed, .. } => {
                if *hashed {
                    format!("not exists (hash anti-join on {})", var_list(keys, vars))
                } else {
                    "not exists (checked per row)".to_string()
                }
            }
            StepKind::Optional { .. } => "optional (left join)".to_string(),
            StepKind::Union { .. } => "or (union of branches)".to_string(),
            StepKind::Nothing { text } => format!("nothing: {text} names something never seen"),
        };
        let mut line = format!(
            "{indent}{}. {what}  [est {} rows, cost {:.0}]",
            i + 1,
            fmt_rows(step.rows),
            step.cost
        );
        if let Some(p) = profile {
            let me = p.get(&step.id).copied().unwrap_or_default();
            // Inclusive time minus the next step's inclusive time is this step's own time.
            let after = plan
                .steps
                .get(i + 1)
                .and_then(|s| p.get(&s.id))
                .map(|x| x.inclusive)
                .unwrap_or_default();
            let own = if i + 1 < n {
                me.inclusive.saturating_sub(after)
            } else {
                me.inclusive
            };
            let _ = write!(
                line,
                "  [actual {}, {:.3} ms]",
                crate::diag::plural(me.rows, "row"),
                own.as_secs_f64() * 1e3
            );
        }
        let _ = writeln!(out, "{line}");
        match &step.kind {
            StepKind::NotExists { plan, .. } | StepKind::Optional { plan } => {
                steps(plan, vars, profile, depth + 1, out)
            }
            StepKind::Union { branches } => {
                for (b, branch) in branches.iter().enumerate() {
                    let _ = writeln!(out, "{indent}  branch {}:", b + 1);
                    steps(branch, vars, profile, depth + 2, out);
                }
            }
            _ => {}
        }
    }
}
