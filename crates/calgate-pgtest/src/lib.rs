//! A real PostgreSQL for tests: Debian's server (the newest `/usr/lib/postgresql/*/bin`),
//! `initdb` into a temporary directory and started on a free 127.0.0.1 port with its unix
//! socket in that directory, `fsync=off`. One server per test process ([`server`]), a fresh
//! database per test ([`TestServer::create_database`]); a test that stops the server under a
//! gateway ([`TestServer::stop`], [`TestServer::start`] again on the same port) starts one of
//! its own ([`TestServer::private`]), so the others' databases stay up.
//!
//! PostgreSQL refuses to run as root: when the tests run as root, `initdb` and the server run
//! as `nobody` (through `setpriv`), in a directory that account owns.
//!
//! The server runs under a small shell that stops it when the test process lets go of the
//! shell's standard input — also when the process ends without dropping the handle, which
//! lives in a `static` — and then removes the directory, so no server outlives the tests.
//!
//! No calgate crate is used here, so both the store's unit tests and the test kit can use it.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The superuser's name and password (password authentication on the TCP port).
pub const SUPERUSER: &str = "postgres";
/// The superuser's password.
pub const SUPERUSER_PASSWORD: &str = "calgate-test-pw";

/// Stops the server (fast shutdown) when standard input closes, then removes its directory.
/// `$1` is the command prefix that runs as the server's account, `$2` the directory, `$3` the
/// port.
const SUPERVISOR: &str = r#"
exec 3<&0
$1 "$2/bin/postgres" -D "$2/data" -p "$3" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$2" -c fsync=off -c synchronous_commit=off \
    -c full_page_writes=off -c max_connections=200 </dev/null >"$2/server.log" 2>&1 &
pid=$!
(read _line <&3; kill -INT "$pid" 2>/dev/null) &
watcher=$!
wait "$pid"
status=$?
# The directory goes once the test process let go; a server that failed to start leaves it
# for another try on another port.
if kill -0 "$watcher" 2>/dev/null; then
    kill "$watcher" 2>/dev/null
else
    rm -rf "$2"
fi
exit "$status"
"#;

/// The running server.
#[derive(Debug)]
pub struct TestServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// The command prefix that runs a program as the server's account.
    as_server: String,
    /// The supervising shell and its input; `None` while stopped.
    supervisor: Mutex<Option<(Child, ChildStdin)>>,
}

/// The process's one server, started at the first call.
///
/// # Panics
/// When PostgreSQL is not installed (with the command that installs it) or does not start.
pub fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| match TestServer::launch_new() {
        Ok(server) => server,
        Err(e) => panic!("the test PostgreSQL did not start: {e}"),
    })
}

/// The newest PostgreSQL's `bin` directory, such as `/usr/lib/postgresql/15/bin`.
pub fn newest_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

impl TestServer {
    /// A server of the caller's own (not the process's shared one), stopped and removed when
    /// dropped: for a test that stops the server under a running gateway.
    ///
    /// # Panics
    /// When PostgreSQL is not installed or does not start.
    pub fn private() -> TestServer {
        TestServer::launch_new()
            .unwrap_or_else(|e| panic!("the test PostgreSQL did not start: {e}"))
    }

