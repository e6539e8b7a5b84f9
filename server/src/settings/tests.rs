use super::*;

fn defaults_toml() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/defaults.toml"
    ))
    .unwrap()
}

#[test]
fn defaults_toml_matches_the_code() {
    let text = defaults_toml();
    assert_eq!(Settings::from_toml(&text).unwrap(), Settings::default());
    // Every key the code knows is written in the file, and no other.
    let written: toml::Table = text.parse().unwrap();
    let known = toml::Table::try_from(Settings::default()).unwrap();
    fn keys(t: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in t {
            let key = format!("{prefix}{k}");
            match v {
                toml::Value::Table(inner) => keys(inner, &format!("{key}."), out),
                _ => out.push(key),
            }
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    keys(&written, "", &mut a);
    keys(&known, "", &mut b);
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn production_example_is_valid_and_not_debug() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/production.example.toml"
    ))
    .unwrap();
    let s = Settings::from_toml(&text).unwrap();
    assert!(!s.federation.debug);
}

fn key_of(e: ConfigError) -> String {
    match e {
        ConfigError::Key { key, .. } => key,
        other => panic!("expected a key error, got {other}"),
    }
}

#[test]
fn unknown_keys_and_bad_values_name_the_key() {
    assert_eq!(
        key_of(Settings::from_toml("domian = \"x\"").unwrap_err()),
        "domian"
    );
    assert_eq!(
        key_of(Settings::from_toml("[federation]\nspeed = 3").unwrap_err()),
        "federation.speed"
    );
    assert_eq!(
        key_of(Settings::from_toml("[federation]\ndebug = \"yes\"").unwrap_err()),
        "federation.debug"
    );
    assert_eq!(
        key_of(Settings::from_toml("bind = \"nowhere\"").unwrap_err()),
        "bind"
    );
    assert_eq!(
        key_of(Settings::from_toml("domain = \"https://x.org/\"").unwrap_err()),
        "domain"
    );
    assert_eq!(
        key_of(Settings::from_toml("[database]\nurl = \"mysql://x\"").unwrap_err()),
        "database.url"
    );
    assert_eq!(
        key_of(Settings::from_toml("[federation]\nmax_attempts = 0").unwrap_err()),
        "federation.max_attempts"
    );
    assert_eq!(
        key_of(Settings::from_toml("[http]\nbody_read_timeout_seconds = 0").unwrap_err()),
        "http.body_read_timeout_seconds"
    );
    assert_eq!(
        key_of(Settings::from_toml("[http]\ninbox_requests_per_client = 0").unwrap_err()),
        "http.inbox_requests_per_client"
    );
    assert_eq!(
        key_of(Settings::from_toml("[http]\nclient_address_header = \"a b\"").unwrap_err()),
        "http.client_address_header"
    );
    let msg = Settings::from_toml("[database]\nurl = \"mysql://x\"")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("database.url"), "{msg}");
}

#[test]
fn environment_overrides_file_and_names_bad_keys() {
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    let s = Settings::load_with_env(
        None,
        env(&[
            ("COPSE__DOMAIN", "copse.example.org"),
            ("COPSE__BIND", "0.0.0.0:9000"),
            ("COPSE__DATABASE__URL", "postgres://u@h/db"),
            ("COPSE__FEDERATION__DEBUG", "true"),
            ("COPSE__FEDERATION__DELIVERY_WORKERS", "4"),
            ("OTHER", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(s.domain, "copse.example.org");
    assert_eq!(s.bind.port(), 9000);
    assert_eq!(s.database.url, "postgres://u@h/db");
    assert!(s.federation.debug);
    assert_eq!(s.federation.delivery_workers, 4);
    let e =
        Settings::load_with_env(None, env(&[("COPSE__FEDERATION__DEBUG", "maybe")])).unwrap_err();
    assert_eq!(key_of(e), "federation.debug");
    let e = Settings::load_with_env(None, env(&[("COPSE__NOPE", "1")])).unwrap_err();
    assert_eq!(key_of(e), "nope");
}

#[test]
fn an_unset_domain_follows_the_listening_port() {
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    let s = Settings::load_with_env(None, env(&[("COPSE__BIND", "127.0.0.1:9123")])).unwrap();
    assert_eq!(s.domain, "localhost:9123");
    assert_eq!(s.federation_settings().domain, "localhost:9123");
    let s = Settings::load_with_env(None, env(&[])).unwrap();
    assert_eq!(s, Settings::default());
    // A domain given is kept, with a warning when it names this machine on another port.
    let s = Settings::load_with_env(
        None,
        env(&[
            ("COPSE__BIND", "127.0.0.1:9123"),
            ("COPSE__DOMAIN", "localhost:3000"),
        ]),
    )
    .unwrap();
    assert_eq!(s.domain, "localhost:3000");
    assert!(s.domain_warning(s.bind).unwrap().contains("9123"));
    let public = Settings::from_toml("domain = \"copse.example.org\"").unwrap();
    assert_eq!(public.domain_warning(public.bind), None);
    assert_eq!(
        key_of(
            Settings::from_toml(
                "bind = \"127.0.0.1:9000\"\n[metrics]\nenabled = true\nbind = \"127.0.0.1:9000\""
            )
            .unwrap_err()
        ),
        "metrics.bind"
    );
}
