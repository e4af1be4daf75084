//! Selectors (`NAME`, `tag:T`, an address or prefix, `any`), one per line, resolved
//! against a small fixed model: the bundled policies. Any error is fine; a panic is not.

#![no_main]

use std::sync::OnceLock;

use cordon::model::Model;
use libfuzzer_sys::fuzz_target;

/// The bundled policies: nested groups, tags, IPv4 ranges and `internet`, loaded once.
fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let files = [
            (
                "credentials.yaml",
                include_str!("../../policies/credentials.yaml"),
            ),
            ("estate.yaml", include_str!("../../policies/estate.yaml")),
            ("flows.yaml", include_str!("../../policies/flows.yaml")),
            (
                "invariants.yaml",
                include_str!("../../policies/invariants.yaml"),
            ),
        ];
        let files = files
            .iter()
            .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
            .collect();
        match cordon::policy::model_from_files(files) {
            Ok(model) => model,
            Err(problems) => panic!("the bundled policies must load: {problems:?}"),
        }
    })
}

fuzz_target!(|text: &str| {
    let selectors: Vec<String> = text.lines().map(str::to_owned).collect();
    let _ = cordon::resolve::select(model(), &selectors);
});
