//! Fresh PostgreSQL databases for tests, on the cluster of `SLUICE_TEST_POSTGRES_URL` (an admin
//! URL; `scripts/services start` runs one and exports it). Made with `psql`, which comes with
//! Debian's `postgresql` package; the cluster is thrown away after the run.

use std::process::Command;

/// The admin URL, or a panic that says how to get one.
pub fn admin_url() -> String {
    std::env::var("SLUICE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "SLUICE_TEST_POSTGRES_URL is not set: run `eval \"$(scripts/services start)\"` first \
             (./scripts/test does)"
        )
    })
}

/// Creates an empty database and returns its URL.
pub fn fresh_database() -> String {
    let admin = admin_url();
    let name = format!("sluice_it_{:016x}", rand::random::<u64>());
    let out = Command::new("psql")
        .arg(&admin)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("run psql (Debian: apt-get install postgresql-client)");
    assert!(
        out.status.success(),
        "CREATE DATABASE failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Replace the database at the URL's end: postgres://user@host:port/<db>.
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

/// Runs one query on `url` and returns its rows, each as its columns separated by `|`.
pub fn query(url: &str, sql: &str) -> Vec<String> {
    let out = Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
