//! A minimal blocking HTTP/1.1 client over one keep-alive connection: enough for timing
//! requests to a local server without a client library's own cost in the figures.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result, bail};

pub struct Conn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
}

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Self { addr, reader: BufReader::new(stream) })
    }

    /// Sends one request and reads the whole response. `headers` are full lines without CRLF.
    pub fn request(&mut self, method: &str, path: &str, headers: &[String], body: Option<&[u8]>) -> Result<Response> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for h in headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        if let Some(b) = body {
            head.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        if let Some(b) = body {
            out.extend_from_slice(b);
        }
        self.reader.get_mut().write_all(&out)?;
        self.read_response()
    }

    fn read_line(&mut self) -> Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            bail!("the server closed the connection");
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    fn read_response(&mut self) -> Result<Response> {
        let status_line = self.read_line()?;
        let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).context("bad status line")?;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
                if name == "content-length" {
                    length = Some(value.parse()?);
                } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let size_line = self.read_line()?;
                let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)?;
                if size == 0 {
                    // Trailers end with an empty line.
                    while !self.read_line()?.is_empty() {}
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..])?;
                self.read_line()?;
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            self.reader.read_exact(&mut body)?;
        } else {
            bail!("response without a length");
        }
        Ok(Response { status, body })
    }
}

/// Signs in through `POST /api/v1/session` and returns the bearer token.
pub fn login(addr: SocketAddr, username: &str, password: &str) -> Result<String> {
    let mut conn = Conn::open(addr)?;
    let body = serde_json::json!({ "username": username, "password": password }).to_string();
    let res =
        conn.request("POST", "/api/v1/session", &["Content-Type: application/json".to_owned()], Some(body.as_bytes()))?;
    if res.status != 201 && res.status != 200 {
        bail!("sign-in as {username} gave {}: {}", res.status, String::from_utf8_lossy(&res.body));
    }
    let v: serde_json::Value = serde_json::from_slice(&res.body)?;
    Ok(v.get("token").and_then(|t| t.as_str()).context("no token in the sign-in response")?.to_owned())
}

impl Conn {
    /// Times `requests` sequential GETs of `path` after `warmup` untimed ones; every answer must
    /// be 200. Returns the samples and the size of the first body.
    pub fn time_gets(
        &mut self,
        path: &str,
        header: &str,
        warmup: usize,
        requests: usize,
    ) -> Result<(Vec<Duration>, usize)> {
        let headers = [header.to_owned()];
        let first = self.request("GET", path, &headers, None)?;
        if first.status != 200 {
            bail!("{path} gave {}: {}", first.status, String::from_utf8_lossy(&first.body));
        }
        for _ in 0..warmup {
            self.request("GET", path, &headers, None)?;
        }
        let mut samples = Vec::with_capacity(requests);
        for _ in 0..requests {
            let t = std::time::Instant::now();
            let res = self.request("GET", path, &headers, None)?;
            samples.push(t.elapsed());
            if res.status != 200 {
                bail!("{path} gave {}", res.status);
            }
        }
        Ok((samples, first.body.len()))
    }
}
