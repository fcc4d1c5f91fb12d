//! Thread-per-core serving: each connection lives on one thread for its whole life.
//!
//! An RPC call is short and its connection sends the next one only after the answer, so on a
//! work-stealing runtime a good part of a call's cost is moving its task between threads (a futex
//! wake, a context switch, cache lines that follow the task). Here one acceptor hands each accepted
//! connection, round robin, to one of N single-threaded runtimes (N = the machine's cores), which
//! serves it to the end. The threads share the store, whose own synchronisation is unchanged. The
//! price: a connection waits behind a long request on its own thread, where stealing could have
//! moved it.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// The connections given to one serving thread.
struct Handed {
    connections: mpsc::UnboundedReceiver<std::net::TcpStream>,
    local: SocketAddr,
}

impl axum::serve::Listener for Handed {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Some(stream) = self.connections.recv().await else {
                // The acceptor has stopped; the graceful shutdown ends this thread's serving.
                return std::future::pending().await;
            };
            // Registers the connection with this thread's runtime.
            if let Ok(stream) = TcpStream::from_std(stream)
                && let Ok(peer) = stream.peer_addr()
            {
                return (stream, peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Serves `app` on `listener` until `shutdown` flips; the returned task ends when every serving
/// thread has finished (connections closed, streaming responses ended).
pub(crate) fn serve(
    mut listener: TcpListener,
    app: Router,
    shutdown: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut senders = Vec::with_capacity(threads);
    let mut finished = Vec::with_capacity(threads);
    for i in 0..threads {
        let (give, connections) = mpsc::unbounded_channel();
        let (done, finished_one) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a serving thread: {e}"))?;
        let app = app.clone();
        let mut stopping = shutdown.clone();
        std::thread::Builder::new()
            .name(format!("messagedb-http-{i}"))
            .spawn(move || {
                let handed = Handed { connections, local };
                runtime.block_on(async move {
                    let graceful = async move {
                        let _ = stopping.wait_for(|s| *s).await;
                    };
                    if let Err(e) = axum::serve(handed, app)
                        .with_graceful_shutdown(graceful)
                        .await
                    {
                        tracing::error!(error = %e, "server failed");
                    }
                });
                // Connection tasks still running (past the grace period) end with the runtime.
                drop(runtime);
                let _ = done.send(());
            })
            .map_err(|e| format!("cannot start a serving thread: {e}"))?;
        senders.push(give);
        finished.push(finished_one);
    }
    let mut stopping = shutdown;
    Ok(tokio::spawn(async move {
        let mut next = 0usize;
        loop {
            // axum's accept for a TCP listener, which retries failed accepts (pausing when the
            // process is out of file descriptors and the like).
            let stream = tokio::select! {
                _ = stopping.wait_for(|s| *s) => break,
                (stream, _) = axum::serve::Listener::accept(&mut listener) => stream,
            };
            // Responses and SSE pokes go out at once, never held back for an acknowledgement.
            let _ = stream.set_nodelay(true);
            if let Ok(stream) = stream.into_std() {
                let _ = senders[next % senders.len()].send(stream);
                next = next.wrapping_add(1);
            }
        }
        drop(listener);
        drop(senders);
        for f in finished {
            let _ = f.await;
        }
    }))
}
