//! A minimal HTTP/1.1 keep-alive client for POST /rpc, shared by the server benchmarks (included by
//! path from each binary).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// The error type of the harness: anything that stops a case.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub fn percentile(samples: &mut [f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

/// One HTTP/1.1 keep-alive connection speaking just enough to POST /rpc.
pub struct RpcClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    token: String,
}

impl RpcClient {
    pub fn connect(port: u16, token: &str) -> BenchResult<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(RpcClient {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            token: token.into(),
        })
    }

    /// Sends one call and returns the status and body.
    pub fn call(&mut self, body: &str) -> BenchResult<(u16, String)> {
        self.writer
            .write_all(request(&self.token, body).as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = status_of(&line)?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            match header(&line)? {
                Header::End => break,
                Header::Length(n) => length = n,
                Header::Other => {}
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, String::from_utf8(body)?))
    }
}

/// The same client on tokio: the load generator drives its 10 connections from one thread, as
/// wrk-style generators do, so that the machine's cores go to the server rather than to switching
/// between client threads.
pub struct AsyncRpcClient {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
    token: String,
}

impl AsyncRpcClient {
    pub async fn connect(port: u16, token: &str) -> BenchResult<Self> {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(AsyncRpcClient {
            stream: tokio::io::BufReader::new(stream),
            token: token.into(),
        })
    }

    pub async fn call(&mut self, body: &str) -> BenchResult<u16> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        self.stream
            .get_mut()
            .write_all(request(&self.token, body).as_bytes())
            .await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status = status_of(&line)?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            match header(&line)? {
                Header::End => break,
                Header::Length(n) => length = n,
                Header::Other => {}
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok(status)
    }
}

/// One POST /rpc request, written at once as an HTTP client library sends it.
pub fn request(token: &str, body: &str) -> String {
    format!(
        "POST /rpc HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

pub fn status_of(status_line: &str) -> BenchResult<u16> {
    Ok(status_line.split(' ').nth(1).unwrap_or("0").parse()?)
}

pub enum Header {
    End,
    Length(usize),
    Other,
}

pub fn header(line: &str) -> BenchResult<Header> {
    let line = line.trim_end();
    if line.is_empty() {
        return Ok(Header::End);
    }
    Ok(match line.split_once(':') {
        Some((k, v)) if k.eq_ignore_ascii_case("content-length") => {
            Header::Length(v.trim().parse()?)
        }
        _ => Header::Other,
    })
}
