//! HTTP/1.1 over raw TCP: `/rpc` calls, `/import`, `/subscribe` events, with a deadline on every
//! read.

use super::*;

/// A whole HTTP response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON, or as a JSON string when it is not JSON.
    pub fn json(&self) -> Value {
        to_json(&self.body)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

pub(crate) fn to_json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

type Conn = BufReader<TcpStream>;

pub(crate) async fn connect(port: u16) -> io::Result<Conn> {
    let stream = tokio::time::timeout(
        Duration::from_secs(5),
        TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    Ok(BufReader::new(stream))
}

pub(crate) async fn read_head(conn: &mut Conn) -> io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the connection closed before a response",
        ));
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed in the headers",
            ));
        }
        let h = line.trim_end();
        if h.is_empty() {
            return Ok((status, headers));
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

pub(crate) fn is_chunked(headers: &[(String, String)]) -> bool {
    header(headers, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
}

/// One chunk of a chunked body; `None` at the last (empty) chunk.
pub(crate) async fn read_chunk(conn: &mut Conn) -> io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the connection closed in a chunked body",
        ));
    }
    let size_text = line.trim().split(';').next().unwrap_or("").trim();
    let size = usize::from_str_radix(size_text, 16)
        .map_err(|_| io::Error::other(format!("bad chunk size line {line:?}")))?;
    if size == 0 {
        // Trailers, up to the blank line.
        loop {
            line.clear();
            if conn.read_line(&mut line).await? == 0 || line.trim_end().is_empty() {
                return Ok(None);
            }
        }
    }
    let mut data = vec![0; size];
    conn.read_exact(&mut data).await?;
    let mut crlf = [0; 2];
    conn.read_exact(&mut crlf).await?;
    Ok(Some(data))
}

pub(crate) async fn read_body(
    conn: &mut Conn,
    headers: &[(String, String)],
) -> io::Result<Vec<u8>> {
    if is_chunked(headers) {
        let mut body = Vec::new();
        while let Some(chunk) = read_chunk(conn).await? {
            body.extend_from_slice(&chunk);
        }
        return Ok(body);
    }
    if let Some(length) = header(headers, "content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| io::Error::other("bad content-length"))?;
        let mut body = vec![0; length];
        conn.read_exact(&mut body).await?;
        return Ok(body);
    }
    let mut body = Vec::new();
    conn.read_to_end(&mut body).await?;
    Ok(body)
}

pub(crate) fn request_bytes(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    close: bool,
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    if method != "GET" || !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A failed call: `sent` is false only when no connection could be made, so the request
/// certainly never reached the server; otherwise its outcome is unknown.
#[derive(Debug)]
pub struct CallError {
    /// Whether the request may have reached the server.
    pub sent: bool,
    /// What went wrong.
    pub message: String,
}

/// One keep-alive HTTP/1.1 connection for `/rpc` calls with one token; reconnects after an error.
pub struct Client {
    /// The server's port.
    pub port: u16,
    token: String,
    conn: Option<Conn>,
}

impl Client {
    /// A client of the server on `port` (connects on first use).
    pub fn new(port: u16, token: &str) -> Client {
        Client {
            port,
            token: token.into(),
            conn: None,
        }
    }

    /// One RPC call: status and JSON body, or a transport error (within `CALL_TIMEOUT`).
    pub async fn try_rpc(&mut self, body: &Value) -> Result<(u16, Value), CallError> {
        match tokio::time::timeout(CALL_TIMEOUT, self.call(body)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => {
                self.conn = None;
                Err(e)
            }
            Err(_) => {
                self.conn = None;
                Err(CallError {
                    sent: true,
                    message: format!("no answer within {CALL_TIMEOUT:?}"),
                })
            }
        }
    }

    /// One RPC call; a transport error fails the test.
    pub async fn rpc(&mut self, body: Value) -> (u16, Value) {
        self.try_rpc(&body)
            .await
            .unwrap_or_else(|e| panic!("RPC {body} to port {}: {}", self.port, e.message))
    }

    async fn call(&mut self, body: &Value) -> Result<(u16, Value), CallError> {
        if self.conn.is_none() {
            self.conn = Some(connect(self.port).await.map_err(|e| CallError {
                sent: false,
                message: format!("connect: {e}"),
            })?);
        }
        let conn = self.conn.as_mut().expect("connected");
        let unknown = |e: io::Error| CallError {
            sent: true,
            message: e.to_string(),
        };
        let auth = format!("Bearer {}", self.token);
        let request = request_bytes(
            "POST",
            "/rpc",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
            false,
        );
        conn.get_mut().write_all(&request).await.map_err(unknown)?;
        let (status, headers) = read_head(conn).await.map_err(unknown)?;
        let body = read_body(conn, &headers).await.map_err(unknown)?;
        if header(&headers, "connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
            self.conn = None;
        }
        Ok((status, to_json(&body)))
    }
}

/// One request on a connection of its own (`Connection: close`), the whole response read
/// within `CALL_TIMEOUT`; a transport error fails the test.
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let exchange = async {
        let mut conn = connect(port).await?;
        conn.get_mut()
            .write_all(&request_bytes(method, path, headers, body, true))
            .await?;
        let (status, headers) = read_head(&mut conn).await?;
        let body = read_body(&mut conn, &headers).await?;
        Ok::<_, io::Error>(Response {
            status,
            headers,
            body,
        })
    };
    match tokio::time::timeout(CALL_TIMEOUT, exchange).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => panic!("{method} {path} on port {port}: {e}"),
        Err(_) => panic!("{method} {path} on port {port}: no whole answer within {CALL_TIMEOUT:?}"),
    }
}

