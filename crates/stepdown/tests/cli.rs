//! The `stepdown` binary as an operator uses it: zero-config start, first administrator,
//! configuration file, JSON logs without PHI, graceful shutdown, user management, audit
//! verification, backup and restore.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_stepdown");

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stepdown-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `stepdown serve` child process and what it printed.
struct Server {
    child: Child,
    base: String,
    stdout: Vec<String>,
    lines: mpsc::Receiver<String>,
    stderr: std::thread::JoinHandle<Vec<String>>,
}

fn serve(cwd: &Path, args: &[&str]) -> Server {
    serve_with(cwd, args, &[])
}

/// The binary, started through `sh` under the usual permissive umask (022) whatever the test
/// runner's, so what it creates shows the permissions an operator would get.
fn stepdown(cwd: &Path) -> Command {
    let mut command = Command::new("sh");
    command
        .current_dir(cwd)
        .args(["-c", "umask 022; exec \"$0\" \"$@\"", BIN])
        .env_remove("STEPDOWN_DATA_DIR")
        .env_remove("STEPDOWN_DATABASE_URL");
    command
}

fn serve_with(cwd: &Path, args: &[&str], serve_args: &[&str]) -> Server {
    let mut child = stepdown(cwd)
        .args(args)
        .args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "off"])
        .args(serve_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || BufReader::new(err).lines().map_while(Result::ok).collect());
    let mut stdout = Vec::new();
    let base = loop {
        let line = lines.recv_timeout(Duration::from_secs(60)).expect("server printed its URL");
        stdout.push(line.clone());
        if let Some(rest) = line.strip_prefix("Stepdown is running at ") {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    Server { child, base, stdout, lines, stderr }
}

impl Server {
    /// SIGTERM, then wait: returns (exit success, remaining stdout, stderr).
    fn terminate(mut self) -> (bool, Vec<String>, Vec<String>) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let mut rest = self.stdout;
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
            rest.push(l);
        }
        (exit.success(), rest, self.stderr.join().unwrap())
    }
}

