//! One throwaway `redis-server` process per test, on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, skip_or_fail, unique_name};

/// A redis-server started by a test on a free loopback port; stopped (and
/// its directory removed) when dropped.
pub struct RedisServer {
    child: Child,
    /// Where it listens.
    pub port: u16,
    dir: PathBuf,
    args: Vec<String>,
}

fn spawn_redis(port: u16, dir: &Path, extra_args: &[String]) -> std::io::Result<Child> {
    Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .args(extra_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

fn listening_within(port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

impl RedisServer {
    /// Starts `redis-server` with no persistence; `None` (after
    /// `skip_or_fail`) when the binary is missing or it does not answer.
    pub fn start(extra_args: &[&str]) -> Option<RedisServer> {
        RedisServer::start_on(free_port(), extra_args)
    }

    /// As `start`, on `port` (a test that first needs Redis absent there).
    pub fn start_on(port: u16, extra_args: &[&str]) -> Option<RedisServer> {
        let dir = std::env::temp_dir().join(unique_name("macrotrack_redis"));
        std::fs::create_dir_all(&dir).ok()?;
        let args: Vec<String> = extra_args.iter().map(|arg| (*arg).to_owned()).collect();
        let child = match spawn_redis(port, &dir, &args) {
            Ok(child) => child,
            Err(error) => {
                skip_or_fail("redis-server binary", error);
                return None;
            }
        };
        let server = RedisServer { child, port, dir, args };
        if listening_within(port, Duration::from_secs(10)) {
            return Some(server);
        }
        skip_or_fail("redis-server", "did not start listening within 10 s");
        None
    }

    /// Kills the server (if it still runs) and starts a new, empty one on
    /// the same port. Panics when it does not listen within 10 s (another
    /// process may have taken the port meanwhile).
    pub fn restart_empty(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_redis(self.port, &self.dir, &self.args).expect("redis-server ran before");
        assert!(listening_within(self.port, Duration::from_secs(10)), "redis-server did not listen again");
    }

    /// Its URL, for the store under test.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its process id, to pause or kill it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`STOP`, `CONT`, `KILL`) to the server process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.pid().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal} failed");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server ignores SIGKILL until continued on some kernels' views; continue first.
        let _ = Command::new("kill").arg("-CONT").arg(self.child.id().to_string()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RedisServer {
    /// Runs `redis-cli` against this server; its output, `None` when
    /// redis-cli could not run or the server did not answer.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        // redis-cli exits 0 even when the connection was refused, printing to stderr.
        (output.status.success() && output.stderr.is_empty()).then_some(text)
    }

    pub(crate) fn cluster_ok(&self) -> bool {
        self.cli(&["cluster", "info"]).is_some_and(|info| info.contains("cluster_state:ok"))
    }

    /// A replica whose link to its master is up (`INFO replication`);
    /// false for a master.
    pub fn replica_in_sync(&self) -> bool {
        self.cli(&["info", "replication"])
            .is_some_and(|info| info.contains("role:slave") && info.contains("master_link_status:up"))
    }
}