    /// Stops the server (fast shutdown: connections are cut) and waits until it is down; its
    /// data stay for [`start`](Self::start). Does nothing when it is stopped already.
    ///
    /// # Panics
    /// When the server does not stop within 30 s.
    pub fn stop(&self) {
        let mut supervisor = self.supervisor.lock().unwrap_or_else(|e| e.into_inner());
        let Some((mut child, stdin)) = supervisor.take() else {
            return;
        };
        let pid = std::fs::read_to_string(self.dir.join("data").join("postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next().map(|l| l.trim().to_string()))
            .unwrap_or_default();
        if !pid.is_empty() {
            let _ = Command::new("kill").args(["-INT", &pid]).status();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the test PostgreSQL did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The shell saw its watcher alive (our input open) and kept the directory.
        drop(stdin);
    }

    /// Starts a stopped server again on the same port, with the same data.
    ///
    /// # Panics
    /// When it does not start (another process took the port meanwhile, say).
    pub fn start(&self) {
        let mut supervisor = self.supervisor.lock().unwrap_or_else(|e| e.into_inner());
        if supervisor.is_some() {
            return;
        }
        match launch(&self.dir, &self.as_server, self.port) {
            Ok(running) => *supervisor = Some(running),
            Err(e) => panic!("the test PostgreSQL did not start again: {e}"),
        }
    }

    fn launch_new() -> Result<TestServer, String> {
        let bin = newest_bin_dir().ok_or(
            "no /usr/lib/postgresql/*/bin/postgres; run `cargo xtask setup` (it installs \
             Debian's postgresql)",
        )?;
        let dir = tempfile::Builder::new()
            .prefix("calgate-pg-")
            .tempdir()
            .map_err(|e| format!("creating the server directory: {e}"))?
            .keep();
        let started = prepare(&dir, &bin).and_then(|as_server| {
            // Another process may take the port between the probe and the server's bind.
            let mut last = String::new();
            for _ in 0..3 {
                let port = free_port()?;
                match launch(&dir, &as_server, port) {
                    Ok(supervisor) => return Ok((port, as_server, supervisor)),
                    Err(e) => last = e,
                }
            }
            Err(last)
        });
        match started {
            Ok((port, as_server, supervisor)) => Ok(TestServer {
                dir,
                bin,
                port,
                as_server,
                supervisor: Mutex::new(Some(supervisor)),
            }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    /// The server's TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL of database `name` for the superuser, with its password.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{SUPERUSER_PASSWORD}@127.0.0.1:{}/{name}",
            self.port
        )
    }

    /// The same URL with another password (refused by the server).
    pub fn url_with_password(&self, name: &str, password: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{password}@127.0.0.1:{}/{name}",
            self.port
        )
    }

    /// Creates a new empty database `t_<unique>` and answers its URL.
    ///
    /// # Panics
    /// When the server refuses (the test cannot run without it).
    pub fn create_database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.psql(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        self.url(&name)
    }

    /// Runs one SQL command as the superuser over the unix socket (`psql -c`).
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        self.psql_in("postgres", sql)
    }

    /// Runs one SQL command in database `db` as the superuser.
    pub fn psql_in(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
                db,
                "-c",
                sql,
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // A running server's shell stops it and removes the directory once its input closes;
        // a stopped one has no shell left to do it.
        let stopped = self
            .supervisor
            .get_mut()
            .map_or_else(|e| e.into_inner().is_none(), |s| s.is_none());
        if stopped {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Makes the cluster; answers the command prefix that runs a program as the server's account
/// (empty unless we are root).
fn prepare(dir: &Path, bin: &Path) -> Result<String, String> {
    let as_server = if rustix::process::geteuid().is_root() {
        let (uid, gid) = (id("-u")?, id("-g")?);
        std::os::unix::fs::chown(dir, Some(uid), Some(gid))
            .map_err(|e| format!("handing {} to nobody: {e}", dir.display()))?;
        format!("setpriv --reuid={uid} --regid={gid} --clear-groups --")
    } else {
        String::new()
    };
    // The server's own binaries, reached through the directory so the shell needs one path.
    std::os::unix::fs::symlink(bin, dir.join("bin"))
        .map_err(|e| format!("linking the binaries: {e}"))?;
    let pwfile = dir.join("pwfile");
    let mut file = std::fs::File::create(&pwfile).map_err(|e| format!("password file: {e}"))?;
    file.write_all(SUPERUSER_PASSWORD.as_bytes())
        .map_err(|e| format!("password file: {e}"))?;
    drop(file);
    if !as_server.is_empty() {
        let (uid, gid) = (id("-u")?, id("-g")?);
        std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid))
            .map_err(|e| format!("password file: {e}"))?;
    }
    let script = format!(
        "{as_server} \"$1/initdb\" -D \"$2/data\" -U {SUPERUSER} --pwfile=\"$2/pwfile\" \
         --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C -N"
    );
    let out = Command::new("sh")
        .args(["-c", &script, "sh"])
        .arg(bin)
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(as_server)
}

/// `id -u nobody` or `id -g nobody`.
fn id(which: &str) -> Result<u32, String> {
    let out = Command::new("id")
        .args([which, "nobody"])
        .output()
        .map_err(|e| format!("running id: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| "no account nobody to run PostgreSQL as".to_string())
}

fn launch(dir: &Path, as_server: &str, port: u16) -> Result<(Child, ChildStdin), String> {
    let mut child = Command::new("sh")
        .args(["-c", SUPERVISOR, "sh", as_server])
        .arg(dir)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the supervisor: {e}"))?;
    let stdin = child.stdin.take().ok_or("the supervisor's input")?;
    // The server writes `ready` on the eighth line of postmaster.pid once it takes connections.
    let pid_file = dir.join("data").join("postmaster.pid");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.lines().nth(7).map(|l| l.trim() == "ready"))
            .unwrap_or(false);
        if ready {
            return Ok((child, stdin));
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            return Err(format!("the server stopped ({status}): {log}"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("the server was not ready within 60 s".to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_fresh_database_answers() {
        let server = super::server();
        let url = server.create_database();
        let name = url.rsplit('/').next().expect("database name");
        assert_eq!(
            server.psql_in(name, "SELECT current_database()").as_deref(),
            Ok(name)
        );
        assert!(server.psql("SELECT no_such_column").is_err());
    }

    #[test]
    fn a_private_server_stops_and_starts_again_with_its_data() {
        let server = super::TestServer::private();
        let url = server.create_database();
        let name = url.rsplit('/').next().expect("database name");
        server
            .psql_in(
                name,
                "CREATE TABLE kept (n INT); INSERT INTO kept VALUES (7)",
            )
            .expect("write");
        let port = server.port();
        server.stop();
        assert!(server.psql("SELECT 1").is_err(), "down while stopped");
        server.stop();
        server.start();
        assert_eq!(server.port(), port);
        assert_eq!(
            server.psql_in(name, "SELECT n FROM kept").as_deref(),
            Ok("7")
        );
        assert_eq!(
            super::server().psql("SELECT 1").as_deref(),
            Ok("1"),
            "the shared server is another"
        );
    }
}
