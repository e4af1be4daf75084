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
    // A UTF-16 mark before bytes that are no UTF-16 text: an odd byte out.
    let stderr = rejects("binary.json", [0xff_u8, 0xfe, 0x00, 0x01, 0x02]);
    assert!(stderr.contains("not valid UTF-16"), "{stderr}");
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

/// A chain of `depth` nested entities as JSON: two accounts, then segments each inside
/// the one before, an asset at the bottom that reaches a host outside, and `internet`
/// reaching the top. Every walk of the containment tree goes the whole way down.
fn nested_chain(depth: usize) -> String {
    let mut text = String::with_capacity(depth * 40);
    text.push_str(
        r#"{"accounts": [{"name": "e0", "cidrs": ["10.0.0.0/8"]}, {"name": "e1", "in": "e0"}],"#,
    );
    text.push_str(r#" "segments": ["#);
    for level in 2..depth {
        if level > 2 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"name": "e{level}", "in": "e{}"}}"#,
            level - 1
        ));
    }
    text.push_str(&format!(
        r#"], "assets": [{{"name": "bottom", "in": "e{}"}}, {{"name": "outside", "cidrs": ["192.168.1.1"]}}],"#,
        depth - 1
    ));
    text.push_str(
        r#" "flows": [{"from": "bottom", "to": "outside"}, {"from": "internet", "to": "e0"}],
            "invariants": [{"name": "isolated", "forbid": {"from": "internet", "to": "outside"}}]}"#,
    );
    text
}

#[test]
fn a_million_nested_levels_are_walked_without_recursion() {
    use cordon::model::EntityKind;
    use cordon::render;

    // The test thread's stack is small (2 MiB), so any walk that recursed once per level
    // would overflow here long before a million.
    let depth = 1_000_000;
    let model = cordon::policy::model_from_text("deep.json", &nested_chain(depth)).unwrap();
    let today = cordon::date::Date::from_ymd(2026, 1, 1).unwrap();

    let report = cordon::check::check(&model, today);
    let text = render::text::check(&report);
    assert!(
        text.contains("internet reaches outside in 2 hops"),
        "{text}"
    );

    let matrix = cordon::matrix::matrix(&model, EntityKind::Account, false);
    assert_eq!(matrix.entities, ["e0", "e1"]);
    assert!(matrix.cells.is_empty(), "the two accounts overlap");

    let picture = cordon::picture::picture(&model, &Default::default());
    assert_eq!(
        picture.nodes.len(),
        depth + 3,
        "the chain, two assets and internet"
    );
    let dot = render::dot::model(&picture);
    let mermaid = render::mermaid::model(&picture);
    // Linear in the depth: indentation stops growing, so the text does not grow with
    // the square of it.
    assert!(dot.len() < 400 * depth && mermaid.len() < 400 * depth);
    let collapsed = cordon::picture::picture(
        &model,
        &cordon::picture::Options {
            level: Some(EntityKind::Account),
            ..Default::default()
        },
    );
    assert_eq!(collapsed.nodes.len(), 4, "e0, e1, outside and internet");
}

#[test]
fn every_command_survives_deep_nesting() {
    // Through the binary, whose main thread has the usual 8 MiB: 100,000 levels crashed
    // `check`, `evidence`, `matrix` and `graph` when their walks recursed.
    let run = Cordon::new().file("deep.json", nested_chain(100_000));
    let commands: [&[&str]; 9] = [
        &["check", "deep.json"],
        &["reach", "deep.json", "--from", "internet"],
        &["path", "deep.json", "--from", "internet", "--to", "outside"],
        &["matrix", "deep.json"],
        &["graph", "deep.json"],
        &["graph", "deep.json", "--format", "mermaid"],
        &["graph", "deep.json", "--format", "json"],
        &["graph", "deep.json", "--format", "text"],
        &["evidence", "deep.json", "--out", "bundle"],
    ];
    for args in commands {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let out = crate::harness::run_in(run.dir(), &args, &[]);
        assert!(
            out.code == 0 || out.code == 1,
            "{args:?}: exit {}\n{}",
            out.code,
            out.stderr
        );
    }
}

#[test]
fn a_flow_that_allows_no_port_warns_and_the_run_goes_on() {
    let policy =
        "assets:\n  - name: a\n  - name: b\nflows:\n  - from: a\n    to: b\n    ports: []\n";
    let out = Cordon::new()
        .file("p.yaml", policy)
        .args(["check", "p.yaml", "--allow-empty"])
        .run();
    out.code(0);
    assert!(
        out.stderr
            .starts_with("p.yaml:7:12: warning: `ports: []` allows no port"),
        "{}",
        out.stderr
    );
    let denied = Cordon::new()
        .file("p.yaml", policy)
        .args(["check", "p.yaml", "--deny-warnings"])
        .run();
    denied.code(2);
    assert!(
        denied.stderr.contains("p.yaml:7:12: error: `ports: []`"),
        "{}",
        denied.stderr
    );
}