/// `POST /import?token=<token>` with an NDJSON body; the whole (event-stream) response.
pub async fn import(port: u16, token: &str, ndjson: &str) -> Response {
    request(
        port,
        "POST",
        &format!("/import?token={token}"),
        &[("Content-Type", "application/x-ndjson")],
        ndjson.as_bytes(),
    )
    .await
}

/// An open `GET /subscribe` event stream. A task of its own reads it and timestamps each line as
/// it arrives (so waiting with a timeout never loses part of an event); dropping this closes the
/// connection.
pub struct Sse {
    lines: tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>,
    reader: tokio::task::JoinHandle<()>,
    /// The response headers.
    pub headers: Vec<(String, String)>,
}

/// Opens `GET /subscribe?<query>`: the event stream when the answer is 200, else the whole
/// error response. Bounded by `CALL_TIMEOUT`; a transport error fails the test.
pub async fn subscribe(port: u16, query: &str) -> Result<Sse, Response> {
    let path = format!("/subscribe?{query}");
    let open = async {
        let mut conn = connect(port).await?;
        conn.get_mut()
            .write_all(&request_bytes("GET", &path, &[], b"", false))
            .await?;
        let (status, headers) = read_head(&mut conn).await?;
        if status != 200 {
            let body = read_body(&mut conn, &headers).await?;
            return Ok(Err(Response {
                status,
                headers,
                body,
            }));
        }
        Ok::<_, io::Error>(Ok((conn, headers)))
    };
    let (conn, headers) = match tokio::time::timeout(CALL_TIMEOUT, open).await {
        Ok(Ok(Ok(open))) => open,
        Ok(Ok(Err(response))) => return Err(response),
        Ok(Err(e)) => panic!("GET {path} on port {port}: {e}"),
        Err(_) => panic!("GET {path} on port {port}: no answer within {CALL_TIMEOUT:?}"),
    };
    let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
    let chunked = is_chunked(&headers);
    let reader = tokio::spawn(read_lines(conn, chunked, tx));
    Ok(Sse {
        lines,
        reader,
        headers,
    })
}

/// Splits the (de-chunked) event stream into lines, each sent with the time it was read.
pub(crate) async fn read_lines(
    mut conn: Conn,
    chunked: bool,
    tx: tokio::sync::mpsc::UnboundedSender<(String, Instant)>,
) {
    let mut pending = Vec::new();
    loop {
        let read = if chunked {
            match read_chunk(&mut conn).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) | Err(_) => return,
            }
        } else {
            let mut buf = [0; 4096];
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf[..n].to_vec(),
            }
        };
        let now = Instant::now();
        pending.extend_from_slice(&read);
        while let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
            if tx
                .send((text.trim_end_matches('\r').to_string(), now))
                .is_err()
            {
                return;
            }
        }
    }
}

impl Drop for Sse {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Sse {
    /// The next line and when it arrived; `None` when the stream ended or nothing came within
    /// `limit`.
    pub async fn next_line(&mut self, limit: Duration) -> Option<(String, Instant)> {
        tokio::time::timeout(limit, self.lines.recv())
            .await
            .ok()
            .flatten()
    }

    /// Waits (at most `limit`) for the `: ready` comment; fails the test otherwise.
    pub async fn ready(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left).await {
                Some((line, _)) if line.starts_with(": ready") => return,
                Some(_) => {}
                None => {
                    panic!("SSE: the stream ended or stayed silent before `: ready` ({limit:?})")
                }
            }
        }
    }

    /// The data of the next `poke` event and when it arrived, or `None` when none comes within
    /// `limit` or the stream ends.
    pub async fn next_poke(&mut self, limit: Duration) -> Option<(Value, Instant)> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (line, at) = self.next_line(left).await?;
            if let Some(data) = line.strip_prefix("data: ") {
                return Some((to_json(data.as_bytes()), at));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Answers.

/// The `error.code` of an error body, or `""`.
pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
