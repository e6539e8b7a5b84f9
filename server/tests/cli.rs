//! The command line: bad configuration stops start-up naming the key; usage errors exit 2;
//! every command says which database it uses and only `serve` and `migrate` create one.

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
    let (code, _, err) = copse(&["migrate"], &env);
    assert_eq!(code, 0, "{err}");
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

/// A temporary SQLite URL and the environment that points `copse` at it.
struct Sqlite {
    dir: tempfile::TempDir,
    url: String,
}

impl Sqlite {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
        Self { dir, url }
    }

    fn env(&self) -> [(&str, &str); 2] {
        [
            ("COPSE__DATABASE__URL", self.url.as_str()),
            ("COPSE__LOG", "warn"),
        ]
    }

    fn file(&self) -> std::path::PathBuf {
        self.dir.path().join("c.db")
    }
}

#[test]
fn commands_other_than_serve_and_migrate_do_not_create_a_database() {
    let db = Sqlite::new();
    for args in [
        &["user", "list"][..],
        &["user", "create", "ana"],
        &["community", "list"],
        &["domain", "block", "evil.example"],
        &["worker"],
    ] {
        let (code, out, err) = copse(args, &db.env());
        assert_eq!(code, 1, "{args:?}: {out} {err}");
        assert_eq!(
            err.lines().next().unwrap(),
            format!("copse: database {}", db.url),
            "{args:?}"
        );
        assert!(err.contains("copse migrate"), "{args:?}: {err}");
        assert!(!db.file().exists(), "{args:?} created the database");
    }
    // An empty file is no Copse database either, and is not filled.
    std::fs::write(db.file(), b"").unwrap();
    for _ in 0..2 {
        let (code, _, err) = copse(&["domain", "list"], &db.env());
        assert_eq!(code, 1);
        assert!(err.contains("no Copse tables"), "{err}");
    }
    std::fs::remove_file(db.file()).unwrap();
    let (code, out, err) = copse(&["migrate"], &db.env());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.starts_with(&format!("copse: database {}", db.url)),
        "{err}"
    );
    assert!(out.contains("migrations applied"), "{out}");
    let (code, out, err) = copse(&["user", "list"], &db.env());
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "NAME  ADMIN  CREATED (UTC)  ID");
}

#[tokio::test]
async fn an_empty_postgresql_schema_is_not_filled_by_commands() {
    let Some(base) = std::env::var("COPSE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("skipped: COPSE_TEST_DATABASE_URL is not set");
        return;
    };
    use sea_orm::ConnectionTrait;
    let mut b = [0u8; 6];
    openssl::rand::rand_bytes(&mut b).unwrap();
    let schema = format!(
        "t_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    );
    let admin = sea_orm::Database::connect(&base).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let env = [
        ("COPSE__DATABASE__URL", url.as_str()),
        ("COPSE__LOG", "warn"),
    ];
    let (code, _, err) = copse(&["user", "create", "ana"], &env);
    assert_eq!(code, 1);
    assert!(err.contains("no Copse tables"), "{err}");
    let tables = admin
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'"
            ),
        ))
        .await
        .unwrap();
    assert!(tables.is_empty(), "a command created tables");
    let (code, _, err) = copse(&["migrate"], &env);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = copse(&["user", "create", "ana"], &env);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().last().unwrap().len(), 64);
}

#[test]
fn help_for_every_command_and_the_version() {
    let (code, out, _) = copse(&["--version"], &[]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("copse {}", env!("CARGO_PKG_VERSION")));
    for (args, wants) in [
        (&["--help"][..], "domain blocks"),
        (&["help"], "community"),
        (&["user", "--help"], "user token NAME"),
        (&["user", "help"], "user list"),
        (&["help", "user"], "old one stops working"),
        (&["community", "--help"], "community list"),
        (&["domain", "help"], "domain unblock DOMAIN"),
        (&["domain", "--help"], "not its subdomains"),
        (&["serve", "--help"], "SIGTERM"),
        (&["worker", "--help"], "PostgreSQL"),
        (&["migrate", "--help"], "pending migrations"),
    ] {
        let (code, out, err) = copse(args, &[]);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains(wants), "{args:?}: {out}");
    }
    // A group without a subcommand is a usage error that shows the group's help.
    let (code, _, err) = copse(&["domain"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("needs a subcommand"), "{err}");
    assert!(err.contains("domain block DOMAIN"), "{err}");
}

