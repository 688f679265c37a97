//! Browser tests for Stepdown: headless Chromium driven through Debian's `chromedriver`.
//!
//! [`Browser::start`] runs `chromedriver` on a free local port as a child process, waits until
//! it answers, and opens a WebDriver session on a headless Chromium with a throw-away profile.
//! Dropping the [`Browser`] ends the session (closing Chromium), stops `chromedriver` and removes
//! the profile; [`Browser::quit`] does the same without blocking the async runtime.
//!
//! The programs are Debian's `/usr/bin/chromedriver` and `/usr/bin/chromium`
//! (`STEPDOWN_CHROMEDRIVER` / `STEPDOWN_CHROMIUM` point elsewhere). When either is missing,
//! [`Browser::start`] returns `Ok(None)` and prints a "skipped" line, unless `STEPDOWN_E2E=1`
//! asks for the browser tests to be mandatory (as CI does), in which case it is an error.
//!
//! This is test-only code, but it keeps to the workspace lints (no unwrap/expect/panic): every
//! failure is an `anyhow` error that names what went wrong.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use thirtyfour::LoggingPrefsLogLevel;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Debian's `chromium-driver` package; `STEPDOWN_CHROMEDRIVER` overrides it.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's `chromium` package; `STEPDOWN_CHROMIUM` overrides it.
pub const CHROMIUM: &str = "/usr/bin/chromium";

fn program(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env).filter(|v| !v.is_empty()).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// How long to wait for a page to reach an expected state.
pub const WAIT: Duration = Duration::from_secs(15);

const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// True when `STEPDOWN_E2E=1`: the browser tests must run, a missing browser is a failure.
pub fn required() -> bool {
    std::env::var("STEPDOWN_E2E").is_ok_and(|v| v.trim() == "1")
}

/// A `chromedriver` child process; killed when dropped.
struct Chromedriver {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Chromedriver {
    async fn spawn(program: &Path, workdir: &Path) -> Result<Self> {
        let mut last_error = anyhow!("chromedriver did not start");
        // The free port is found by binding port 0 and letting it go, so another process could
        // take it in between: try a few ports before giving up.
        for attempt in 0..3 {
            let port = free_port()?;
            let log = workdir.join(format!("chromedriver-{attempt}.log"));
            let log_file = std::fs::File::create(&log).with_context(|| format!("create {}", log.display()))?;
            let child = Command::new(program)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .with_context(|| format!("start {}", program.display()))?;
            let mut driver = Chromedriver { child, url: format!("http://127.0.0.1:{port}"), log };
            match driver.wait_ready(port).await {
                Ok(()) => return Ok(driver),
                Err(e) => last_error = e.context(driver.log_tail()),
            }
        }
        Err(last_error)
    }

