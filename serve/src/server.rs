//! Running the router: a tokio runtime on its own thread, listening on a
//! TCP address until told to stop (or SIGTERM / Ctrl-C), reloading the
//! model on SIGHUP.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::oneshot;

use crate::{router, Served};

/// A running server.
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Server {
    /// Binds `addr` (port 0: any free port, see [`Server::addr`]) and
    /// serves `served` on a runtime of its own, whose blocking pool (which
    /// runs the queries) has `threads` threads. It reloads the model on
    /// SIGHUP and stops gracefully on SIGTERM, Ctrl-C or
    /// [`Server::shutdown`]: requests in flight finish first.
    pub fn start(served: Arc<Served>, addr: SocketAddr, threads: usize) -> io::Result<Server> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .max_blocking_threads(threads.max(1))
            .enable_io()
            .build()?;
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("causalgrad-serve".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let mut hangup = signal(SignalKind::hangup())?;
                    let reloading = served.clone();
                    tokio::spawn(async move {
                        while hangup.recv().await.is_some() {
                            let reloading = reloading.clone();
                            let reloaded = tokio::task::spawn_blocking(move || reloading.reload());
                            match reloaded.await {
                                Ok(Ok(generation)) => {
                                    log::info!(
                                        "SIGHUP: reloaded the model (generation {generation})"
                                    )
                                }
                                Ok(Err(error)) => log::warn!("SIGHUP: {error}"),
                                Err(error) => log::warn!("SIGHUP: the reload stopped: {error}"),
                            }
                        }
                    });
                    axum::serve(listener, router(served))
                        .with_graceful_shutdown(stop_signal(stopped))
                        .await
                })
            })?;
        Ok(Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the server stops (SIGTERM or Ctrl-C).
    pub fn wait(mut self) -> io::Result<()> {
        self.join()
    }

    /// Stops taking connections, lets the requests in flight finish, and
    /// returns once the server has stopped.
    pub fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            // The server may have stopped already (on a signal).
            let _ = stop.send(());
        }
        self.join()
    }

    fn join(&mut self) -> io::Result<()> {
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| io::Error::other("the server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    /// A server dropped without [`Server::shutdown`] stops the same way.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.join();
    }
}

/// Resolves on [`Server::shutdown`], SIGTERM or Ctrl-C.
async fn stop_signal(stopped: oneshot::Receiver<()>) {
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = stopped => {}
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
