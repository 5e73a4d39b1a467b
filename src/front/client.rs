//! A client's connection, whose writes give up when one makes no progress for [`SEND_TIMEOUT`].
//!
//! A response waits in hyper until the client's socket takes it, and it holds its part of the
//! in-flight budget meanwhile (core::budget). A client that stops reading, but keeps its
//! connection open, would hold that part for good and make every upload wait: after
//! [`SEND_TIMEOUT`] without progress the write fails, hyper closes the connection, and the
//! response's memory and budget come back. One that reads, however slowly, keeps them while
//! it does: the rule is about progress, not rate. 30 s is Warp's timeout (PostgREST's server)
//! and the header read timeout here; nginx's `send_timeout` is the same rule.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

const SEND_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Client {
    stream: TcpStream,
    /// since when a write has found the socket full (none while writes go through)
    stalled: Option<Pin<Box<Sleep>>>,
}

impl Client {
    pub fn new(stream: TcpStream) -> Client {
        Client { stream, stalled: None }
    }

    /// What a write that made progress (or failed) answers ends a stall; one still waiting
    /// fails once the stall has lasted [`SEND_TIMEOUT`].
    fn watch<T>(&mut self, cx: &mut Context<'_>, write: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if write.is_ready() {
            self.stalled = None;
            return write;
        }
        // a timer only for a full socket: a write that goes through at once costs nothing
        let stall = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(SEND_TIMEOUT)));
        match stall.as_mut().poll(cx) {
            Poll::Ready(()) => {
                let why = format!("the client read nothing for {} s", SEND_TIMEOUT.as_secs());
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Client {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Client {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let write = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.watch(cx, write)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let write = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.watch(cx, write)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
