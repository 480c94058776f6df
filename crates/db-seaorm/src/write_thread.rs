//! SQLite's hot writes on a thread of their own, committed in groups.
//!
//! Every write goes through one connection, and each of its statements is a
//! round trip to sqlx's worker thread; a write held that connection across
//! several of them (BEGIN, the write, COMMIT). Driven from the server's
//! runtime, each step waited behind every ready HTTP task, with the one
//! connection taken meanwhile: under the mixed load, writes queued for tens
//! of ms and the writer did a few hundred a second. Here the writes run on a
//! runtime that runs nothing else, and the writes waiting when one group
//! starts share its transaction: BEGIN and COMMIT once per group, and each
//! write one round trip (its statements inside a savepoint, so a failing one
//! is undone alone). A write is answered only once its group committed.
//! A bounded write first asks whether it would pass its bound, in the
//! group's transaction: the writes before it in the group count, and no
//! other writer can come between the question and the write.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, Statement};
use tokio::sync::{mpsc, oneshot};

/// Writes sharing one transaction, at most.
const GROUP: usize = 64;

struct Write {
    refuse_if: Option<Statement>,
    statement: Statement,
    answer: oneshot::Sender<Result<Written, DbErr>>,
}

/// What became of a write.
#[derive(Debug)]
pub(crate) enum Written {
    /// Its rows (once its group committed).
    Rows(Vec<QueryResult>),
    /// Its `refuse_if` answered this row: nothing of it was written.
    Refused(QueryResult),
}

/// A handle on the writes' thread; it stops when the last handle is gone.
#[derive(Debug, Clone)]
pub(crate) struct WriteThread(mpsc::UnboundedSender<Write>);

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Write")
    }
}

impl WriteThread {
    /// Starts the thread, writing through `writer` (a pool of one).
    pub(crate) fn start(writer: DatabaseConnection) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (writes, mut queue) = mpsc::unbounded_channel::<Write>();
        std::thread::Builder::new().name("sqlite-writes".into()).spawn(move || {
            runtime.block_on(async move {
                while let Some(first) = queue.recv().await {
                    let mut group = vec![first];
                    while group.len() < GROUP {
                        match queue.try_recv() {
                            Ok(write) => group.push(write),
                            Err(_) => break,
                        }
                    }
                    commit_group(&writer, group).await;
                }
            });
        })?;
        Ok(WriteThread(writes))
    }

    /// Runs `statement` (one or several statements) in the next group,
    /// unless `refuse_if` (run first, in the same transaction) answers a
    /// row; answers its rows once the group committed.
    pub(crate) async fn write(&self, refuse_if: Option<Statement>, statement: Statement) -> Result<Written, DbErr> {
        let (answer, answered) = oneshot::channel();
        let stopped = || DbErr::Custom("the writes' thread stopped".into());
        self.0.send(Write { refuse_if, statement, answer }).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

async fn commit_group(writer: &DatabaseConnection, group: Vec<Write>) {
    let txn = match crate::begin_write(writer).await {
        Ok(txn) => txn,
        Err(error) => {
            for write in group {
                let _ = write.answer.send(Err(DbErr::Custom(error.to_string())));
            }
            return;
        }
    };
    let mut done = Vec::with_capacity(group.len());
    let mut broken = None;
    for write in group {
        if broken.is_some() {
            done.push((write.answer, Err(DbErr::Custom("an earlier write of its group broke the transaction".into()))));
            continue;
        }
        if let Some(check) = write.refuse_if {
            // A read: failing, it leaves the transaction as it was.
            match txn.query_one_raw(check).await {
                Ok(Some(row)) => {
                    done.push((write.answer, Ok(Written::Refused(row))));
                    continue;
                }
                Ok(None) => {}
                Err(error) => {
                    done.push((write.answer, Err(error)));
                    continue;
                }
            }
        }
        let Statement { sql, values, db_backend } = write.statement;
        let within = Statement { sql: format!("SAVEPOINT write; {sql}; RELEASE write"), values, db_backend };
        match txn.query_all_raw(within).await {
            Ok(rows) => done.push((write.answer, Ok(Written::Rows(rows)))),
            Err(error) => {
                // Undo this write alone; if even that fails, the group fails.
                if let Err(undo) = txn.execute_unprepared("ROLLBACK TO write; RELEASE write").await {
                    broken = Some(undo.to_string());
                }
                done.push((write.answer, Err(error)));
            }
        }
    }
    let committed = match broken {
        Some(reason) => {
            let _ = txn.rollback().await;
            Err(reason)
        }
        None => txn.commit().await.map_err(|error| error.to_string()),
    };
    for (answer, result) in done {
        let result = match &committed {
            Ok(()) => result,
            // Nothing of the group is written: every write fails.
            Err(reason) => Err(DbErr::Custom(format!("the group's commit failed: {reason}"))),
        };
        let _ = answer.send(result);
    }
}
