//! What each command does. Results go to stdout, one line each (a token on the last line);
//! failures come back as one-line messages for `main` to print.

use crate::cli::Command;
use copse_server::{accounts, admin, db, settings::Settings, AppState};
use sea_orm::DatabaseConnection;

/// Runs a parsed command.
pub async fn run(settings: Settings, command: Command) -> Result<(), String> {
    match command {
        Command::Migrate => {
            let db = db::connect(&settings).await.map_err(|e| e.to_string())?;
            db::migrate(&db).await.map_err(|e| e.to_string())?;
            println!(
                "migrations applied to {}",
                db::redacted(&settings.database.url)
            );
            Ok(())
        }
        Command::Serve => serve(settings).await,
        Command::Worker => {
            let config = context(&settings).await?;
            let mut tasks = tokio::task::JoinSet::new();
            copse_server::spawn_workers(&mut tasks, &config, &settings);
            let metrics = copse_server::metrics::spawn(&mut tasks, &config, &settings)
                .map_err(|e| format!("cannot listen on {}: {e}", settings.metrics.bind))?;
            println!(
                "Copse workers running{}",
                metrics
                    .map(|a| format!(", metrics on http://{a}/metrics"))
                    .unwrap_or_default()
            );
            wait_for_shutdown().await;
            tasks.shutdown().await;
            Ok(())
        }
        Command::UserCreate { name, admin } => {
            let config = context(&settings).await?;
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
        Command::UserToken { name } => {
            let db = open(&settings).await?;
            let token = admin::new_token(&db, &name)
                .await
                .map_err(|e| e.to_string())?;
            println!("new API token for {name}; the old one no longer works");
            println!("{token}");
            Ok(())
        }
        Command::UserList => {
            let db = open(&settings).await?;
            let users = admin::users(&db).await.map_err(|e| e.to_string())?;
            let rows = users.into_iter().map(|u| {
                [
                    u.name,
                    if u.admin { "yes" } else { "no" }.to_string(),
                    u.created_at.format("%Y-%m-%d %H:%M").to_string(),
                    u.id.to_string(),
                ]
            });
            print_table(["NAME", "ADMIN", "CREATED (UTC)", "ID"], rows);
            Ok(())
        }
        Command::CommunityCreate {
            name,
            title,
            summary,
            owner,
        } => {
            let config = context(&settings).await?;
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
            let new = accounts::NewCommunity {
                name,
                title,
                summary,
                owner,
            };
            let c = accounts::create_community(&data, new)
                .await
                .map_err(api_message)?;
            println!("created {} (@{}@{})", c.ap_id, c.name, settings.domain);
            Ok(())
        }
        Command::CommunityUpdate {
            name,
            settings: new,
        } => {
            let config = context(&settings).await?;
            let data = config.to_request_data();
            let c = accounts::local_community(&data.db, &name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no community named {name}"))?;
            let c = accounts::update_community(&data, &c, *new, None)
                .await
                .map_err(api_message)?;
            println!("updated {} (membership {:?})", c.ap_id, c.membership_policy);
            Ok(())
        }
        Command::CommunityList => {
            let db = open(&settings).await?;
            let list = admin::communities(&db).await.map_err(|e| e.to_string())?;
            let rows = list.into_iter().map(|c| {
                [
                    c.name,
                    c.members.to_string(),
                    format!("{:?}", c.policy).to_lowercase(),
                    c.title,
                ]
            });
            print_table(["NAME", "MEMBERS", "MEMBERSHIP", "TITLE"], rows);
            Ok(())
        }
        Command::DomainBlock { domain } => {
            let db = open(&settings).await?;
            let report = admin::block_domain(&db, &domain)
                .await
                .map_err(|e| e.to_string())?;
            let domain = admin::normalize_domain(&domain).map_err(|e| e.to_string())?;
            println!(
                "{domain} {}; {} queued deliveries given up, {} received activities dropped",
                if report.newly_blocked {
                    "blocked"
                } else {
                    "was already blocked"
                },
                report.deliveries_given_up,
                report.activities_dropped
            );
            Ok(())
        }
        Command::DomainUnblock { domain } => {
            let db = open(&settings).await?;
            let was = admin::unblock_domain(&db, &domain)
                .await
                .map_err(|e| e.to_string())?;
            let domain = admin::normalize_domain(&domain).map_err(|e| e.to_string())?;
            if !was {
                return Err(format!("{domain} is not blocked"));
            }
            println!("{domain} unblocked");
            Ok(())
        }
        Command::DomainList => {
            let db = open(&settings).await?;
            for d in admin::blocked_domains(&db)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{d}");
            }
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let listener = copse_server::listen(settings.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
    if let Some(warning) = listener
        .local_addr()
        .ok()
        .and_then(|a| settings.domain_warning(a))
    {
        tracing::warn!("{warning}");
    }
    let debug = settings.federation.debug;
    let instance = copse_server::start(settings, listener)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Copse listening on http://{}, serving {}{}{}",
        instance.addr,
        instance.data().urls.base(),
        instance
            .metrics_addr
            .map(|a| format!(", metrics on http://{a}/metrics"))
            .unwrap_or_default(),
        if debug { ", federation debug mode" } else { "" }
    );
    match copse_server::web::account::issue_setup_link(&instance.config).await {
        // Written without println!, which panics when whoever started us no longer reads.
        Ok(Some(link)) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stdout(),
                "No admin yet: open {link} in a browser to create the first admin account (this link works once)"
            );
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("could not make the setup link: {}", e.message),
    }
    wait_for_shutdown().await;
    instance.stop().await;
    Ok(())
}

/// A database that `migrate` or `serve` set up, with pending migrations applied.
async fn open(settings: &Settings) -> Result<DatabaseConnection, String> {
    let db = db::connect_existing(settings).await.map_err(db_message)?;
    db::migrate(&db).await.map_err(db_message)?;
    Ok(db)
}

/// The federation context on a database that `migrate` or `serve` set up.
async fn context(settings: &Settings) -> Result<AppState, String> {
    let db = db::connect_existing(settings).await.map_err(db_message)?;
    copse_server::context(db, settings)
        .await
        .map_err(|e| e.to_string())
}

fn db_message(e: sea_orm::DbErr) -> String {
    match e {
        sea_orm::DbErr::Custom(m) => m,
        other => format!("database: {other}"),
    }
}

fn api_message(e: copse_server::error::ApiError) -> String {
    match e.field {
        Some(f) => format!("{f}: {}", e.message),
        None => e.message,
    }
}

/// Prints rows under a header, in columns as wide as their widest cell (the last one free).
fn print_table<const N: usize>(header: [&str; N], rows: impl Iterator<Item = [String; N]>) {
    let rows: Vec<[String; N]> = rows.collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
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
