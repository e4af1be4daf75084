//! `check` answers invariants whose starts share a credential fixpoint with one walk;
//! here, on random models with many invariants sharing starts, its report must equal
//! the one of every invariant searched alone (`check_each_alone`, the oracle), to the
//! byte: verdicts, messages, witnesses, acquisitions and exception notes.

use cordon::check::{check, check_each_alone};
use cordon::policy::model_from_text;
use proptest::prelude::*;

use crate::reference::{PORTS, Rng, random_estate};

/// A random end of an invariant: one entity, two (several outermost entities, each with
/// its own fixpoint), a tag, or `any`.
fn random_end(rng: &mut Rng, names: &[String]) -> String {
    let one = |rng: &mut Rng| names[rng.below(names.len())].clone();
    match rng.below(10) {
        0..=5 => one(rng),
        6 | 7 => format!("[{}, {}]", one(rng), one(rng)),
        8 => format!("tag:t{}", rng.below(2)),
        _ => "any".to_owned(),
    }
}

fn compare_grouped(seed: u64) {
    let mut rng = Rng(seed | 1);
    let (yaml, count) = random_estate(&mut rng);
    let names: Vec<String> = (0..count)
        .map(|i| format!("e{i}"))
        .chain(["internet".to_owned()])
        .collect();
    // Few starts for many invariants, so that most share a fixpoint or a start.
    let starts: Vec<String> = (0..3).map(|_| random_end(&mut rng, &names)).collect();
    let mut invariants = String::from("invariants:\n");
    let mut exceptions = String::new();
    let mut kept = 0;
    for n in 0..24 {
        let from = &starts[rng.below(starts.len())];
        let to = random_end(&mut rng, &names);
        let port = if rng.chance(40) {
            format!(", ports: [{}]", PORTS[rng.below(PORTS.len())])
        } else {
            String::new()
        };
        let direct = if rng.chance(20) { ", direct: true" } else { "" };
        let rule = match rng.below(10) {
            0..=5 => format!("forbid: {{from: {from}, to: {to}{port}{direct}}}"),
            6..=8 => format!("require: {{from: {from}, to: {to}{port}{direct}}}"),
            _ => {
                let via = random_end(&mut rng, &names);
                format!("through: {{from: {from}, to: {to}, via: {via}}}")
            }
        };
        let line = format!("  - {{name: i{n}, {rule}}}\n");
        // Ends that overlap, or select nothing, are input errors: leave them out.
        if model_from_text("one.yaml", &format!("{yaml}invariants:\n{line}")).is_err() {
            continue;
        }
        invariants.push_str(&line);
        kept += 1;
        if rng.chance(15) {
            let expires = if rng.chance(50) {
                "2030-01-01"
            } else {
                "2020-01-01"
            };
            exceptions.push_str(&format!(
                "  - {{invariant: i{n}, reason: r, owner: o, expires: {expires}}}\n"
            ));
        }
    }
    if kept == 0 {
        return;
    }
    let exceptions = if exceptions.is_empty() {
        exceptions
    } else {
        format!("exceptions:\n{exceptions}")
    };
    let full = format!("{yaml}{invariants}{exceptions}");
    let model = model_from_text("random.yaml", &full).unwrap_or_else(|p| panic!("{full}\n{p:#?}"));
    let today = "2024-01-01".parse().unwrap();
    let grouped = check(&model, today);
    let alone = check_each_alone(&model, today);
    assert_eq!(grouped, alone, "\n{full}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::harness::oracle_cases()))]

    #[test]
    fn grouped_check_equals_each_invariant_alone(seed in any::<u64>()) {
        compare_grouped(seed);
    }
}
