//! The command line: bad configuration stops start-up naming the key; usage errors exit 2.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn copse(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_copse"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run copse");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_configuration_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "domain = \"x.example\"\n[federation]\ndebugg = true\n",
    )
    .unwrap();
    let (code, _, err) = copse(&["--config", file.to_str().unwrap(), "migrate"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("federation.debugg"), "{err}");
    let (code, _, err) = copse(&["migrate"], &[("COPSE__BIND", "not-an-address")]);
    assert_eq!(code, 2);
    assert!(err.contains("`bind`"), "{err}");
    let (code, _, err) = copse(&["frobnicate"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown command"), "{err}");
}

#[test]
fn user_create_prints_the_token_last() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let env = [
        ("COPSE__DATABASE__URL", url.as_str()),
        ("COPSE__LOG", "warn"),
    ];
    let (code, out, err) = copse(&["user", "create", "ana", "--admin"], &env);
    assert_eq!(code, 0, "{err}");
    let token = out.lines().last().unwrap();
    assert_eq!(token.len(), 64);
    let (code, out, err) = copse(
        &[
            "community",
            "create",
            "net",
            "--title",
            "Networks",
            "--owner",
            "ana",
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("net"), "{out}");
    let (code, _, err) = copse(&["community", "create", "ana", "--title", "Clash"], &env);
    assert_eq!(code, 1);
    assert!(err.contains("taken"), "{err}");
    let (code, out, err) = copse(
        &[
            "community",
            "update",
            "net",
            "--policy",
            "approval",
            "--rules",
            "Be kind.",
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Approval"), "{out}");
    let (code, _, err) = copse(&["community", "update", "net", "--policy", "secret"], &env);
    assert_eq!(code, 2);
    assert!(err.contains("--policy"), "{err}");
    let (code, _, err) = copse(
        &["community", "update", "net", "--languages", "en; DROP"],
        &env,
    );
    assert_eq!(code, 1);
    assert!(err.contains("languages"), "{err}");
}
