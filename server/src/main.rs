//! The `copse` command.

use copse_server::{
    accounts,
    settings::{ConfigError, Settings},
};
use std::{path::PathBuf, process::ExitCode};

const USAGE: &str = "\
usage: copse [--config FILE] COMMAND

commands:
  serve                                   run the server (HTTP and queue workers)
  worker                                  run only the queue workers (PostgreSQL deployments)
  migrate                                 apply database migrations and exit
  user create NAME [--admin]              create a local account; prints its API token last
  community create NAME --title TITLE [--summary TEXT] [--owner USER]
                                          create a community
  community update NAME [--title T] [--summary MD] [--purpose MD] [--rules MD]
                   [--decisions MD] [--languages TAGS] [--policy open|approval|invite]
                   [--welcome TEXT] [--welcome-mode public|direct|off]
                   [--topics anyone|members|coordinators] [--replies anyone|members|coordinators]
                                          change a community's settings

Configuration: config/defaults.toml lists every key; COPSE__SECTION__KEY overrides any of them.";

/// A command line that cannot be run.
struct Usage(String);

#[derive(Debug)]
enum Command {
    Serve,
    Worker,
    Migrate,
    UserCreate {
        name: String,
        admin: bool,
    },
    CommunityCreate {
        name: String,
        title: String,
        summary: Option<String>,
        owner: Option<String>,
    },
    CommunityUpdate {
        name: String,
        settings: Box<accounts::CommunitySettings>,
    },
}

/// Reads `--flag value` pairs into community settings.
fn settings_from_flags(flags: &[&str]) -> Result<accounts::CommunitySettings, Usage> {
    let mut s = accounts::CommunitySettings::default();
    let mut i = 0;
    while i < flags.len() {
        let value = flags
            .get(i + 1)
            .filter(|v| !v.starts_with("--"))
            .map(|v| v.to_string())
            .ok_or_else(|| Usage(format!("{} needs a value", flags[i])))?;
        let choice = |what: &str| Usage(format!("{} takes one of {what}", flags[i]));
        match flags[i] {
            "--title" => s.title = Some(value),
            "--summary" => s.summary = Some(value),
            "--purpose" => s.purpose = Some(value),
            "--rules" => s.rules = Some(value),
            "--decisions" => s.decision_making = Some(value),
            "--languages" => s.languages = Some(value),
            "--welcome" => s.welcome_template = Some(value),
            "--policy" => {
                s.membership_policy = Some(
                    serde_json::from_value(serde_json::Value::String(value))
                        .map_err(|_| choice("open, approval, invite"))?,
                )
            }
            "--welcome-mode" => {
                s.welcome_mode = Some(
                    serde_json::from_value(serde_json::Value::String(value))
                        .map_err(|_| choice("public, direct, off"))?,
                )
            }
            "--topics" => {
                s.topic_policy = Some(
                    serde_json::from_value(serde_json::Value::String(value))
                        .map_err(|_| choice("anyone, members, coordinators"))?,
                )
            }
            "--replies" => {
                s.reply_policy = Some(
                    serde_json::from_value(serde_json::Value::String(value))
                        .map_err(|_| choice("anyone, members, coordinators"))?,
                )
            }
            other => return Err(Usage(format!("unknown option {other}"))),
        }
        i += 2;
    }
    Ok(s)
}

fn parse(args: Vec<String>) -> Result<(Option<PathBuf>, Command), Usage> {
    let mut config = None;
    let mut rest = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" | "-c" => {
                config = Some(PathBuf::from(
                    it.next()
                        .ok_or_else(|| Usage("--config needs a file".into()))?,
                ));
            }
            "--help" | "-h" | "help" => return Err(Usage(String::new())),
            _ => rest.push(a),
        }
    }
    let words: Vec<&str> = rest.iter().map(String::as_str).collect();
    let flag_value = |flag: &str| -> Result<Option<String>, Usage> {
        match words.iter().position(|w| *w == flag) {
            None => Ok(None),
            Some(i) => words
                .get(i + 1)
                .filter(|v| !v.starts_with("--"))
                .map(|v| Some(v.to_string()))
                .ok_or_else(|| Usage(format!("{flag} needs a value"))),
        }
    };
    let command = match words.as_slice() {
        ["serve"] => Command::Serve,
        ["worker"] => Command::Worker,
        ["migrate"] => Command::Migrate,
        ["user", "create", name, flags @ ..] if !name.starts_with("--") => {
            if let Some(bad) = flags.iter().find(|f| **f != "--admin") {
                return Err(Usage(format!("unknown option {bad}")));
            }
            Command::UserCreate {
                name: name.to_string(),
                admin: flags.contains(&"--admin"),
            }
        }
        ["community", "create", name, flags @ ..] if !name.starts_with("--") => {
            let mut i = 0;
            while i < flags.len() {
                match flags[i] {
                    "--title" | "--summary" | "--owner" => i += 2,
                    other => return Err(Usage(format!("unknown option {other}"))),
                }
            }
            Command::CommunityCreate {
                name: name.to_string(),
                title: flag_value("--title")?
                    .ok_or_else(|| Usage("community create needs --title".into()))?,
                summary: flag_value("--summary")?,
                owner: flag_value("--owner")?,
            }
        }
        ["community", "update", name, flags @ ..] if !name.starts_with("--") => {
            Command::CommunityUpdate {
                name: name.to_string(),
                settings: Box::new(settings_from_flags(flags)?),
            }
        }
        [] => return Err(Usage("no command given".into())),
        other => return Err(Usage(format!("unknown command: {}", other.join(" ")))),
    };
    Ok((config, command))
}