#[tokio::test]
async fn user_token_replaces_the_old_token_and_lists_show_what_exists() {
    let db = Sqlite::new();
    let env = db.env();
    assert_eq!(copse(&["migrate"], &env).0, 0);
    let (code, out, err) = copse(&["user", "create", "ana", "--admin"], &env);
    assert_eq!(code, 0, "{err}");
    let old = out.lines().last().unwrap().to_string();
    assert_eq!(copse(&["user", "create", "bo"], &env).0, 0);
    let (code, out, err) = copse(
        &[
            "community",
            "create",
            "net",
            "--title",
            "London Networks",
            "--owner",
            "ana",
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("net"), "{out}");

    let (code, out, err) = copse(&["user", "token", "ana"], &env);
    assert_eq!(code, 0, "{err}");
    let new = out.lines().last().unwrap().to_string();
    assert_eq!(new.len(), 64);
    assert_ne!(new, old);
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let by = |t: String| {
        let conn = conn.clone();
        async move {
            copse_server::accounts::user_by_token(&conn, &t)
                .await
                .unwrap()
                .map(|(_, p)| p.name)
        }
    };
    assert_eq!(by(new).await.as_deref(), Some("ana"));
    assert_eq!(by(old).await, None, "the old token still works");
    let (code, _, err) = copse(&["user", "token", "nobody"], &env);
    assert_eq!(code, 1);
    assert!(err.contains("no local user named nobody"), "{err}");

    let (code, out, _) = copse(&["user", "list"], &env);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("NAME"), "{out}");
    assert!(
        lines[1].starts_with("ana ") && lines[1].contains(" yes "),
        "{out}"
    );
    assert!(lines[1].ends_with("/u/ana"), "{out}");
    assert!(
        lines[2].starts_with("bo ") && lines[2].contains(" no "),
        "{out}"
    );

    let (code, out, _) = copse(&["community", "list"], &env);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells[..3], ["net", "1", "open"], "{out}");
    assert!(lines[1].ends_with("London Networks"), "{out}");
}

#[test]
fn domain_blocks_are_listed_and_lifted() {
    let db = Sqlite::new();
    let env = db.env();
    assert_eq!(copse(&["migrate"], &env).0, 0);
    let (code, out, err) = copse(&["domain", "block", "Evil.Example"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("evil.example blocked"), "{out}");
    let (code, out, _) = copse(&["domain", "block", "https://evil.example/@x"], &env);
    assert_eq!(code, 0);
    assert!(out.contains("already blocked"), "{out}");
    assert_eq!(copse(&["domain", "block", "spam.example:8443"], &env).0, 0);
    let (_, out, _) = copse(&["domain", "list"], &env);
    assert_eq!(out, "evil.example\nspam.example:8443\n");
    let (code, out, err) = copse(&["domain", "unblock", "evil.example"], &env);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "evil.example unblocked");
    let (code, _, err) = copse(&["domain", "unblock", "evil.example"], &env);
    assert_eq!(code, 1);
    assert!(err.contains("not blocked"), "{err}");
    let (_, out, _) = copse(&["domain", "list"], &env);
    assert_eq!(out, "spam.example:8443\n");
    let (code, _, err) = copse(&["domain", "block", "ana@evil.example"], &env);
    assert_eq!(code, 1);
    assert!(err.contains("not a domain"), "{err}");
}
