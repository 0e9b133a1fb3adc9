//! The web interface in a real browser: headless Chromium (Debian's `chromium`), driven over
//! the DevTools protocol, loads the page served by `dossier serve`, types and runs a query
//! (and a wrong one, to see the caret), searches as it types, opens an entity page, expands a
//! node of the network with a mouse click and draws the timeline.  Screenshots of each step
//! are kept in `target/browser-artifacts/`.
//!
//! Without Chromium the test fails, unless `DOSSIER_SKIP_BROWSER=1`.
#![cfg(feature = "serve")]

#[path = "common/server.rs"]
mod http;

use serde_json::{json, Value};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(30);

/// Chromium, killed when dropped.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A DevTools connection to one page.
struct Page {
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next: u64,
    shots: PathBuf,
}

impl Page {
    fn call(&mut self, method: &str, params: Value, session: bool) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if session {
            msg["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::Text(msg.to_string().into()))
            .expect("send to the browser");
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "no answer to {method}");
            let m = self.socket.read().expect("read from the browser");
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).expect("json");
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method} failed: {v}");
                return v["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression (promises awaited).
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            true,
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expression} threw: {r}"
        );
        r["result"]["value"].clone()
    }

    /// Wait until `expression` is truthy; its value.
    fn wait_for(&mut self, expression: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.eval(expression);
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                return v;
            }
            assert!(Instant::now() < deadline, "waited in vain for {expression}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&mut self, name: &str) {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}), true);
        let data = base64(r["data"].as_str().expect("image data"));
        assert!(data.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(self.shots.join(name), data).expect("save the screenshot");
    }

    /// Type text where the focus is, as a user would.
    fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({ "text": text }), true);
    }

    /// A real mouse click at the centre of the element `selector` finds.
    fn click(&mut self, selector: &str) {
        let rect = self.eval(&format!(
            "(() => {{ const r = document.querySelector({}).getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
            json!(selector)
        ));
        let (x, y) = (rect[0].as_f64().expect("x"), rect[1].as_f64().expect("y"));
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
                true,
            );
        }
    }
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn start_browser() -> Option<(Browser, String)> {
    let binary = std::env::var("DOSSIER_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    if !Path::new(&binary).exists() {
        if std::env::var("DOSSIER_SKIP_BROWSER").is_ok_and(|v| v == "1") {
            eprintln!("browser test skipped: no {binary} and DOSSIER_SKIP_BROWSER=1");
            return None;
        }
        panic!(
            "the browser test needs Chromium at {binary} (apt-get install chromium), or \
             DOSSIER_SKIP_BROWSER=1 to skip it"
        );
    }
    let profile = tempfile::tempdir().expect("a profile directory");
    let child = Command::new(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-port=0",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let browser = Browser {
        child,
        _profile: profile,
    };
    // Chromium writes its port and the browser's path to DevToolsActivePort.
    let file = browser._profile.path().join("DevToolsActivePort");
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return Some((browser, format!("ws://127.0.0.1:{port}{path}")));
            }
        }
        assert!(
            Instant::now() < deadline,
            "chromium did not open its DevTools port"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_page_works_in_a_browser() {
    let Some((_browser, ws)) = start_browser() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let server = http::Server::start(&http::example_db(dir.path()), &[]);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("browser-artifacts");
    std::fs::create_dir_all(&shots).expect("artifact directory");

    let (mut socket, _) = tungstenite::connect(ws.as_str()).expect("DevTools connects");
    if let MaybeTlsStream::Plain(s) = socket.get_mut() {
        s.set_read_timeout(Some(WAIT)).expect("timeout");
    }
    let mut page = Page {
        socket,
        session: String::new(),
        next: 0,
        shots,
    };
    let target = page.call("Target.createTarget", json!({"url": "about:blank"}), false);
    let attached = page.call(
        "Target.attachToTarget",
        json!({"targetId": target["targetId"], "flatten": true}),
        false,
    );
    page.session = attached["sessionId"].as_str().expect("session").into();
    page.call("Page.enable", json!({}), true);
    let base = format!("http://127.0.0.1:{}/", server.port);
    page.call("Page.navigate", json!({ "url": base }), true);
    page.wait_for("document.body && document.body.dataset.ready === 'true'");
    assert_eq!(
        page.eval("document.getElementById('mode').textContent"),
        "read-only"
    );

    // Type a query and run it.
    page.eval("const q = document.getElementById('query'); q.value = ''; q.focus(); true");
    page.type_text(
        "find ?backer ?label where gna backed_by ?backer, ?backer label ?label order by ?label.",
    );
    page.wait_for("document.querySelector('#highlight .tok-keyword')");
    page.eval("document.body.dataset.queryDone = ''; document.getElementById('run').click(); true");
    page.wait_for("document.body.dataset.queryDone");
    let cells =
        page.eval("[...document.querySelectorAll('#results td')].map(td => td.textContent)");
    let cells: Vec<&str> = cells
        .as_array()
        .expect("cells")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        cells.contains(&"turkey") && cells.contains(&"Qatar"),
        "{cells:?}"
    );
    page.screenshot("1-query.png");

    // A wrong query: the shell's diagnostic, and the place underlined in the editor.
    page.eval(
        "document.getElementById('query').value = 'find ?x wher ?x a Person.'; \
         document.body.dataset.queryDone = ''; document.getElementById('run').click(); true",
    );
    page.wait_for("document.body.dataset.queryDone");
    let error = page.eval("document.getElementById('query-error').textContent");
    assert!(
        error
            .as_str()
            .expect("text")
            .contains("1 | find ?x wher ?x a Person.\n  |         ^^^^"),
        "{error}"
    );
    assert_eq!(
        page.eval("document.querySelector('#highlight .tok-error').textContent"),
        "wher"
    );
    page.screenshot("2-error.png");

    // Search as you type.
    page.eval("document.getElementById('search').focus(); true");
    page.type_text("haft");
    page.wait_for("document.querySelectorAll('#search-hits li[data-name]').length >= 4");
    page.screenshot("3-search.png");
    page.eval(
        "document.getElementById('search').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'})); true",
    );

    // The entity page of the first hit, with sources and links to the neighbours.
    page.wait_for("document.body.dataset.entity === 'haftar'");
    assert_eq!(
        page.eval("document.querySelector('#entity h2').textContent"),
        "Khalifa Haftar"
    );
    let sources =
        page.eval("document.querySelector('#entity table.outgoing td.sources').textContent");
    assert_eq!(sources, "aa_2020_09_28");
    page.click("#entity a.entity[href='#entity/egypt']");
    page.wait_for("document.body.dataset.entity === 'egypt'");
    page.screenshot("4-entity.png");

    // The network around gna; a click on a node adds its neighbours.
    page.eval("location.hash = '#network/gna'; true");
    let before = page
        .wait_for("Number(document.body.dataset.nodes || 0)")
        .as_u64()
        .unwrap_or(0);
    assert!(before >= 5, "{before} nodes");
    page.click("#network g.node[data-name='haftar_forces'] circle");
    page.wait_for("document.body.dataset.expanded === 'haftar_forces'");
    let after = page
        .eval("Number(document.body.dataset.nodes)")
        .as_u64()
        .unwrap_or(0);
    assert!(after > before, "expanding added nodes: {before} → {after}");
    assert_eq!(
        page.eval("!!document.querySelector(\"#network g.node[data-name='haftar']\")"),
        json!(true)
    );
    page.screenshot("5-network.png");

    // The timeline, at the precision of each date.
    page.eval(
        "location.hash = '#timeline'; document.getElementById('tl-from').value = '2019-04'; \
         document.getElementById('tl-to').value = '2020-10'; true",
    );
    page.eval(
        "document.body.dataset.timeline = ''; document.getElementById('tl-draw').click(); true",
    );
    page.wait_for("Number(document.body.dataset.timeline) > 0");
    let range = page.eval(
        "document.querySelector(\"#timeline g.event[data-when='2019-04 .. 2020-06']\").textContent",
    );
    assert!(
        range.as_str().expect("text").contains("offensive"),
        "{range}"
    );
    let day = page.eval(
        "document.querySelector(\"#timeline g.event[data-name='berlin_conference'] circle\") !== null",
    );
    assert_eq!(day, json!(true), "a day is a point");
    page.screenshot("6-timeline.png");
}
