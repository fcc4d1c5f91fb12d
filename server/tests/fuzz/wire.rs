//! The raw HTTP/1.1 exchange: one request per connection, written while its answer is read, and
//! a response reader that reports (rather than hides) every way an answer can be cut short.

use std::ops::Deref;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

use crate::common::Response;
use crate::requests::{Req, Route};

/// A whole response, or of a 200 event stream on `/subscribe` only its start.
pub struct Resp {
    pub http: Response,
    /// `: ready` was seen and the rest of the event stream was left unread.
    pub ready: bool,
}

impl Deref for Resp {
    type Target = Response;

    fn deref(&self) -> &Response {
        &self.http
    }
}

impl Resp {
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

struct Reader {
    rd: OwnedReadHalf,
    buf: Vec<u8>,
}

impl Reader {
    /// Reads more into the buffer; false at the end of the stream.
    async fn more(&mut self) -> Result<bool, String> {
        let mut chunk = [0u8; 16 * 1024];
        match self.rd.read(&mut chunk).await {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) => Err(format!("{:?}: {e}", e.kind())),
        }
    }

    /// Reads more of `what`; an error when the stream ends first (`got` says how much came).
    async fn more_of(&mut self, what: &str, got: impl Fn(usize) -> String) -> Result<(), String> {
        if self
            .more()
            .await
            .map_err(|e| format!("reading {what}: {e}"))?
        {
            Ok(())
        } else {
            Err(format!(
                "closed before {what} was complete ({})",
                got(self.buf.len())
            ))
        }
    }

    /// Everything up to and with `pattern`.
    async fn until(&mut self, pattern: &[u8], what: &str) -> Result<Vec<u8>, String> {
        loop {
            if let Some(i) = find(&self.buf, pattern) {
                let rest = self.buf.split_off(i + pattern.len());
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            if self.buf.len() > 1 << 20 {
                return Err(format!("{what}: over 1 MiB"));
            }
            self.more_of(what, |len| format!("{len} bytes of it"))
                .await?;
        }
    }

    async fn exact(&mut self, n: usize, what: &str) -> Result<Vec<u8>, String> {
        while self.buf.len() < n {
            self.more_of(what, |len| format!("{len} of {n} bytes"))
                .await?;
        }
        let rest = self.buf.split_off(n);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// A status line and headers (names in lower case).
    async fn head(&mut self) -> Result<(u16, Vec<(String, String)>), String> {
        let head = self.until(b"\r\n\r\n", "the response head").await?;
        let text = String::from_utf8_lossy(&head);
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|_| version.starts_with("HTTP/1."))
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Ok((status, headers))
    }

    /// A chunked body into `resp`; with `stop`, only up to `: ready`.
    async fn chunked(&mut self, resp: &mut Resp, stop: bool) -> Result<(), String> {
        loop {
            let line = self.until(b"\r\n", "a chunk size line").await?;
            let size_text = String::from_utf8_lossy(&line[..line.len() - 2]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size line {size_text:?}"))?;
            if size == 0 {
                while self.until(b"\r\n", "the chunked trailer").await?.len() > 2 {}
                return Ok(());
            }
            let data = self.exact(size + 2, "a chunk").await?;
            resp.http.body.extend_from_slice(&data[..size]);
            if stop && find(&resp.body, b": ready\n").is_some() {
                resp.ready = true;
                return Ok(());
            }
        }
    }

    /// A body that ends when the connection does; with `stop`, only up to `: ready`.
    async fn until_close(&mut self, resp: &mut Resp, stop: bool) -> Result<(), String> {
        loop {
            if stop && find(&self.buf, b": ready\n").is_some() {
                resp.ready = true;
                break;
            }
            if !self
                .more()
                .await
                .map_err(|e| format!("reading the body: {e}"))?
            {
                break;
            }
        }
        resp.http.body = std::mem::take(&mut self.buf);
        Ok(())
    }
}

/// Reads one response (after any 1xx); of a 200 event stream on `/subscribe`, only up to
/// `: ready`.
async fn read_response(rd: OwnedReadHalf, head_only: bool, sse: bool) -> Result<Resp, String> {
    let mut r = Reader {
        rd,
        buf: Vec::new(),
    };
    let (status, headers) = loop {
        let (status, headers) = r.head().await?;
        if !(100..200).contains(&status) {
            break (status, headers);
        }
    };
    let mut resp = Resp {
        http: Response {
            status,
            headers,
            body: Vec::new(),
        },
        ready: false,
    };
    if head_only || status == 204 || status == 304 {
        return Ok(resp);
    }
    let stop = sse && status == 200 && resp.content_type().starts_with("text/event-stream");
    let chunked = resp
        .header("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    if chunked {
        r.chunked(&mut resp, stop).await?;
    } else if let Some(length) = resp.header("content-length") {
        let n: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        resp.http.body = r.exact(n, "the body").await?;
    } else {
        r.until_close(&mut resp, stop).await?;
    }
    Ok(resp)
}

/// Sends one request on a new connection and reads its response; sending and reading run
/// together, so a server that answers before reading the whole body is heard.
pub async fn exchange(port: u16, req: &Req) -> Result<Resp, String> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (rd, mut wr) = stream.into_split();
    let bytes = req.bytes();
    let half_close = req.incomplete();
    let writer = tokio::spawn(async move {
        let sent = wr.write_all(&bytes).await;
        if half_close {
            let _ = wr.shutdown().await;
        }
        // The sending half is kept (not dropped, which would shut it) until the answer is read.
        (sent, wr)
    });
    let response = read_response(rd, req.method == "HEAD", req.route == Route::Subscribe).await;
    let sent = if writer.is_finished() {
        writer.await.ok().map(|(sent, _)| sent)
    } else {
        writer.abort();
        None
    };
    response.map_err(|e| match sent {
        Some(Err(w)) => format!("{e} (sending failed too: {w})"),
        _ => e,
    })
}
