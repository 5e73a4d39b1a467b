//! An executor's unix socket as the front's I/O threads use it: registered with the I/O driver
//! for reading only.
//!
//! A unix socket tells every registered waiter that it is writable again each time its peer
//! reads: the kernel's `unix_write_space` wakes them unconditionally, unlike TCP's, which does
//! so only after a writer ran out of room. tokio's `UnixStream` registers for reading and writing,
//! so each job an executor read woke an I/O thread for nothing. On a quiet server that was an
//! idle core brought out of its halt once per request (`perf sched`, BENCHMARKS.md "Spurious
//! wake-ups"). Jobs are written straight to the socket; only a write that finds it full
//! registers for writability, until the socket has room again.

use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// The two halves of one executor socket (non-blocking).
pub fn split(stream: UnixStream) -> io::Result<(Replies, Jobs)> {
    stream.set_nonblocking(true)?;
    // a second descriptor of the same socket, never registered: writes go through it
    let jobs = Jobs(stream.try_clone()?);
    Ok((Replies(register(stream, Interest::READABLE)?), jobs))
}

/// Register `stream` with the I/O driver of the runtime this runs in, for `interest` only.
fn register(stream: UnixStream, interest: Interest) -> io::Result<AsyncFd<UnixStream>> {
    // SAFETY: a UnixStream owns its descriptor: it stays open, and is the same, until the
    // AsyncFd (which owns the stream) is dropped
    unsafe { AsyncFd::register_with_interest(stream, interest) }.map_err(io::Error::from)
}

/// The reading half: the replies.
pub struct Replies(AsyncFd<UnixStream>);

impl Replies {
    /// Read what has arrived into `buf`, waiting until something has (0: the socket closed).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut ready = self.0.readable().await?;
            if let Ok(result) = ready.try_io(|stream| stream.get_ref().read(buf)) {
                return result;
            }
        }
    }
}

/// The writing half: the jobs.
pub struct Jobs(UnixStream);

impl Jobs {
    /// Write what the socket takes of `slices` (at least one byte), waiting for room if it has
    /// none.
    pub async fn write_vectored(&mut self, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        loop {
            match self.0.write_vectored(slices) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.room().await?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                written => return written,
            }
        }
    }

    /// Wait until the socket can take more. Registered only meanwhile (a registration reports
    /// the room that came before it, so none is missed); dropped, it is deregistered.
    async fn room(&self) -> io::Result<()> {
        let waiting = register(self.0.try_clone()?, Interest::WRITABLE)?;
        let _ready = waiting.writable().await?;
        Ok(())
    }

    pub fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}
