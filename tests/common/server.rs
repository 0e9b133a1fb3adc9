//! `dossier` processes for tests: databases made by `dossier run`, a `dossier serve`, and a
//! minimal HTTP/1.1 client (one connection per request, `Connection: close`), so the tests
//! need no HTTP crate.
#![allow(dead_code)] // each test uses part of it

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A database in `dir` made by `dossier run SCRIPT` (a file).
pub fn db_from_file(dir: &Path, script: &Path) -> PathBuf {
    let db = dir.join("kb.db");
    let out = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .arg("--db")
        .arg(&db)
        .arg("run")
        .arg(script)
        .output()
        .expect("dossier runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// A database in `dir` holding the example (examples/libya.dq).
pub fn example_db(dir: &Path) -> PathBuf {
    db_from_file(
        dir,
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/libya.dq")),
    )
}

/// A server on 127.0.0.1 and an ephemeral port; killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// `dossier --db DB serve --port 0 ARGS…`, once it prints its address.
    pub fn start(db: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dossier"))
            .arg("--db")
            .arg(db)
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("dossier serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the first line");
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server { child, port }
    }

    /// One request; the status and the body.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        request(self.port, method, path, body)
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, None)
    }

    /// `POST /api/query` with a JSON body.
    pub fn query(&self, json: &serde_json::Value) -> (u16, serde_json::Value) {
        let (status, body) = self.request("POST", "/api/query", Some(&json.to_string()));
        (status, serde_json::from_str(&body).expect("a JSON answer"))
    }

    pub fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, body) = self.get(path);
        (
            status,
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Open a connection and send a request without reading the answer.
pub fn send(port: u16, method: &str, path: &str, body: Option<&str>) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let body = body.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(body.as_bytes()).expect("write");
    s
}

/// One request: status and body (read to the end: the server closes the connection).
pub fn request(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut s = send(port, method, path, body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    )
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}
