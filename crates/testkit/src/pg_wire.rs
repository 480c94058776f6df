//! A counting proxy in front of PostgreSQL, for tests that hold a code
//! path to its number of round trips: it forwards bytes both ways as they
//! are and reads the client's side of the wire protocol to count
//! connections, round trips (a simple `Query`, or a `Sync` ending an
//! extended query) and bare `Sync`s (sqlx's ping of a pooled connection:
//! on every return to the pool, and on a checkout after an idle spell).
//!
//! By hand, with std threads, because no crate counts protocol messages
//! and `pg_stat_statements` needs a preloaded library CI's server lacks.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

/// What the proxy has counted since it started (or was last taken).
#[derive(Debug, Default)]
struct Counters {
    connections: AtomicUsize,
    round_trips: AtomicUsize,
    pings: AtomicUsize,
}

/// Counts, as `PgProxy::take` answers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireCounts {
    /// Connections the client opened.
    pub connections: usize,
    /// Requests the client waited on: simple queries and extended-query syncs.
    pub round_trips: usize,
    /// Of those, `Sync`s with no query before them: pings.
    pub pings: usize,
}

/// A proxy on a free loopback port forwarding to `upstream`.
pub struct PgProxy {
    port: u16,
    counters: Arc<Counters>,
    stopped: Arc<AtomicBool>,
}

impl PgProxy {
    /// A proxy in front of the server `url` names (`postgres://user@host:port/...`).
    pub fn in_front_of(url: &str) -> io::Result<PgProxy> {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let upstream = if host.contains(':') { host.to_owned() } else { format!("{host}:5432") };
        PgProxy::start(&upstream)
    }

    /// Listens on 127.0.0.1 (a free port) and forwards to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> io::Result<PgProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let counters = Arc::new(Counters::default());
        let stopped = Arc::new(AtomicBool::new(false));
        let (upstream, shared, stop) = (upstream.to_owned(), counters.clone(), stopped.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let (Ok(client), Ok(server)) = (client, TcpStream::connect(&upstream)) else { continue };
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let counters = shared.clone();
                thread::spawn(move || relay(client, server, &counters));
            }
        });
        Ok(PgProxy { port, counters, stopped })
    }

    /// The port to connect to instead of PostgreSQL's.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `url` (`postgres://user@host:port/db...`) pointed at the proxy.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let (user, _) = authority.rsplit_once('@').map_or(("", authority), |(user, host)| (user, host));
        let user = if user.is_empty() { String::new() } else { format!("{user}@") };
        format!("{scheme}://{user}127.0.0.1:{}{tail}", self.port)
    }

    /// The counts since the last call, set back to zero.
    pub fn take(&self) -> WireCounts {
        WireCounts {
            connections: self.counters.connections.swap(0, Ordering::SeqCst),
            round_trips: self.counters.round_trips.swap(0, Ordering::SeqCst),
            pings: self.counters.pings.swap(0, Ordering::SeqCst),
        }
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Server to client as it comes; client to server read message by message.
fn relay(mut client: TcpStream, mut server: TcpStream, counters: &Counters) {
    let (Ok(mut server_reader), Ok(mut client_writer)) = (server.try_clone(), client.try_clone()) else { return };
    let back = thread::spawn(move || {
        let _ = io::copy(&mut server_reader, &mut client_writer);
        let _ = client_writer.shutdown(Shutdown::Both);
    });
    let _ = forward_counting(&mut client, &mut server, counters);
    let _ = server.shutdown(Shutdown::Both);
    let _ = back.join();
}

/// The untyped startup messages (an SSL or GSS request, then the startup
/// packet), then typed messages: `Q` is a round trip, and so is `S`,
/// which is a ping when no `P`/`B`/`E` came since the last one.
fn forward_counting(client: &mut TcpStream, server: &mut TcpStream, counters: &Counters) -> io::Result<()> {
    const PROTOCOL_3: u32 = 196_608;
    loop {
        let mut header = [0u8; 8];
        client.read_exact(&mut header)?;
        let length = u32::from_be_bytes(header[0..4].try_into().expect("4 bytes")) as usize;
        let code = u32::from_be_bytes(header[4..8].try_into().expect("4 bytes"));
        let mut rest = vec![0u8; length.saturating_sub(8)];
        client.read_exact(&mut rest)?;
        server.write_all(&header)?;
        server.write_all(&rest)?;
        if code == PROTOCOL_3 {
            break;
        }
    }
    let mut querying = false;
    loop {
        let mut header = [0u8; 5];
        client.read_exact(&mut header)?;
        let length = u32::from_be_bytes(header[1..5].try_into().expect("4 bytes")) as usize;
        let mut body = vec![0u8; length.saturating_sub(4)];
        client.read_exact(&mut body)?;
        match header[0] {
            b'Q' => {
                counters.round_trips.fetch_add(1, Ordering::SeqCst);
            }
            b'P' | b'B' | b'E' => querying = true,
            b'S' => {
                counters.round_trips.fetch_add(1, Ordering::SeqCst);
                if !querying {
                    counters.pings.fetch_add(1, Ordering::SeqCst);
                }
                querying = false;
            }
            _ => {}
        }
        server.write_all(&header)?;
        server.write_all(&body)?;
    }
}
