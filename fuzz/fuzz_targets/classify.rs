//! The document classifier, which scans every YAML and JSON file of a repository before
//! any parser sees it, and the blanking that hands a parser only its own documents.

#![no_main]

use cordon::classify::{self, DocumentKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = classify::json_kind(text);
    let documents = classify::yaml_documents(text);
    // Documents come in order and never overlap, each within the text.
    let lines = text.split('\n').count();
    let mut after = 0;
    for document in &documents {
        assert!(document.first_line > after, "{documents:?}");
        assert!(
            document.last_line + 1 >= document.first_line,
            "{documents:?}"
        );
        assert!(document.last_line <= lines, "{documents:?}");
        after = document.last_line;
    }
    // Blanking keeps every line where it was, so that a parser's positions stay true.
    for kind in [DocumentKind::Policy, DocumentKind::Kubernetes] {
        let kept = classify::keep_only(text, &documents, &[kind]);
        assert_eq!(kept.split('\n').count(), lines);
    }
});