fn run(cwd: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child =
        stepdown(cwd).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Storage flags for the test database: a data dir for SQLite, a URL for PostgreSQL.
fn storage_args(db: &TestDb, url: &str) -> Vec<String> {
    match db.data_dir() {
        Some(dir) => vec!["--data-dir".into(), dir.display().to_string()],
        None => vec!["--database-url".into(), url.to_owned()],
    }
}

const PASSWORD: &str = "quiet lantern orbits the harbor";

#[tokio::test(flavor = "multi_thread")]
async fn zero_config_start_creates_the_data_dir_and_the_first_admin_once() {
    let cwd = temp_dir();
    let server = serve(&cwd, &[]);
    assert!(cwd.join("stepdown-data/stepdown.db").is_file(), "SQLite file in ./stepdown-data");
    let text = server.stdout.join("\n");
    assert!(text.contains("user name: admin"), "{text}");
    let password = server
        .stdout
        .iter()
        .find_map(|l| l.trim().strip_prefix("one-time password: "))
        .expect("one-time password printed")
        .to_owned();
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{}/readyz", server.base)).send().await.unwrap().status(), 200);
    let res = http
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let (ok, out, err) = server.terminate();
    assert!(ok, "clean exit on SIGTERM");
    assert!(out.iter().any(|l| l == "Stopped."), "{out:?}");
    assert!(!err.join("\n").contains(&password), "the password is never logged");

    // A restart finds the same data: no second administrator, the session still valid.
    let server = serve(&cwd, &[]);
    assert!(!server.stdout.join("\n").contains("one-time password"));
    let res = http.get(format!("{}/api/v1/session", server.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200, "sessions live in the database");
    server.terminate();
    let _ = std::fs::remove_dir_all(&cwd);
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_come_from_flags_then_environment_then_the_config_file() {
    let cwd = temp_dir();
    std::fs::write(cwd.join("stepdown.toml"), "data_dir = \"from-file\"\nsession_idle_minutes = 20\n").unwrap();
    let server = serve(&cwd, &[]);
    assert!(cwd.join("from-file/stepdown.db").is_file());
    server.terminate();
    let (code, _, _) = run(&cwd, &["--data-dir", "from-flag", "migrate"], None);
    assert_eq!(code, 0);
    assert!(cwd.join("from-flag/stepdown.db").is_file());
    std::fs::write(cwd.join("stepdown.toml"), "data_dir = \"x\"\nmrn_format = \"MRN\"\n").unwrap();
    let (code, _, err) = run(&cwd, &["user", "list"], None);
    assert_ne!(code, 0);
    assert!(err.contains("mrn_format"), "{err}");
    std::fs::write(cwd.join("stepdown.toml"), "data_dir = \"x\"\nno_such_setting = 1\n").unwrap();
    let (code, _, err) = run(&cwd, &["migrate"], None);
    assert_ne!(code, 0);
    assert!(err.contains("no_such_setting"), "{err}");
    let (code, _, err) = run(&cwd, &["--config", "missing.toml", "migrate"], None);
    assert_ne!(code, 0);
    assert!(err.contains("does not exist"));
    let _ = std::fs::remove_dir_all(&cwd);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_carry_routes_but_no_client_data() {
    let (db, url) = TestDb::create().await;
    let cwd = temp_dir();
    let storage = storage_args(&db, &url);
    let mut args: Vec<&str> = storage.iter().map(String::as_str).collect();
    let (code, out, err) = run(
        &cwd,
        &[
            &args[..],
            &["user", "add", "--username", "sup", "--name", "Sue Pervisor", "--role", "supervisor", "--password-stdin"],
        ]
        .concat(),
        Some(PASSWORD),
    );
    assert_eq!(code, 0, "{out}{err}");
    args.extend(["--log-format", "json"]);
    let server = serve(&cwd, &args);
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({"username": "sup", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap();
    let c: Value = http
        .post(format!("{}/api/v1/clients", server.base))
        .bearer_auth(token)
        .json(&json!({"given_name": "Zelda", "family_name": "Quixotic", "date_of_birth": "1984-03-03"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = c["id"].as_str().unwrap();
    http.get(format!("{}/api/v1/clients/{id}", server.base)).bearer_auth(token).send().await.unwrap();
    http.get(format!("{}/audit?client={id}", server.base)).send().await.unwrap();
    let (ok, _, err) = server.terminate();
    assert!(ok);
    let logs = err.join("\n");
    assert!(logs.contains("\"route\":\"/api/v1/clients/{id}\""), "{logs}");
    for secret in ["Zelda", "Quixotic", "1984-03-03", id, PASSWORD, token] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
    for line in &err {
        serde_json::from_str::<Value>(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
    }
    let _ = std::fs::remove_dir_all(&cwd);
}

#[tokio::test(flavor = "multi_thread")]
async fn user_add_checks_its_input() {
    let (db, url) = TestDb::create().await;
    let cwd = temp_dir();
    let storage = storage_args(&db, &url);
    let s: Vec<&str> = storage.iter().map(String::as_str).collect();
    let (code, _, err) = run(
        &cwd,
        &[&s[..], &["user", "add", "--username", "weak", "--name", "W", "--role", "counselor", "--password-stdin"]]
            .concat(),
        Some("password1234"),
    );
    assert_eq!(code, 2);
    assert!(err.contains("password"), "{err}");
    let (code, _, err) =
        run(&cwd, &[&s[..], &["user", "add", "--username", "x1", "--name", "X", "--role", "king"]].concat(), None);
    assert_eq!(code, 2);
    assert!(err.contains("role"), "{err}");
    let (code, out, _) = run(
        &cwd,
        &[&s[..], &["user", "add", "--username", "gen", "--name", "Gen Erated", "--role", "biller"]].concat(),
        None,
    );
    assert_eq!(code, 0);
    assert!(out.contains("One-time password"));
    let (code, out, _) = run(&cwd, &[&s[..], &["user", "list"]].concat(), None);
    assert_eq!(code, 0);
    assert!(out.contains("gen") && out.contains("biller") && !out.contains("weak"));
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_verify_backup_and_restore_from_the_command_line() {
    use sea_orm::ConnectionTrait;
    let (db, url) = TestDb::create().await;
    let cwd = temp_dir();
    let storage = storage_args(&db, &url);
    let s: Vec<&str> = storage.iter().map(String::as_str).collect();
    for (name, role) in [("sup", "supervisor"), ("coun", "counselor")] {
        let (code, _, _) = run(
            &cwd,
            &[&s[..], &["user", "add", "--username", name, "--name", "Some One", "--role", role, "--password-stdin"]]
                .concat(),
            Some(PASSWORD),
        );
        assert_eq!(code, 0);
    }
    let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify"]].concat(), None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 2 events"), "{out}");

    let backup = cwd.join("backup.db");
    let backup_arg = backup.display().to_string();
    let (code, out, err) = run(&cwd, &[&s[..], &["backup", &backup_arg]].concat(), None);
    if !db.is_postgres() {
        assert_eq!(code, 0, "{out}{err}");
        assert!(backup.is_file());
    } else {
        assert_ne!(code, 0);
        assert!(err.contains("pg_dump"), "{err}");
    }

    // Someone edits the log behind Stepdown's back.
    let conn = sea_orm::Database::connect(&url).await.unwrap();
    if db.is_postgres() {
        conn.execute_unprepared("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only").await.unwrap();
    } else {
        conn.execute_unprepared("DROP TRIGGER audit_events_no_update").await.unwrap();
    }
    conn.execute_unprepared("UPDATE audit_events SET detail = 'console;role=admin' WHERE seq = 2").await.unwrap();
    conn.close().await.unwrap();
    let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify"]].concat(), None);
    assert_eq!(code, 2);
    assert!(out.contains("BROKEN: event 2 was altered"), "{out}");

    if !db.is_postgres() {
        let (code, _, err) = run(&cwd, &[&s[..], &["restore", &backup_arg]].concat(), None);
        assert_ne!(code, 0, "refuses to overwrite without --force");
        assert!(err.contains("--force"));
        let (code, out, err) = run(&cwd, &[&s[..], &["restore", &backup_arg, "--force"]].concat(), None);
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify"]].concat(), None);
        assert_eq!(code, 0, "{out}");
        let (_, out, _) = run(&cwd, &[&s[..], &["user", "list"]].concat(), None);
        assert!(out.contains("sup") && out.contains("coun"));
    }
    let _ = std::fs::remove_dir_all(&cwd);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_center_is_seeded_on_request_and_lists_its_accounts() {
    let cwd = temp_dir();
    let (code, out, err) = run(&cwd, &["--data-dir", "demo-data", "demo"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("Demo center ready") && out.contains("demo.supervisor") && out.contains("harbor lantern demo"),
        "{out}"
    );
    // The demo's own administrators are the center's: no `admin` is added beside them.
    let server = serve(&cwd, &["--data-dir", "demo-data"]);
    let text = server.stdout.join("\n");
    assert!(!text.contains("one-time password") && !text.contains("No active administrator"), "{text}");
    server.terminate();
    let out = Command::new(BIN).current_dir(&cwd).args(["--data-dir", "demo-data", "demo"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("already present"));
    let _ = std::fs::remove_dir_all(&cwd);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_refuses_a_database_that_serve_already_gave_an_administrator() {
    let (db, url) = TestDb::create().await;
    let cwd = temp_dir();
    let storage = storage_args(&db, &url);
    let s: Vec<&str> = storage.iter().map(String::as_str).collect();
    // Following the README in order: `serve`, then `serve --demo`.
    let server = serve(&cwd, &s);
    assert!(!server.stdout.join("\n").contains("demo.supervisor"), "never on by default");
    assert!(server.stdout.join("\n").contains("user name: admin"));
    server.terminate();
    let (code, out, err) = run(&cwd, &[&s[..], &["serve", "--demo", "--listen", "127.0.0.1:0"]].concat(), None);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("holds 1 user account not made by the demo"), "{err}");
    let (code, _, err) = run(&cwd, &[&s[..], &["demo"]].concat(), None);
    assert_ne!(code, 0);
    assert!(err.contains("holds 1 user account not made by the demo"), "{err}");
    let (_, out, _) = run(&cwd, &[&s[..], &["user", "list"]].concat(), None);
    assert!(!out.contains("demo."), "no demo account was made: {out}");

    // On a fresh database `serve --demo` seeds it, and only its own accounts exist.
    let cwd2 = temp_dir();
    let server = serve_with(&cwd2, &[], &["--demo"]);
    let text = server.stdout.join("\n");
    assert!(text.contains("Demo center ready") && !text.contains("one-time password"), "{text}");
    server.terminate();
    let (_, out, _) = run(&cwd2, &["user", "list"], None);
    assert_eq!(out.lines().count(), app::demo::ACCOUNTS.len(), "{out}");
    assert!(out.lines().all(|l| l.starts_with("demo.")), "{out}");
    let _ = std::fs::remove_dir_all(&cwd);
    let _ = std::fs::remove_dir_all(&cwd2);
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn record_files_are_private_whatever_the_umask_and_wider_ones_are_reported() {
    let cwd = temp_dir();
    let data = cwd.join("stepdown-data");
    let server = serve(&cwd, &[]);
    // While the server runs, SQLite keeps its write-ahead log and shared memory beside the
    // database (the first administrator was just written through them).
    assert_eq!(mode(&data), 0o700, "data directory");
    for file in ["stepdown.db", "stepdown.db-wal", "stepdown.db-shm"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let backup = cwd.join("copy.db");
    let (code, out, err) = run(&cwd, &["backup", backup.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(mode(&backup), 0o600, "backup file");
    let (ok, _, err) = server.terminate();
    assert!(ok);
    assert!(!err.join("\n").contains("readable by other accounts"), "nothing to warn about: {err:?}");

    // A backup made 0644 elsewhere is restored 0600.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let (code, out, err) = run(&cwd, &["restore", backup.to_str().unwrap(), "--force"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(mode(&data.join("stepdown.db")), 0o600, "restored database");

    // Files left wider by an older version (or by hand) are named at start, with the fix.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(data.join("stepdown.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let (code, _, err) = run(&cwd, &["migrate"], None);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("stepdown-data is readable by other accounts") && err.contains("chmod 700"), "{err}");
    assert!(err.contains("stepdown.db is readable by other accounts") && err.contains("chmod 600"), "{err}");
    let _ = std::fs::remove_dir_all(&cwd);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_administrator_is_created_only_once_the_server_listens() {
    let cwd = temp_dir();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, out, err) = run(&cwd, &["serve", "--listen", &addr, "--metrics-listen", "off"], None);
    assert_ne!(code, 0, "the port is taken");
    assert!(err.contains("listening on"), "{err}");
    assert!(!out.contains("one-time password"), "no password printed for a server that never ran: {out}");
    let (_, out, _) = run(&cwd, &["user", "list"], None);
    assert_eq!(out.trim(), "", "no account was created");
    drop(taken);

    // The next start is the first real one: it creates the administrator and says so.
    let server = serve(&cwd, &[]);
    let text = server.stdout.join("\n");
    assert!(text.contains("user name: admin") && text.contains("one-time password: "), "{text}");
    assert!(!text.contains("No active administrator"), "{text}");
    server.terminate();
    let _ = std::fs::remove_dir_all(&cwd);
}

async fn sign_in(base: &str, username: &str, password: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn api(method: reqwest::Method, url: String, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_is_told_when_no_administrator_exists_and_can_recover_one_from_the_console() {
    use sea_orm::ConnectionTrait;
    let (db, url) = TestDb::create().await;
    let cwd = temp_dir();
    let storage = storage_args(&db, &url);
    let s: Vec<&str> = storage.iter().map(String::as_str).collect();
    let add = |name: &'static str, role: &'static str| {
        let s = s.clone();
        let cwd = cwd.clone();
        move || {
            let (code, out, err) = run(
                &cwd,
                &[
                    &s[..],
                    &["user", "add", "--username", name, "--name", "Some One", "--role", role, "--password-stdin"],
                ]
                .concat(),
                Some(PASSWORD),
            );
            assert_eq!(code, 0, "{out}{err}");
        }
    };
    // An account made before the first start: no administrator is created, and the operator
    // hears about it instead of finding out at the sign-in page.
    add("coun", "counselor")();
    let server = serve(&cwd, &s);
    let text = server.stdout.join("\n");
    assert!(!text.contains("one-time password"), "{text}");
    assert!(text.contains("No active administrator account exists") && text.contains("--role admin"), "{text}");

    // An administrator who enrolled two-step verification, then lost the phone.
    add("boss", "admin")();
    let (status, body) = sign_in(&server.base, "boss", PASSWORD).await;
    assert_eq!((status, body["stage"].as_str()), (201, Some("mfa_enrol")));
    let enrol = body["token"].as_str().unwrap().to_owned();
    let (status, enrolment) = api(reqwest::Method::POST, format!("{}/api/v1/me/mfa", server.base), &enrol, None).await;
    assert_eq!(status, 200, "{enrolment}");
    let code = testkit::totp_code(enrolment["secret"].as_str().unwrap(), time::OffsetDateTime::now_utc());
    let (status, confirmed) = api(
        reqwest::Method::POST,
        format!("{}/api/v1/me/mfa/confirm", server.base),
        &enrol,
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(status, 200, "{confirmed}");
    let full = confirmed["session"]["token"].as_str().unwrap().to_owned();

    let (code, out, err) = run(&cwd, &[&s[..], &["user", "reset-mfa", "--username", "boss"]].concat(), None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("two-step verification at their next sign-in") && out.contains("Sessions ended: 1"), "{out}");
    let (status, _) = api(reqwest::Method::GET, format!("{}/api/v1/session", server.base), &full, None).await;
    assert_eq!(status, 401, "reset-mfa ends their sessions");
    let (status, body) = sign_in(&server.base, "boss", PASSWORD).await;
    assert_eq!((status, body["stage"].as_str()), (201, Some("mfa_enrol")), "the factor is set up again");

    // A forgotten password: a one-time password, printed once, that must be changed.
    let (_, body) = sign_in(&server.base, "coun", PASSWORD).await;
    let old_session = body["token"].as_str().unwrap().to_owned();
    let (code, out, err) = run(&cwd, &[&s[..], &["user", "reset-password", "--username", "coun"]].concat(), None);
    assert_eq!(code, 0, "{out}{err}");
    let otp = out
        .lines()
        .find_map(|l| l.split_once("at next sign-in): ").map(|(_, p)| p.trim().to_owned()))
        .unwrap_or_else(|| panic!("one-time password printed: {out}"));
    let (status, _) = api(reqwest::Method::GET, format!("{}/api/v1/session", server.base), &old_session, None).await;
    assert_eq!(status, 401, "reset-password ends their sessions");
    assert_eq!(sign_in(&server.base, "coun", PASSWORD).await.0, 401, "the old password is gone");
    let (status, body) = sign_in(&server.base, "coun", &otp).await;
    assert_eq!(status, 201);
    let fresh = body["token"].as_str().unwrap().to_owned();
    let (status, problem) = api(reqwest::Method::GET, format!("{}/api/v1/clients", server.base), &fresh, None).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("password_change_required")), "{problem}");

    let (code, _, err) = run(&cwd, &[&s[..], &["user", "reset-password", "--username", "nobody"]].concat(), None);
    assert_eq!(code, 2);
    assert!(err.contains("No account is named \"nobody\""), "{err}");
    let (ok, _, err) = server.terminate();
    assert!(ok);
    let logs = err.join("\n");
    assert!(logs.contains("no active administrator account"), "{logs}");
    assert!(!logs.contains(&otp), "the one-time password is never logged");

    // Each reset is audited: no actor user, the console and its operator, the account.
    let conn = sea_orm::Database::connect(&url).await.unwrap();
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT action, CASE WHEN actor_id IS NULL THEN 1 ELSE 0 END AS no_actor, subject, source, detail \
             FROM audit_events WHERE action IN ('auth.mfa.reset', 'user.password_reset') ORDER BY seq",
        ))
        .await
        .unwrap();
    conn.close().await.unwrap();
    let rows: Vec<(String, i32, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "action").unwrap(),
                r.try_get("", "no_actor").unwrap(),
                r.try_get("", "subject").unwrap(),
                r.try_get("", "source").unwrap(),
                r.try_get("", "detail").unwrap(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[1].0.as_str()), ("auth.mfa.reset", "user.password_reset"));
    for (_, no_actor, subject, source, detail) in &rows {
        assert_eq!(*no_actor, 1);
        assert!(subject.starts_with("user:"), "{subject}");
        assert_eq!(source, "console");
        assert!(detail.starts_with("console;operator=") && detail.len() > "console;operator=".len(), "{detail}");
    }
    assert_ne!(rows[0].2, rows[1].2, "each names its own account");
    let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify"]].concat(), None);
    assert_eq!(code, 0, "{out}");
    let _ = std::fs::remove_dir_all(&cwd);
}

/// Deletes the audit events from `from_seq` on and moves `audit_head` back to the one before,
/// getting around the append-only triggers as someone with the database's credentials could.
async fn truncate_audit_tail(db: &TestDb, url: &str, from_seq: i64) {
    use sea_orm::ConnectionTrait;
    let conn = sea_orm::Database::connect(url).await.unwrap();
    if db.is_postgres() {
        conn.execute_unprepared("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only").await.unwrap();
    } else {
        conn.execute_unprepared("DROP TRIGGER IF EXISTS audit_events_no_delete").await.unwrap();
    }
    conn.execute_unprepared(&format!("DELETE FROM audit_events WHERE seq >= {from_seq}")).await.unwrap();
    conn.execute_unprepared(&format!(
        "UPDATE audit_head SET seq = {prev}, hash = (SELECT hash FROM audit_events WHERE seq = {prev}) WHERE id = 1",
        prev = from_seq - 1
    ))
    .await
    .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_audit_tail_passes_verify_but_not_verify_against_a_checkpoint() {
    let (db, url) = TestDb::create().await;
    let cwd = temp_dir();
    let storage = storage_args(&db, &url);
    let s: Vec<&str> = storage.iter().map(String::as_str).collect();
    let add = |name: &str| {
        let (code, out, err) = run(
            &cwd,
            &[
                &s[..],
                &["user", "add", "--username", name, "--name", "Some One", "--role", "counselor", "--password-stdin"],
            ]
            .concat(),
            Some(PASSWORD),
        );
        assert_eq!(code, 0, "{out}{err}");
    };
    add("first");
    add("second");
    let file = cwd.join("checkpoints.txt");
    let file_arg = file.display().to_string();
    let (code, out, err) = run(&cwd, &[&s[..], &["audit", "checkpoint", "--out", &file_arg]].concat(), None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("stepdown-audit-checkpoint v1 seq=2 hash="), "{out}");
    add("third");
    let (code, out, err) = run(&cwd, &[&s[..], &["audit", "checkpoint", "--out", &file_arg]].concat(), None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(" seq=3 "), "{out}");
    assert_eq!(mode(&file), 0o600, "checkpoint file");
    let key_dir = db.data_dir().cloned().unwrap_or_else(|| cwd.join("stepdown-data"));
    assert_eq!(mode(&key_dir.join("audit-checkpoint.key")), 0o600, "checkpoint key");
    let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify", "--against", &file_arg]].concat(), None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("It holds all 2 checkpoints"), "{out}");

    // Someone deletes the newest event and moves the head back: the chain alone still verifies.
    truncate_audit_tail(&db, &url, 3).await;
    let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify"]].concat(), None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 2 events"), "{out}");
    let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify", "--against", &file_arg]].concat(), None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("TRUNCATED: it ends at event 2") && out.contains("saw event 3"), "{out}");

    // New events written after the truncation fill the gap, but not with the same event.
    add("fourth");
    let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify"]].concat(), None);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify", "--against", &file_arg]].concat(), None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("REWRITTEN: event 3"), "{out}");

    // A checkpoint cannot be forged or edited without the key.
    let text = std::fs::read_to_string(&file).unwrap();
    let forged = cwd.join("forged.txt");
    std::fs::write(&forged, text.replacen(" seq=3 ", " seq=2 ", 1)).unwrap();
    let forged_arg = forged.display().to_string();
    let (code, out, _) = run(&cwd, &[&s[..], &["audit", "verify", "--against", &forged_arg]].concat(), None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("line 2") && out.contains("not authentic"), "{out}");
    let _ = std::fs::remove_dir_all(&cwd);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_writes_audit_checkpoints_to_its_file_and_log_at_start_and_shutdown() {
    let cwd = temp_dir();
    let server = serve(&cwd, &[]);
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({"username": "admin", "password": "not the password at all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a refused sign-in, audited");
    let (ok, _, err) = server.terminate();
    assert!(ok);
    let file = cwd.join("stepdown-data/audit-checkpoints");
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "one at start, one at shutdown: {text}");
    assert!(lines[0].contains(" seq=1 "), "the start covers the first administrator: {text}");
    assert!(!lines[1].contains(" seq=1 "), "the shutdown covers the refused sign-in: {text}");
    let logs = err.join("\n");
    for line in &lines {
        assert!(logs.contains(line), "{line} is in the log too: {logs}");
    }
    let (code, out, _) = run(&cwd, &["audit", "verify", "--against", "stepdown-data/audit-checkpoints"], None);
    assert_eq!(code, 0, "{out}");
    // The log works as the checkpoint file too (e.g. as shipped to another host).
    let log = cwd.join("shipped.log");
    std::fs::write(&log, &logs).unwrap();
    let (code, out, _) = run(&cwd, &["audit", "verify", "--against", log.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("It holds all 2 checkpoints"), "{out}");
    let _ = std::fs::remove_dir_all(&cwd);
}
