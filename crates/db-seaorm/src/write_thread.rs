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

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, Statement};
use tokio::sync::{Semaphore, mpsc, oneshot};

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
///
/// The queue is bounded by `room`: a write takes a permit before it is
/// queued and gives it back once answered, so at most `bound` writes wait
/// or run, and the next one is refused at once (the caller answers 503)
/// instead of queueing without limit behind a slow disk. Counting permits,
/// not the channel's slots, makes the bound exact whenever the thread
/// happens to take writes off the channel.
#[derive(Debug, Clone)]
pub(crate) struct WriteThread {
    writes: mpsc::UnboundedSender<Write>,
    room: Arc<Semaphore>,
}

/// The error of a write refused because the queue is full.
pub(crate) const QUEUE_FULL: &str = "the write queue is full";

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Write")
    }
}

impl WriteThread {
    /// Starts the thread, writing through `writer` (a pool of one).
    pub(crate) fn start(writer: DatabaseConnection, bound: usize) -> std::io::Result<Self> {
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
        Ok(WriteThread { writes, room: Arc::new(Semaphore::new(bound.max(1))) })
    }

    /// Runs `statement` (one or several statements) in the next group,
    /// unless `refuse_if` (run first, in the same transaction) answers a
    /// row; answers its rows once the group committed. Past the queue's
    /// bound it fails at once.
    pub(crate) async fn write(&self, refuse_if: Option<Statement>, statement: Statement) -> Result<Written, DbErr> {
        let _place = self.room.clone().try_acquire_owned().map_err(|_| DbErr::Custom(QUEUE_FULL.into()))?;
        let (answer, answered) = oneshot::channel();
        let stopped = || DbErr::Custom("the writes' thread stopped".into());
        self.writes.send(Write { refuse_if, statement, answer }).map_err(|_| stopped())?;
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

#[cfg(test)]
mod tests {
    use std::future::{Future, poll_fn};
    use std::pin::Pin;
    use std::task::Poll;

    use sea_orm::{Database, DbBackend, TransactionTrait};

    use super::*;

    /// Polls `future` once: whether it is still waiting.
    async fn waits(future: &mut (impl Future + Unpin)) -> bool {
        poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx).is_pending())).await
    }

    fn insert() -> Statement {
        Statement::from_string(DbBackend::Sqlite, "INSERT INTO queued (n) VALUES (1)")
    }

    #[tokio::test]
    async fn a_full_queue_refuses_the_next_write_at_once_and_takes_writes_again_once_it_has_room() {
        let dir = std::env::temp_dir().join(macrotrack_testkit::unique_name("write_queue"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("queue.db").display());
        let writer = Database::connect(&url).await.unwrap();
        writer.execute_unprepared("CREATE TABLE queued (n INTEGER)").await.unwrap();
        // Another connection holds SQLite's write lock: the thread's first
        // group waits in its BEGIN, so nothing it was given is answered.
        let other = Database::connect(&url).await.unwrap();
        let holder = other.begin().await.unwrap();
        holder.execute_unprepared("INSERT INTO queued (n) VALUES (0)").await.unwrap();
        let thread = WriteThread::start(writer.clone(), 2).unwrap();

        let mut first = Box::pin(thread.write(None, insert()));
        let mut second = Box::pin(thread.write(None, insert()));
        assert!(waits(&mut first).await && waits(&mut second).await, "two writes fit the queue and wait");
        let refused = thread.write(None, insert()).await.expect_err("a third write does not fit");
        assert!(refused.to_string().contains(QUEUE_FULL), "{refused}");

        holder.commit().await.unwrap();
        first.await.unwrap();
        second.await.unwrap();
        thread.write(None, insert()).await.expect("answered writes give their place back");
        let count = writer
            .query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT COUNT(*) FROM queued"))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        assert_eq!(count, 4, "the holder's row and three queued writes, not the refused one");
        let _ = std::fs::remove_dir_all(dir);
    }
}
