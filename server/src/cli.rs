//! The command line: what each command takes, and the help for each.

use copse_server::accounts::CommunitySettings;
use std::path::PathBuf;

/// The help of `copse` itself.
pub const USAGE: &str = "\
usage: copse [--config FILE] COMMAND

commands:
  serve             run the server (HTTP and queue workers)
  worker            run only the queue workers (PostgreSQL deployments)
  migrate           create the database or apply pending migrations, and exit
  user              local accounts: create, token, list
  community         communities: create, update, list
  domain            domain blocks: block, unblock, list
  help [COMMAND]    this help, or a command's

options:
  -c, --config FILE   read this TOML file over the built-in defaults
  -h, --help          this help; after a command, that command's
  -V, --version       print the version

Every command prints the database it uses on stderr. Commands other than serve and
migrate need a database that one of those two has set up.
Configuration: config/defaults.toml lists every key; COPSE__SECTION__KEY overrides any of them.";

const SERVE: &str = "\
usage: copse [--config FILE] serve

Serves HTTP (ActivityPub, REST API, HTML pages, calendars) on `bind` and runs the queue
workers of [federation]; with [metrics] enabled, also /metrics on its own address. Creates the
database and applies pending migrations first. Stops on Ctrl-C or SIGTERM.";

const WORKER: &str = "\
usage: copse [--config FILE] worker

Runs only the delivery and inbox workers (and the event reminders), with no HTTP listener
besides /metrics when [metrics] is enabled. Start as many as you like next to `copse serve`
on one PostgreSQL database.";

const MIGRATE: &str = "\
usage: copse [--config FILE] migrate

Creates the database (a SQLite file and its folder) if needed, applies pending migrations, and
exits.";

const USER: &str = "\
usage: copse user create NAME [--admin]
       copse user token NAME
       copse user list

  create NAME [--admin]   create a local account (an instance admin with --admin);
                          prints its actor id, then its API token on the last line
  token NAME              give NAME a new API token and print it; the old one stops working
  list                    list local accounts: name, admin, created, actor id

NAME is 1 to 30 lower-case letters, digits or _.";

