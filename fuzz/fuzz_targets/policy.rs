//! A policy file, as YAML and as JSON: the whole path a file takes (classify, parse,
//! resolve) and then `check`, which builds the graph and runs the engine.

#![no_main]

use cordon::date::Date;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // The same bytes under both names: JSON is YAML, so every JSON seed also exercises
    // the YAML reader, and the file name is what picks the parser.
    for name in ["fuzz.yaml", "fuzz.json"] {
        let files = vec![(name.to_owned(), bytes.to_vec())];
        if let Ok(model) = cordon::policy::model_from_files(files) {
            // A fixed day, so that a run is reproducible from its input alone.
            let today = Date::from_ymd(2025, 1, 1).unwrap();
            let _ = cordon::check::check(&model, today);
        }
    }
});