fn init_logging(filter: &str) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| filter.to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let (config, command) = match parse(std::env::args().skip(1).collect()) {
        Ok(p) => p,
        Err(Usage(msg)) => {
            if msg.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("copse: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let settings = match Settings::load(config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("copse: configuration error: {e}");
            if matches!(e, ConfigError::Key { .. }) {
                eprintln!("copse: see config/defaults.toml for every key and its default");
            }
            return ExitCode::from(2);
        }
    };
    init_logging(&settings.log);
    match run(settings, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("copse: {msg}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings, command: Command) -> Result<(), String> {
    match command {
        Command::Migrate => {
            let db = copse_server::db::connect(&settings)
                .await
                .map_err(|e| e.to_string())?;
            copse_server::db::migrate(&db)
                .await
                .map_err(|e| e.to_string())?;
            println!("migrations applied to {}", settings.database.url);
            Ok(())
        }
        Command::Serve => {
            let listener = copse_server::listen(settings.bind)
                .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
            let url = settings.database.url.clone();
            let domain = settings.domain.clone();
            let debug = settings.federation.debug;
            let instance = copse_server::start(settings, listener)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "Copse listening on http://{} (domain {domain}, database {url}{})",
                instance.addr,
                if debug { ", federation debug mode" } else { "" }
            );
            wait_for_shutdown().await;
            instance.stop().await;
            Ok(())
        }
        Command::Worker => {
            let config = copse_server::prepare(&settings)
                .await
                .map_err(|e| e.to_string())?;
            let mut tasks = tokio::task::JoinSet::new();
            copse_server::spawn_workers(&mut tasks, &config, &settings);
            println!("Copse workers running on {}", settings.database.url);
            wait_for_shutdown().await;
            tasks.shutdown().await;
            Ok(())
        }
        Command::UserCreate { name, admin } => {
            let config = copse_server::prepare(&settings)
                .await
                .map_err(|e| e.to_string())?;
            let data = config.to_request_data();
            let (person, token) = accounts::create_user(&data, &name, admin)
                .await
                .map_err(|e| e.message)?;
            println!(
                "created {}{}",
                person.ap_id,
                if admin { " (admin)" } else { "" }
            );
            println!("{token}");
            Ok(())
        }
        Command::CommunityUpdate {
            name,
            settings: new,
        } => {
            let config = copse_server::prepare(&settings)
                .await
                .map_err(|e| e.to_string())?;
            let data = config.to_request_data();
            let c = accounts::local_community(&data.db, &name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no community named {name}"))?;
            let c = accounts::update_community(&data, &c, *new, None)
                .await
                .map_err(|e| match e.field {
                    Some(f) => format!("{f}: {}", e.message),
                    None => e.message,
                })?;
            println!("updated {} (membership {:?})", c.ap_id, c.membership_policy);
            Ok(())
        }
        Command::CommunityCreate {
            name,
            title,
            summary,
            owner,
        } => {
            let config = copse_server::prepare(&settings)
                .await
                .map_err(|e| e.to_string())?;
            let data = config.to_request_data();
            let owner = match owner {
                None => None,
                Some(o) => Some(
                    accounts::local_person(&data.db, &o)
                        .await
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("no local user named {o}"))?
                        .id,
                ),
            };
            let c = accounts::create_community(
                &data,
                accounts::NewCommunity {
                    name,
                    title,
                    summary,
                    owner,
                },
            )
            .await
            .map_err(|e| match e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message,
            })?;
            println!("created {} (@{}@{})", c.ap_id, c.name, settings.domain);
            Ok(())
        }
    }
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn command_line_is_parsed() {
        let (cfg, cmd) = parse(words("--config x.toml user create ana --admin"))
            .ok()
            .unwrap();
        assert_eq!(cfg, Some(PathBuf::from("x.toml")));
        assert!(matches!(cmd, Command::UserCreate { ref name, admin: true } if name == "ana"));
        let (_, cmd) = parse(words("community create net --title Networks --owner ana"))
            .ok()
            .unwrap();
        assert!(
            matches!(cmd, Command::CommunityCreate { ref title, ref owner, .. } if title == "Networks" && owner.as_deref() == Some("ana"))
        );
        assert!(parse(words("community create net")).is_err());
        let (_, cmd) = parse(words(
            "community update net --policy approval --welcome-mode direct --languages en,cy",
        ))
        .ok()
        .unwrap();
        let Command::CommunityUpdate { settings, .. } = cmd else {
            panic!("not an update")
        };
        assert_eq!(
            settings.membership_policy,
            Some(copse_entities::community::MembershipPolicy::Approval)
        );
        assert_eq!(settings.languages.as_deref(), Some("en,cy"));
        assert!(parse(words("community update net --policy secret")).is_err());
        assert!(parse(words("user create ana --root")).is_err());
        assert!(parse(words("launch")).is_err());
    }
}
