//! Hostile input: whatever the bytes, cordon answers with exit 2 and a located message,
//! promptly, and never panics.

use crate::harness::Cordon;

#[track_caller]
fn rejects(name: &str, contents: impl AsRef<[u8]>) -> String {
    let out = Cordon::new()
        .file(name, contents)
        .args(["check", name])
        .run();
    out.code(2);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(out.stderr.starts_with(name), "{}", out.stderr);
    out.stderr
}

#[test]
fn an_alias_bomb_is_refused() {
    // Nine levels of ten aliases each would expand to a billion nodes.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let prev = level - 1;
        let refs = vec![format!("*a{prev}"); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
    }
    let text = format!("assets:\n  - name: x\n    tags: *a9\n{text}");
    rejects("bomb.yaml", text);
}

#[test]
fn a_megabyte_alias_bomb_that_fits_the_schema_is_refused() {
    let mut text = String::from("assets:\n  - &a {name: a, tags: [t, t, t, t, t, t, t, t]}\n");
    while text.len() < 1 << 20 {
        text.push_str("  - *a\n");
    }
    rejects("wide.yaml", text);
}

#[test]
fn deep_nesting_is_refused() {
    let depth = 100_000;
    rejects(
        "deep.yaml",
        format!("flows: {}{}", "[".repeat(depth), "]".repeat(depth)),
    );
    rejects(
        "deep.json",
        format!("{{\"flows\": {}{}}}", "[".repeat(depth), "]".repeat(depth)),
    );
    rejects(
        "block.yaml",
        format!(
            "assets:\n{}",
            (1..2000)
                .map(|i| format!("{}- a\n", " ".repeat(i * 2)))
                .collect::<String>()
        ),
    );
}

/// A file that is no policy is skipped with a note, whatever is in it.
#[track_caller]
fn skips(name: &str, contents: impl AsRef<[u8]>) {
    let out = Cordon::new()
        .file(name, contents)
        .args(["check", name, "--verbose"])
        .run();
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("note: skipped `{name}`: not a cordon policy")),
        "{}",
        out.stderr
    );
}

#[test]
fn bytes_that_are_not_utf8_are_refused() {
    let stderr = rejects("latin1.yaml", b"assets:\n  - name: caf\xe9\n".as_slice());
    assert!(stderr.contains("UTF-8"), "{stderr}");
    rejects("binary.json", [0xff_u8, 0xfe, 0x00, 0x01]);
}

#[test]
fn a_list_where_a_map_belongs_is_refused() {
    rejects("map.yaml", "assets: {name: a}\n");
    rejects("flows.json", "{\"flows\": {\"from\": \"a\"}}");
    // Documents that are not mappings are no policy at all.
    skips("list.yaml", "- assets\n- flows\n");
    skips("scalar.yaml", "just a string\n");
    skips("number.json", "[1, 2, 3]");
    skips(
        "block.yaml",
        (0..2000)
            .map(|i| format!("{}- a\n", " ".repeat(i * 2)))
            .collect::<String>(),
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused_unread() {
    let run = Cordon::new().args(["check", "huge.yaml"]);
    let file = std::fs::File::create(run.dir().join("huge.yaml")).unwrap();
    // A sparse file: big on paper, nothing on disk.
    file.set_len(cordon::load::MAX_FILE_BYTES + 1).unwrap();
    let out = run.run();
    out.code(2);
    assert!(out.stderr.contains("over the limit"), "{}", out.stderr);
}

#[test]
fn a_storm_of_document_separators_is_harmless() {
    let out = Cordon::new()
        .file("storm.yaml", "---\n".repeat(250_000))
        .args(["check", "storm.yaml"])
        .run();
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let storm = format!("{}assets: [{{name: a}}]\n", "---\n".repeat(250_000));
    let out = Cordon::new()
        .file("storm.yaml", storm)
        .args(["reach", "storm.yaml", "--from", "a"])
        .run();
    out.code(0);
}

#[test]
fn a_bad_document_among_good_ones_is_refused_at_its_line() {
    let stderr = rejects(
        "multi.yaml",
        "assets:\n  - name: a\n---\nassets:\n  - name: b\n    tagz: []\n",
    );
    assert!(
        stderr.starts_with("multi.yaml:6:5: error: unknown key `tagz`"),
        "{stderr}"
    );
}
