//! A generated estate of a few thousand flows: its verdicts, witnesses and reach answers
//! are pinned, so that an optimisation cannot change a result unnoticed.

use cordon::synth::{self, Format, Options};

use crate::harness::run_in;

fn generated(format: Format) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    synth::generate(&Options {
        scale: 0.05,
        out: dir.path().to_owned(),
        format,
        seed: 7,
        flow_files: 3,
    })
    .unwrap();
    dir
}

fn run(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    let out = run_in(dir, &args, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn generated_estate_verdicts_are_pinned() {
    let dir = generated(Format::Yaml);
    let check = run(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(
        check["summary"]["failed"], 0,
        "every generated invariant holds"
    );
    insta::assert_json_snapshot!("check", check["results"]);
    let reach = run(
        dir.path(),
        &["reach", ".", "--from", "host-7", "--format", "json"],
    );
    insta::assert_json_snapshot!("reach-from", reach);
    let reach = run(
        dir.path(),
        &["reach", ".", "--to", "host-7", "--format", "json"],
    );
    insta::assert_json_snapshot!("reach-to", reach);
}

#[test]
fn json_and_yaml_give_the_same_verdicts() {
    let yaml = generated(Format::Yaml);
    let json = generated(Format::Json);
    let strip = |mut value: serde_json::Value| {
        // Locations name different files; everything else must agree.
        for result in value["results"].as_array_mut().unwrap() {
            for hop in result["witness"].as_array_mut().unwrap() {
                hop["location"] = serde_json::Value::Null;
            }
            for acquisition in result["acquisitions"].as_array_mut().unwrap() {
                for hop in acquisition["path"].as_array_mut().unwrap() {
                    hop["location"] = serde_json::Value::Null;
                }
            }
        }
        value["results"].take()
    };
    assert_eq!(
        strip(run(yaml.path(), &["check", ".", "--format", "json"])),
        strip(run(json.path(), &["check", ".", "--format", "json"])),
    );
}
