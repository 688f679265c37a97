//! `stepdown serve`.

use anyhow::{Result, bail};
use clap::Args;
use stepdown::config::{FileConfig, parse_addr};
use stepdown::server::{ServerOptions, shutdown_signal, start};
use stepdown::{Global, Storage, app_config, build_app, open_store};
use web::WebConfig;

#[derive(Args)]
pub struct ServeArgs {
    /// Address for the web application and API.
    #[arg(long, env = "STEPDOWN_LISTEN")]
    listen: Option<String>,
    /// Address for Prometheus metrics, or "off".
    #[arg(long, env = "STEPDOWN_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// Send cookies without the Secure flag (only for plain-HTTP evaluation off localhost).
    #[arg(long, env = "STEPDOWN_INSECURE_COOKIES")]
    insecure_cookies: bool,
    /// Fill an empty database with the fictional demo center (never on by default).
    #[arg(long)]
    demo: bool,
    /// A reverse proxy whose X-Forwarded-For is trusted (repeat, or comma-separate in the env).
    #[arg(long = "trusted-proxy", env = "STEPDOWN_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<String>,
}

pub async fn run(
    args: ServeArgs,
    global: &Global,
    storage: &Storage,
    file: &FileConfig,
) -> Result<std::process::ExitCode> {
    let started = std::time::Instant::now();
    let listen = args.listen.or_else(|| file.listen.clone()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let listen = parse_addr(&listen, "--listen")?;
    let metrics =
        args.metrics_listen.or_else(|| file.metrics_listen.clone()).unwrap_or_else(|| "127.0.0.1:9464".into());
    let metrics_listen = if metrics == "off" { None } else { Some(parse_addr(&metrics, "--metrics-listen")?) };
    let secure_cookies = !args.insecure_cookies && file.secure_cookies.unwrap_or(true);
    let config = app_config(file)?;
    let proxies = if args.trusted_proxies.is_empty() {
        file.trusted_proxies.clone().unwrap_or_default()
    } else {
        args.trusted_proxies
    };
    let trusted_proxies = proxies
        .iter()
        .map(|p| p.trim().parse().map_err(|_| anyhow::anyhow!("trusted proxy {p:?} is not an IP address")))
        .collect::<Result<Vec<std::net::IpAddr>>>()?;

    let checkpoints = stepdown::checkpoints::settings(global, file, storage)?;
    let checkpoint_key = std::sync::Arc::new(stepdown::checkpoints::load_key(&checkpoints.key_file, true)?);

    let store = open_store(storage).await?;
    let app = build_app(&store, config)?;
    if args.demo {
        // Before any first administrator is made: the demo goes only into a database that
        // holds nothing else, and on a fresh one its own accounts (demo.admin among them)
        // are the administrators, so no `admin` is created after it.
        if let Err(e) = crate::seed_demo(&app).await {
            store.close().await;
            return Err(e);
        }
    }
    let options = ServerOptions {
        listen,
        metrics_listen,
        web: WebConfig { secure_cookies, trusted_proxies, ..WebConfig::default() },
    };
    // Listen first: when the port is taken we stop here, before creating an administrator
    // whose one-time password would be printed by a server that never ran (and never again).
    let mut running = start(store, app.clone(), options).await?;
    match app.bootstrap_admin().await {
        Ok(Some(created)) => {
            // Printed to the console once, never logged: this is the only copy.
            println!();
            println!("First start: created the administrator account.");
            println!("  user name: {}", created.user.username);
            println!("  one-time password: {}", created.one_time_password.unwrap_or_default());
            println!("Sign in and choose your own password; you will then set up two-step verification.");
            println!();
        }
        Ok(None) => {}
        Err(e) => {
            running.stop().await;
            bail!("could not create the first administrator: {e}");
        }
    }
    match app.active_administrators().await {
        Ok(0) => {
            tracing::warn!("no active administrator account");
            println!();
            println!("No active administrator account exists: nobody can manage accounts in the application.");
            println!("  Create one:       stepdown user add --username NAME --name \"Full Name\" --role admin");
            println!("  Or recover one:   stepdown user reset-password --username NAME (and user reset-mfa)");
            println!();
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not count the administrators"),
    }
    // After the first administrator, so the first checkpoint already covers its creation.
    let periodic = stepdown::checkpoints::spawn_periodic(
        app.clone(),
        checkpoint_key.clone(),
        checkpoints.file.clone(),
        checkpoints.every,
    );
    tracing::info!(ms = started.elapsed().as_millis() as u64, "ready");
    println!("Stepdown is running at http://{}/", running.addr);
    if let Some(m) = running.metrics_addr {
        println!("Metrics at http://{m}/metrics");
    }
    shutdown_signal().await;
    println!("Shutting down: finishing requests in flight…");
    // The periodic task only waits or writes synchronously between awaits, so aborting it
    // cannot leave half a line in the file.
    periodic.abort();
    running.finish_requests().await;
    // The last word on how far the chain reached, once nothing more can be appended.
    stepdown::checkpoints::write_now(&app, &checkpoint_key, &checkpoints.file, None).await;
    running.stop().await;
    println!("Stopped.");
    Ok(std::process::ExitCode::SUCCESS)
}