const COMMUNITY: &str = "\
usage: copse community create NAME --title TITLE [--summary TEXT] [--owner USER]
       copse community update NAME [OPTIONS]
       copse community list

  create NAME --title TITLE [--summary MD] [--owner USER]
                          create a community; --owner names a local user, its first coordinator
  update NAME [--title T] [--summary MD] [--purpose MD] [--rules MD] [--decisions MD]
              [--languages TAGS] [--policy open|approval|invite] [--welcome TEXT]
              [--welcome-mode public|direct|off] [--topics anyone|members|coordinators]
              [--replies anyone|members|coordinators] [--parent NAME|\"\"]
              [--parent-members-only true|false]
                          change a community's settings; --parent places it under another
                          local community (\"\" for none)
  list                    list local communities: name, members, membership, title";

const DOMAIN: &str = "\
usage: copse domain block DOMAIN
       copse domain unblock DOMAIN
       copse domain list

  block DOMAIN     block a domain, at once in every process on this database: its inbox
                   requests get 403, nothing is fetched from it, deliveries to it (queued
                   ones too) are given up, and its activities not yet applied are dropped
  unblock DOMAIN   lift the block (deliveries given up stay given up)
  list             list blocked domains

DOMAIN is host[:port] as in its actors' ids, e.g. social.example; a URL on it works too.
A block covers that host only, not its subdomains.";

/// The help of a command, by its first word.
fn help_of(command: &str) -> Option<&'static str> {
    Some(match command {
        "serve" => SERVE,
        "worker" => WORKER,
        "migrate" => MIGRATE,
        "user" => USER,
        "community" => COMMUNITY,
        "domain" => DOMAIN,
        _ => return None,
    })
}

/// A command line that cannot be run: what is wrong, and the help to show with it.
#[derive(Debug)]
pub struct Usage {
    /// What is wrong.
    pub message: String,
    /// The help of the command at fault.
    pub help: &'static str,
}

fn usage(message: impl Into<String>, help: &'static str) -> Usage {
    Usage {
        message: message.into(),
        help,
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Print this help and stop.
    Help(&'static str),
    /// Print the version and stop.
    Version,
    /// Run a command with the configuration file given, if any.
    Run(Option<PathBuf>, Command),
}

/// A command to run.
#[derive(Debug)]
pub enum Command {
    /// `serve`
    Serve,
    /// `worker`
    Worker,
    /// `migrate`
    Migrate,
    /// `user create`
    UserCreate { name: String, admin: bool },
    /// `user token`
    UserToken { name: String },
    /// `user list`
    UserList,
    /// `community create`
    CommunityCreate {
        name: String,
        title: String,
        summary: Option<String>,
        owner: Option<String>,
    },
    /// `community update`
    CommunityUpdate {
        name: String,
        settings: Box<CommunitySettings>,
    },
    /// `community list`
    CommunityList,
    /// `domain block`
    DomainBlock { domain: String },
    /// `domain unblock`
    DomainUnblock { domain: String },
    /// `domain list`
    DomainList,
}

/// Reads the arguments after the program name.
pub fn parse(args: Vec<String>) -> Result<Parsed, Usage> {
    let mut config = None;
    let mut help = false;
    let mut words = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" | "-c" => {
                let file = it
                    .next()
                    .ok_or_else(|| usage("--config needs a file", USAGE))?;
                config = Some(PathBuf::from(file));
            }
            "--help" | "-h" => help = true,
            "--version" | "-V" => return Ok(Parsed::Version),
            _ => words.push(a),
        }
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let unknown = |w: &str| usage(format!("unknown command: {w}"), USAGE);
    match words.as_slice() {
        [] if help => return Ok(Parsed::Help(USAGE)),
        [] => return Err(usage("no command given", USAGE)),
        ["help"] => return Ok(Parsed::Help(USAGE)),
        ["help", first, ..] => return help_of(first).map(Parsed::Help).ok_or(unknown(first)),
        [first, ..] if help => return help_of(first).map(Parsed::Help).ok_or(unknown(first)),
        [first, "help", ..] if help_of(first).is_some() => {
            return help_of(first).map(Parsed::Help).ok_or(unknown(first))
        }
        _ => {}
    }
    Ok(Parsed::Run(config, command(&words)?))
}

fn command(words: &[&str]) -> Result<Command, Usage> {
    let flag_value = |flag: &str, help| -> Result<Option<String>, Usage> {
        match words.iter().position(|w| *w == flag) {
            None => Ok(None),
            Some(i) => words
                .get(i + 1)
                .filter(|v| !v.starts_with("--"))
                .map(|v| Some(v.to_string()))
                .ok_or_else(|| usage(format!("{flag} needs a value"), help)),
        }
    };
    let name_ok = |name: &&str| !name.starts_with("--");
    Ok(match words {
        ["serve"] => Command::Serve,
        ["worker"] => Command::Worker,
        ["migrate"] => Command::Migrate,
        ["user", "create", name, flags @ ..] if name_ok(name) => {
            if let Some(bad) = flags.iter().find(|f| **f != "--admin") {
                return Err(usage(format!("unknown option {bad}"), USER));
            }
            Command::UserCreate {
                name: name.to_string(),
                admin: flags.contains(&"--admin"),
            }
        }
        ["user", "token", name] if name_ok(name) => Command::UserToken {
            name: name.to_string(),
        },
        ["user", "list"] => Command::UserList,
        ["community", "create", name, flags @ ..] if name_ok(name) => {
            let mut i = 0;
            while i < flags.len() {
                match flags[i] {
                    "--title" | "--summary" | "--owner" => i += 2,
                    other => return Err(usage(format!("unknown option {other}"), COMMUNITY)),
                }
            }
            Command::CommunityCreate {
                name: name.to_string(),
                title: flag_value("--title", COMMUNITY)?
                    .ok_or_else(|| usage("community create needs --title", COMMUNITY))?,
                summary: flag_value("--summary", COMMUNITY)?,
                owner: flag_value("--owner", COMMUNITY)?,
            }
        }
        ["community", "update", name, flags @ ..] if name_ok(name) => Command::CommunityUpdate {
            name: name.to_string(),
            settings: Box::new(settings_from_flags(flags)?),
        },
        ["community", "list"] => Command::CommunityList,
        ["domain", "block", domain] => Command::DomainBlock {
            domain: domain.to_string(),
        },
        ["domain", "unblock", domain] => Command::DomainUnblock {
            domain: domain.to_string(),
        },
        ["domain", "list"] => Command::DomainList,
        [first, rest @ ..] => match help_of(first) {
            Some(help) if rest.is_empty() => {
                return Err(usage(format!("{first} needs a subcommand"), help))
            }
            Some(help) => return Err(usage(format!("cannot read: {}", words.join(" ")), help)),
            None => return Err(usage(format!("unknown command: {first}"), USAGE)),
        },
        [] => return Err(usage("no command given", USAGE)),
    })
}

/// Reads `--flag value` pairs into community settings.
fn settings_from_flags(flags: &[&str]) -> Result<CommunitySettings, Usage> {
    let mut s = CommunitySettings::default();
    let mut i = 0;
    while i < flags.len() {
        let value = flags
            .get(i + 1)
            .filter(|v| !v.starts_with("--"))
            .map(|v| v.to_string())
            .ok_or_else(|| usage(format!("{} needs a value", flags[i]), COMMUNITY))?;
        let choice = |what: &str| usage(format!("{} takes one of {what}", flags[i]), COMMUNITY);
        let word = |v: String| serde_json::Value::String(v);
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
                    serde_json::from_value(word(value))
                        .map_err(|_| choice("open, approval, invite"))?,
                )
            }
            "--welcome-mode" => {
                s.welcome_mode = Some(
                    serde_json::from_value(word(value))
                        .map_err(|_| choice("public, direct, off"))?,
                )
            }
            "--topics" => {
                s.topic_policy = Some(
                    serde_json::from_value(word(value))
                        .map_err(|_| choice("anyone, members, coordinators"))?,
                )
            }
            "--replies" => {
                s.reply_policy = Some(
                    serde_json::from_value(word(value))
                        .map_err(|_| choice("anyone, members, coordinators"))?,
                )
            }
            "--parent" => s.parent = Some(value),
            "--parent-members-only" => {
                s.parent_members_only = Some(match value.as_str() {
                    "true" | "yes" => true,
                    "false" | "no" => false,
                    _ => return Err(choice("true, false")),
                })
            }
            other => return Err(usage(format!("unknown option {other}"), COMMUNITY)),
        }
        i += 2;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn run(s: &str) -> (Option<PathBuf>, Command) {
        match parse(words(s)) {
            Ok(Parsed::Run(cfg, cmd)) => (cfg, cmd),
            other => panic!("{s}: {other:?}"),
        }
    }

    fn help(s: &str) -> &'static str {
        match parse(words(s)) {
            Ok(Parsed::Help(h)) => h,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn command_line_is_parsed() {
        let (cfg, cmd) = run("--config x.toml user create ana --admin");
        assert_eq!(cfg, Some(PathBuf::from("x.toml")));
        assert!(matches!(cmd, Command::UserCreate { ref name, admin: true } if name == "ana"));
        let (_, cmd) = run("community create net --title Networks --owner ana");
        assert!(
            matches!(cmd, Command::CommunityCreate { ref title, ref owner, .. } if title == "Networks" && owner.as_deref() == Some("ana"))
        );
        assert!(parse(words("community create net")).is_err());
        let (_, cmd) =
            run("community update net --policy approval --welcome-mode direct --languages en,cy");
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
        assert!(
            matches!(run("user token ana").1, Command::UserToken { ref name } if name == "ana")
        );
        assert!(matches!(run("user list").1, Command::UserList));
        assert!(matches!(run("community list").1, Command::CommunityList));
        assert!(
            matches!(run("domain block evil.example").1, Command::DomainBlock { ref domain } if domain == "evil.example")
        );
        assert!(matches!(
            run("domain unblock evil.example").1,
            Command::DomainUnblock { .. }
        ));
        assert!(matches!(run("domain list").1, Command::DomainList));
        assert!(parse(words("domain block")).is_err());
        assert!(parse(words("user token")).is_err());
    }

    #[test]
    fn every_command_has_its_help() {
        assert_eq!(help("--help"), USAGE);
        assert_eq!(help("help"), USAGE);
        assert_eq!(help("user --help"), USER);
        assert_eq!(help("user help"), USER);
        assert_eq!(help("help user"), USER);
        assert_eq!(help("user create --help"), USER);
        assert_eq!(help("domain help"), DOMAIN);
        assert_eq!(help("-h community"), COMMUNITY);
        assert_eq!(help("serve --help"), SERVE);
        assert_eq!(help("worker help"), WORKER);
        assert_eq!(help("help migrate"), MIGRATE);
        assert!(matches!(parse(words("--version")), Ok(Parsed::Version)));
        assert!(matches!(parse(words("-V")), Ok(Parsed::Version)));
        // A group without its subcommand shows the group's help with the error.
        let e = parse(words("domain")).unwrap_err();
        assert_eq!(e.help, DOMAIN);
        assert!(e.message.contains("subcommand"), "{}", e.message);
        let e = parse(words("help frobnicate")).unwrap_err();
        assert!(e.message.contains("unknown command"), "{}", e.message);
    }
}