    /// Polls `GET /status` until chromedriver says it is ready for new sessions.
    async fn wait_ready(&mut self, port: u16) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().context("check on chromedriver")? {
                bail!("chromedriver exited early ({status})");
            }
            if let Ok(body) = http_get(port, "/status").await
                && body.replace(char::is_whitespace, "").contains("\"ready\":true")
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not answer on port {port} within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("chromedriver log {}:\n{tail}", self.log.display())
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(listener.local_addr().context("read the free port")?.port())
}

/// A minimal HTTP/1.1 GET, enough to ask chromedriver for its status without another client.
/// (chromedriver keeps the connection open, so the body is read up to its Content-Length.)
async fn http_get(port: u16, path: &str) -> Result<String> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0_u8; 4096];
        loop {
            let n = stream.read(&mut chunk).await?;
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .filter_map(|line| line.split_once(':'))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, value)| value.trim().parse::<usize>().ok());
                if n == 0 || length.is_some_and(|len| body.len() >= len) {
                    return anyhow::Ok(body.to_owned());
                }
            }
            if n == 0 {
                bail!("connection closed before the response was complete");
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(2), read).await?
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A headless Chromium session. Derefs to [`WebDriver`] for everything thirtyfour offers.
///
/// Fields drop in order: the session first (if [`Browser::quit`] was not called, thirtyfour
/// ends it synchronously, so Chromium is closed by its driver rather than orphaned), then
/// chromedriver is killed, then the profile directory is removed.
pub struct Browser {
    driver: WebDriver,
    _chromedriver: Chromedriver,
    _workdir: TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium, or returns `Ok(None)` (after printing
    /// "skipped: chromedriver not installed") when they are missing and not [`required`].
    pub async fn start() -> Result<Option<Browser>> {
        let chromedriver = program("STEPDOWN_CHROMEDRIVER", CHROMEDRIVER);
        let chromium = program("STEPDOWN_CHROMIUM", CHROMIUM);
        for (what, path) in [("chromedriver", &chromedriver), ("chromium", &chromium)] {
            if !path.is_file() {
                if required() {
                    bail!(
                        "{what} is not installed ({}) but STEPDOWN_E2E=1 requires the browser tests \
                         (apt-get install chromium chromium-driver)",
                        path.display()
                    );
                }
                println!(
                    "skipped: {what} not installed ({}); set STEPDOWN_E2E=1 to make this a failure",
                    path.display()
                );
                return Ok(None);
            }
        }
        // Guards from here on: an error below still stops chromedriver and removes the profile.
        let workdir = TempDir(std::env::temp_dir().join(format!("stepdown-e2e-{}", uuid::Uuid::new_v4().simple())));
        let profile = workdir.0.join("profile");
        std::fs::create_dir_all(&profile).with_context(|| format!("create {}", profile.display()))?;
        let driver_process = Chromedriver::spawn(&chromedriver, &workdir.0).await?;

        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium.to_string_lossy())?;
        for arg in CHROMIUM_ARGS {
            caps.add_arg(arg)?;
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.display()))?;
        // Console messages, script errors and CSP violations, for [`Browser::console_problems`].
        caps.set_browser_log_level(LoggingPrefsLogLevel::Warning)?;
        let driver = WebDriver::builder(driver_process.url.clone(), caps)
            .request_timeout(Duration::from_secs(60))
            .await
            .with_context(|| driver_process.log_tail())
            .context("open a Chromium session")?;
        Ok(Some(Browser { driver, _chromedriver: driver_process, _workdir: workdir }))
    }

    /// Ends the session without blocking the runtime; chromedriver and the profile go after.
    pub async fn quit(self) -> Result<()> {
        // A clone shares the session handle: once it has quit, dropping `self` does not again.
        self.driver.clone().quit().await.context("close Chromium")
    }

    /// The current page's path and query, e.g. `/login?done=signed-out`.
    pub async fn path(&self) -> Result<String> {
        let url = self.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Waits until the current path (without the query) is `path`; returns the full path+query.
    pub async fn wait_for_path(&self, path: &str) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let current = self.path().await?;
            if current.split('?').next() == Some(path) {
                return Ok(current);
            }
            if Instant::now() > deadline {
                bail!("expected to be on {path}, still on {current} after {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The visible text of the first element matching a CSS selector (waiting for it).
    pub async fn text(&self, css: &str) -> Result<String> {
        let element = self.query(By::Css(css)).wait(WAIT, Duration::from_millis(50)).first().await?;
        Ok(element.text().await?)
    }

    /// Clears the field with this id and types `value` into it.
    pub async fn fill(&self, id: &str, value: &str) -> Result<()> {
        let field = self.query(By::Id(id)).wait(WAIT, Duration::from_millis(50)).first().await?;
        field.clear().await?;
        field.send_keys(value).await?;
        Ok(())
    }

    /// Clicks the button whose text is exactly `label` (whitespace trimmed), inside the element
    /// matching the CSS `scope` (for example `main` or `header`).
    pub async fn click_button(&self, scope: &str, label: &str) -> Result<()> {
        let xpath = match scope {
            "" => format!("//button[normalize-space()='{label}']"),
            _ => format!("//{scope}//button[normalize-space()='{label}']"),
        };
        let button = self
            .query(By::XPath(xpath))
            .wait(WAIT, Duration::from_millis(50))
            .first()
            .await
            .with_context(|| format!("find the button {label:?}"))?;
        let page = self.find(By::Css("html")).await?;
        button.click().await?;
        // Every button here submits its form, which loads a new page. Waiting until this one is
        // gone means what follows reads the answer, never the page as it was before the click
        // (whose path may well be the same).
        page.wait_until()
            .wait(WAIT, Duration::from_millis(50))
            .stale()
            .await
            .with_context(|| format!("the page did not change after clicking {label:?}"))?;
        Ok(())
    }

    /// Chooses the option whose `value` is `value` in the `<select>` with this id.
    pub async fn select(&self, id: &str, value: &str) -> Result<()> {
        let field = self.query(By::Id(id)).wait(WAIT, Duration::from_millis(50)).first().await?;
        SelectElement::new(&field)
            .await
            .with_context(|| format!("#{id} is not a select"))?
            .select_by_value(value)
            .await
            .with_context(|| format!("choose the option {value:?} in #{id}"))?;
        Ok(())
    }

    /// Sets the value of the field with this id by script, for inputs that typing cannot fill
    /// reliably (`type=date` takes keys only in the browser's locale format). WebDriver scripts
    /// are not subject to the page's CSP.
    pub async fn set_value(&self, id: &str, value: &str) -> Result<()> {
        let field = self.query(By::Id(id)).wait(WAIT, Duration::from_millis(50)).first().await?;
        self.execute(
            "arguments[0].value = arguments[1]; \
             arguments[0].dispatchEvent(new Event('input', {bubbles: true})); \
             arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            vec![field.to_json()?, value.into()],
        )
        .await
        .with_context(|| format!("set #{id} to {value:?}"))?;
        let now = field.value().await?.unwrap_or_default();
        if now != value {
            bail!("#{id} holds {now:?} after setting it to {value:?}");
        }
        Ok(())
    }

    /// Waits until the first element matching a CSS selector shows text containing `needle`
    /// (for a form that posts back to the same path, where [`Browser::wait_for_path`] cannot
    /// tell the new page from the old); returns that text. On time-out the error quotes what
    /// the element showed and the page's error summary, if any.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            // The page may be replaced between finding the element and reading it: retry.
            let shown = match self.find_all(By::Css(css)).await?.first() {
                Some(element) => element.text().await.unwrap_or_default(),
                None => String::new(),
            };
            if shown.contains(needle) {
                return Ok(shown);
            }
            if Instant::now() > deadline {
                let summary = match self.find_all(By::Css(".error-summary")).await?.first() {
                    Some(e) => e.text().await.unwrap_or_default(),
                    None => String::new(),
                };
                bail!(
                    "expected {css:?} to show {needle:?} within {WAIT:?}; it shows {shown:?} \
                     (on {}; error summary: {summary:?})",
                    self.path().await?
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Script errors, CSP violations and failed sub-resource loads reported by the browser
    /// since the last call. A page answered with an error status (a form shown again with a
    /// 401 or 422) is logged by Chromium too; those are left out when the status is in
    /// `expected_statuses`. The missing `/favicon.ico` is not counted.
    pub async fn console_problems(&self, expected_statuses: &[u16]) -> Result<Vec<String>> {
        let entries = self.browser_log().await?;
        Ok(entries
            .into_iter()
            .filter(|e| e.level == "SEVERE" || e.level == "WARNING")
            .filter(|e| {
                let network = e.source.as_deref() == Some("network");
                let expected = expected_statuses.iter().any(|s| e.message.contains(&format!("status of {s} ")));
                // The app serves no favicon yet; Chromium asks for one on every page.
                let favicon = e.message.contains("/favicon.ico ");
                !(network && (expected || favicon))
            })
            .map(|e| format!("{} {} {}", e.level, e.source.unwrap_or_default(), e.message))
            .collect())
    }

    /// Saves a PNG of the current page as `<target dir>/e2e-screenshots/<name>.png`. Best
    /// effort: a failure is printed, not returned.
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshot_dir();
        let path = dir.join(format!("{name}.png"));
        let saved = async {
            std::fs::create_dir_all(&dir)?;
            let png = self.screenshot_as_png().await?;
            std::fs::write(&path, png)?;
            anyhow::Ok(())
        };
        match saved.await {
            Ok(()) => println!("screenshot: {}", path.display()),
            Err(e) => println!("screenshot {name} not saved: {e:#}"),
        }
    }
}

/// Sends a JSON `POST` with a bearer token to the server under test (`base` is its
/// `http://host:port`) and returns the status and body: enough for setting up data through the
/// API without another HTTP client.
pub async fn api_post(base: &str, path: &str, token: &str, json: &str) -> Result<(u16, String)> {
    let host = base.strip_prefix("http://").with_context(|| format!("not a plain http:// base URL: {base}"))?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(host).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{json}",
            json.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        anyhow::Ok(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .with_context(|| format!("POST {path}: no answer within 10 s"))?
        .with_context(|| format!("POST {path}"))?;
    let text = String::from_utf8(raw).with_context(|| format!("POST {path}: the response is not UTF-8"))?;
    let (head, body) = text.split_once("\r\n\r\n").with_context(|| format!("POST {path}: no end of headers"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .with_context(|| format!("POST {path}: no status in {head:?}"))?;
    let chunked = head.lines().filter_map(|line| line.split_once(':')).any(|(name, value)| {
        name.trim().eq_ignore_ascii_case("transfer-encoding") && value.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(body).with_context(|| format!("POST {path}: bad chunked body"))?
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(mut rest: &str) -> Result<String> {
    let mut out = String::new();
    loop {
        let (size_line, after) = rest.split_once("\r\n").context("chunk size line")?;
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).with_context(|| format!("chunk size {size_hex:?}"))?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(after.get(..size).context("chunk shorter than its size")?);
        rest = after.get(size..).and_then(|r| r.strip_prefix("\r\n")).context("chunk not followed by CRLF")?;
    }
}

/// The string value of the first `"key":"…"` member in compact JSON (such as the `id` of a
/// `201 Created` answer); `None` when there is none. Escapes are not decoded.
pub fn json_str(body: &str, key: &str) -> Option<String> {
    let marker = format!("\"{key}\":\"");
    let start = body.find(&marker)? + marker.len();
    let len = body.get(start..)?.find('"')?;
    body.get(start..start + len).map(str::to_owned)
}

/// `$CARGO_TARGET_DIR/e2e-screenshots`, or next to the test binary's target directory.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).or_else(|| {
        // The test binary lives in <target>/<profile>/deps/.
        std::env::current_exe().ok().and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
    });
    target.unwrap_or_else(std::env::temp_dir).join("e2e-screenshots")
}

impl Deref for Browser {
    type Target = WebDriver;

    fn deref(&self) -> &WebDriver {
        &self.driver
    }
}
