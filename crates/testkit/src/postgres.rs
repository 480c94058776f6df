//! Fresh PostgreSQL databases, one per test (CREATE DATABASE / DROP DATABASE).

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

use crate::{postgres_url, skip_or_fail, unique_name};

/// A database created for one test on the PostgreSQL server of
/// `DATABASE_URL`; call `drop` at the end (a leaked one has a unique
/// name and harms no other test).
pub struct FreshDatabase {
    /// Its URL, for the repository under test.
    pub url: String,
    name: String,
    server: String,
}

impl FreshDatabase {
    /// `None` (after `skip_or_fail`) when PostgreSQL does not answer.
    pub async fn create(prefix: &str) -> Option<FreshDatabase> {
        let server = postgres_url();
        let connected = tokio::time::timeout(Duration::from_secs(5), Database::connect(&server)).await;
        let admin = match connected {
            Ok(Ok(admin)) => admin,
            Ok(Err(error)) => {
                skip_or_fail("PostgreSQL", error);
                return None;
            }
            Err(_) => {
                skip_or_fail("PostgreSQL", "no answer within 5 s");
                return None;
            }
        };
        let name = unique_name(prefix);
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("CREATE DATABASE");
        let _ = admin.close().await;
        // Same server and credentials, other database.
        let base = server.split('?').next().unwrap_or(&server);
        let url = match base.rfind('/') {
            Some(slash) if slash > "postgres://".len() => format!("{}/{name}", &base[..slash]),
            _ => format!("{base}/{name}"),
        };
        Some(FreshDatabase { url, name, server })
    }

    /// The database's name (for statements about it, such as ALTER DATABASE).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database, forcing its connections out; errors are ignored
    /// (a leaked database harms no other test).
    pub async fn drop(self) {
        if let Ok(admin) = Database::connect(&self.server).await {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)).await;
            let _ = admin.close().await;
        }
    }
}
