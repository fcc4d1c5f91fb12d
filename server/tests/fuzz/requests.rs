//! What is sent: a request's route, framing and bytes, and what its answer must be.

/// The route a request is aimed at; the checks of a 2xx answer depend on it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    Rpc,
    Subscribe,
    Import,
    Health,
    Version,
    Metrics,
    Unknown,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Framing {
    /// `Content-Length` = the body's length.
    Exact,
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No `Content-Length` (only for an empty body).
    Omitted,
    /// `Content-Length` n bytes short of the body (the excess is never read).
    Short(usize),
    /// `Content-Length` n bytes past the body, then the client shuts its sending side: the
    /// request is incomplete, so closing without an answer is allowed.
    Long(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// Not an import.
    None,
    /// Well-formed records (into a cleared namespace): must end `done` with this count.
    Valid { records: usize },
    /// Well-formed records, the last at a huge global position (2^52 and beyond): `done` with
    /// this count, or `INVALID_RECORD` (a documented limit), nothing else.
    Huge { records: usize },
    /// One malformed line: must end with an `INVALID_JSON`/`INVALID_RECORD` event.
    Malformed,
    /// Well-formed but odd (NUL, surrogates, repeated positions, …): any answer but
    /// `IMPORT_FAILED`.
    Odd,
}

/// The answer a request must get: a status, and the error code when it is an error.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    pub status: u16,
    pub code: Option<&'static str>,
}

/// A 200, whatever the body.
pub const OK: Option<Expect> = Some(Expect {
    status: 200,
    code: None,
});

/// An error answer with this status and code.
pub const fn expect(status: u16, code: &'static str) -> Option<Expect> {
    Some(Expect {
        status,
        code: Some(code),
    })
}

pub struct Req {
    pub route: Route,
    /// `POST /rpc stream.write`, `GET /subscribe`, …: what a finding was seen on.
    pub label: String,
    /// `POST /rpc`, `<wrong method> /health`, …: what findings group by (with their answer).
    pub group: String,
    pub method: &'static str,
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub framing: Framing,
    /// What was done to the request (groups findings too).
    pub tag: String,
    pub expect: Option<Expect>,
    pub import: ImportKind,
}

impl Req {
    pub fn new(route: Route, method: &'static str, target: String, label: String) -> Req {
        let group = label.split(' ').take(2).collect::<Vec<_>>().join(" ");
        Req {
            route,
            label,
            group,
            method,
            target,
            headers: Vec::new(),
            body: Vec::new(),
            framing: Framing::Omitted,
            tag: String::new(),
            expect: None,
            import: ImportKind::None,
        }
    }

    /// `POST /rpc`, labelled `POST /rpc <label>`.
    pub fn rpc(label: &str) -> Req {
        Req::new(
            Route::Rpc,
            "POST",
            "/rpc".into(),
            format!("POST /rpc {label}"),
        )
    }

    /// Not sent: what findings about the run itself (its deadline) are filed under.
    pub fn run() -> Req {
        Req::new(Route::Unknown, "GET", "-".into(), "the run".into())
    }

    pub fn header(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        self.headers.push((name.to_string(), value.into()));
    }

    /// `<path>` or `<path>?<query joined with &>`.
    pub fn set_target(&mut self, path: &str, query: &[String]) {
        self.target = if query.is_empty() {
            path.into()
        } else {
            format!("{path}?{}", query.join("&"))
        };
    }

    /// The client ends the body early: the server may close without an answer.
    pub fn incomplete(&self) -> bool {
        matches!(self.framing, Framing::Long(_))
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
            self.method, self.target
        )
        .into_bytes();
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        let length = match self.framing {
            Framing::Exact => Some(self.body.len()),
            Framing::Short(n) => Some(self.body.len().saturating_sub(n)),
            Framing::Long(n) => Some(self.body.len() + n),
            Framing::Omitted | Framing::Chunked => None,
        };
        if let Some(n) = length {
            out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
        }
        if self.framing == Framing::Chunked {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            // Chunks of odd sizes, so that no chunk boundary falls where a reader expects one.
            let sizes = [1usize, 5, 17, 300, 4096];
            let mut rest = &self.body[..];
            let mut i = 0;
            while !rest.is_empty() {
                let n = sizes[i % sizes.len()].min(rest.len());
                out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                out.extend_from_slice(&rest[..n]);
                out.extend_from_slice(b"\r\n");
                rest = &rest[n..];
                i += 1;
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&self.body);
        }
        out
    }

    pub fn excerpt(&self) -> String {
        let mut s = format!("{} {}", self.method, excerpt(self.target.as_bytes(), 100));
        if !self.body.is_empty() {
            s.push_str(" body=");
            s.push_str(&excerpt(&self.body, 160));
        }
        s
    }
}

/// Printable, bounded: control characters escaped, long input cut with its length.
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push_str(&format!("…({} bytes)", bytes.len()));
            break;
        }
        if c.is_control() {
            out.push_str(&c.escape_default().to_string());
        } else {
            out.push(c);
        }
    }
    out
}
