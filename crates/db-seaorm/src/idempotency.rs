//! `IdempotencyRepository`, and the step every keeping write takes in its
//! own transaction (`keep_in`).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use macrotrack_domain::{IdempotencyKey, Timestamp, UserId};
use macrotrack_ports::{Claim, ClaimTerms, Claimed, Fingerprint, IdempotencyRepository, Keep, KeptAnswer, Unavailable};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::{SeaOrmRepository, corrupt, finish, unavailable};

/// `$1, $2, ...` on PostgreSQL, `?1, ?2, ...` on SQLite.
fn placeholders<const N: usize>(backend: DbBackend) -> [String; N] {
    let sign = if backend == DbBackend::Postgres { '$' } else { '?' };
    std::array::from_fn(|i| format!("{sign}{}", i + 1))
}

fn statement(db: &impl ConnectionTrait, sql: String, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

fn ago(now: Timestamp, span: Duration) -> DateTime<Utc> {
    now.instant() - chrono::Duration::from_std(span).unwrap_or(chrono::Duration::MAX)
}

/// Stores `keep`'s answer for `value` under its claim, in the caller's
/// transaction; fails (so the caller rolls its write back) when the claim
/// is no longer held.
pub(crate) async fn keep_in<T>(db: &impl ConnectionTrait, keep: Keep<T>, value: &T) -> Result<(), Unavailable> {
    let (claim, answer) = keep.answer(value);
    store_answer(db, &claim, &answer).await
}

/// `written`, with `keep`'s answer for it stored in the same transaction
/// when there is one and the write succeeded.
pub(crate) async fn keeping<T, E: From<Unavailable>>(
    db: &impl ConnectionTrait,
    written: Result<T, E>,
    keep: Option<Keep<T>>,
) -> Result<T, E> {
    let value = written?;
    if let Some(keep) = keep {
        keep_in(db, keep, &value).await?;
    }
    Ok(value)
}

async fn store_answer(db: &impl ConnectionTrait, claim: &Claim, answer: &KeptAnswer) -> Result<(), Unavailable> {
    let [status, content_type, location, body, user, key, token] = placeholders(db.get_database_backend());
    let sql = format!(
        "UPDATE idempotency_keys SET status = {status}, content_type = {content_type}, location = {location}, \
         body = {body} WHERE user_id = {user} AND key = {key} AND token = {token} AND status IS NULL"
    );
    let values = vec![
        i32::from(answer.status).into(),
        answer.content_type.clone().into(),
        answer.location.clone().into(),
        answer.body.clone().into(),
        claim.user.0.into(),
        claim.key.as_str().into(),
        claim.token.into(),
    ];
    let updated = db.execute_raw(statement(db, sql, values)).await.map_err(unavailable)?;
    if updated.rows_affected() != 1 {
        // Taken over or given back meanwhile: whoever holds the key now
        // runs the request; this one must not commit a second write.
        return Err(Unavailable::new(anyhow::anyhow!("the idempotency key's claim was lost")));
    }
    Ok(())
}

#[async_trait]
impl IdempotencyRepository for SeaOrmRepository {
    async fn claim(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        fingerprint: Fingerprint,
        token: i64,
        terms: ClaimTerms,
    ) -> Result<Claimed, Unavailable> {
        let ClaimTerms { now, kept_for, abandoned_after } = terms;
        let fingerprint = hex::encode(fingerprint.0);
        let txn = self.begin_write().await?;
        let claimed = async {
            let backend = txn.get_database_backend();
            let [u, k, f, t, at] = placeholders(backend);
            let insert = format!(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, token, claimed_at) \
                 VALUES ({u}, {k}, {f}, {t}, {at}) ON CONFLICT (user_id, key) DO NOTHING RETURNING token"
            );
            let values = || {
                vec![user.0.into(), key.as_str().into(), fingerprint.clone().into(), token.into(), now.instant().into()]
            };
            if txn.query_one_raw(statement(&txn, insert, values())).await.map_err(unavailable)?.is_some() {
                return Ok(None);
            }
            let lock = if backend == DbBackend::Postgres { " FOR UPDATE" } else { "" };
            let [u, k] = placeholders(backend);
            let select = format!(
                "SELECT fingerprint, claimed_at, status, content_type, location, body FROM idempotency_keys \
                 WHERE user_id = {u} AND key = {k}{lock}"
            );
            let row = txn
                .query_one_raw(statement(&txn, select, vec![user.0.into(), key.as_str().into()]))
                .await
                .map_err(unavailable)?
                .ok_or_else(|| corrupt("an idempotency key neither inserted nor found"))?;
            let get = unavailable;
            let claimed_at: DateTime<Utc> = row.try_get_by_index(1).map_err(get)?;
            let status: Option<i32> = row.try_get_by_index(2).map_err(get)?;
            let stale = match status {
                Some(_) => claimed_at < ago(now, kept_for),
                None => claimed_at < ago(now, abandoned_after),
            };
            if stale {
                let [f, t, at, u, k] = placeholders(backend);
                let renew = format!(
                    "UPDATE idempotency_keys SET fingerprint = {f}, token = {t}, claimed_at = {at}, status = NULL, \
                     content_type = NULL, location = NULL, body = NULL WHERE user_id = {u} AND key = {k}"
                );
                let values = vec![
                    fingerprint.clone().into(),
                    token.into(),
                    now.instant().into(),
                    user.0.into(),
                    key.as_str().into(),
                ];
                txn.execute_raw(statement(&txn, renew, values)).await.map_err(unavailable)?;
                return Ok(None);
            }
            let stored: String = row.try_get_by_index(0).map_err(get)?;
            Ok(Some(match status {
                _ if stored != fingerprint => Claimed::OtherRequest,
                None => Claimed::Running,
                Some(status) => Claimed::Replay(KeptAnswer {
                    status: u16::try_from(status).map_err(|_| corrupt(format!("status {status}")))?,
                    content_type: row.try_get_by_index::<Option<String>>(3).map_err(get)?.unwrap_or_default(),
                    location: row.try_get_by_index(4).map_err(get)?,
                    body: row.try_get_by_index::<Option<Vec<u8>>>(5).map_err(get)?.unwrap_or_default(),
                }),
            }))
        }
        .await;
        // `None`: the key is this request's now.
        Ok(finish(txn, claimed).await?.unwrap_or_else(|| Claimed::Run(Claim { user, key: key.clone(), token })))
    }

    async fn keep(&self, claim: &Claim, answer: &KeptAnswer) -> Result<(), Unavailable> {
        let txn = self.begin_write().await?;
        let kept = store_answer(&txn, claim, answer).await;
        finish(txn, kept).await
    }

    async fn release(&self, claim: &Claim) -> Result<(), Unavailable> {
        let [u, k, t] = placeholders(self.writer.get_database_backend());
        let sql = format!(
            "DELETE FROM idempotency_keys WHERE user_id = {u} AND key = {k} AND token = {t} AND status IS NULL"
        );
        let values = vec![claim.user.0.into(), claim.key.as_str().into(), claim.token.into()];
        self.writer.execute_raw(statement(&self.writer, sql, values)).await.map_err(unavailable)?;
        Ok(())
    }

    async fn sweep(&self, before: Timestamp) -> Result<u64, Unavailable> {
        let [at] = placeholders(self.writer.get_database_backend());
        let sql = format!("DELETE FROM idempotency_keys WHERE claimed_at < {at}");
        let swept = self
            .writer
            .execute_raw(statement(&self.writer, sql, vec![before.instant().into()]))
            .await
            .map_err(unavailable)?;
        Ok(swept.rows_affected())
    }
}
