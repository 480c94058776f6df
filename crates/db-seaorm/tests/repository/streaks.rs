//! Streaks read from the runs of completed days that completing and
//! undoing keep: always what the completed days themselves give.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{Day, Streak, UserId};
use macrotrack_migrations::{Migrator, MigratorTrait};
use macrotrack_ports::CompletionRepository;
use sea_orm::ConnectionTrait;

use crate::support::*;

/// The streaks as the completed days give them (the reference).
async fn expected(repo: &SeaOrmRepository, user: UserId, today: Day) -> Streak {
    let completed = repo.completed_between(user, Day::new(Day::MIN).unwrap(), today).await.unwrap();
    Streak::compute(completed, today)
}

/// The repository's streaks agree with the reference for every today from
/// the day before `first` to the day after `last`.
async fn agree_around(repo: &SeaOrmRepository, user: UserId, first: Day, last: Day, step: &str) {
    let mut today = first.plus_days(-1).unwrap();
    while today <= last.plus_days(1).unwrap() {
        let found = repo.streak(user, today).await.unwrap();
        assert_eq!(found, expected(repo, user, today).await, "after {step}, today {today:?}");
        today = today.plus_days(1).unwrap();
    }
}

pub async fn streaks_follow_completions_and_undos(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    let (first, last) = (day("2026-11-01"), day("2026-11-20"));
    // Runs made, joined from both sides, split in the middle and at their
    // ends, completed twice and undone twice; Bob's days beside them.
    let steps: &[(&str, &str)] = &[
        ("complete", "2026-11-05"),
        ("complete", "2026-11-07"),
        ("complete", "2026-11-06"), // joins 5 and 7
        ("complete", "2026-11-06"), // again: nothing changes
        ("complete", "2026-11-04"),
        ("complete", "2026-11-08"),
        ("complete", "2026-11-12"),
        ("complete", "2026-11-13"),
        ("undo", "2026-11-06"), // the middle of 4..8
        ("undo", "2026-11-06"),
        ("undo", "2026-11-04"), // the start of 4..5
        ("undo", "2026-11-08"), // the end of 7..8
        ("undo", "2026-11-10"), // never completed
        ("complete", "2026-11-19"),
        ("complete", "2026-11-20"), // today's, or a gap today
        ("undo", "2026-11-13"),
        ("complete", "2026-11-01"),
        ("undo", "2026-11-01"),
    ];
    repo.complete_day(bob.id, day("2026-11-06")).await.unwrap();
    for (what, date) in steps {
        match *what {
            "complete" => repo.complete_day(alice.id, day(date)).await.unwrap(),
            _ => repo.undo_day(alice.id, day(date)).await.unwrap(),
        };
        agree_around(repo, alice.id, first, last, &format!("{what} {date}")).await;
    }
    let bobs = repo.streak(bob.id, day("2026-11-07")).await.unwrap();
    assert_eq!(bobs, Streak { current: 1, longest: 1, last_completed: Some(day("2026-11-06")) });
}

/// A sequence of completions and undos of 30 days, pseudo-random but the
/// same on every run, checked against the reference after every step.
pub async fn streaks_agree_with_the_days_after_any_sequence(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let first = day("2026-10-01");
    let mut state = 0x2545_f491_u64;
    for step in 0..50 {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let date = first.plus_days(i64::try_from((state >> 33) % 30).unwrap()).unwrap();
        // Two completions for each undo, so runs grow long enough to split.
        if (state >> 20).is_multiple_of(3) {
            repo.undo_day(alice.id, date).await.unwrap();
        } else {
            repo.complete_day(alice.id, date).await.unwrap();
        }
        if step % 5 == 4 {
            agree_around(repo, alice.id, first, first.plus_days(29).unwrap(), &format!("step {step}")).await;
        }
    }
}

/// Completions made before runs were kept are grouped into runs by the
/// migration that adds them.
pub async fn the_migration_groups_existing_completions_into_runs(repo: &SeaOrmRepository) {
    let alice = user(repo, "alice").await;
    let bob = user(repo, "bob").await;
    Migrator::down(repo.connection(), Some(1)).await.unwrap();
    let days = ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-03", "2026-12-31", "2027-01-01", "2027-01-02"];
    for (user, date) in days.iter().map(|date| (alice.id, date)).chain([(bob.id, &"2026-03-02")]) {
        let insert = format!("INSERT INTO day_completions (user_id, date) VALUES ({}, '{date}')", user.0);
        repo.connection().execute_unprepared(&insert).await.unwrap();
    }
    repo.migrate().await.unwrap();
    agree_around(repo, alice.id, day("2026-02-25"), day("2027-01-04"), "the migration").await;
    let streak = repo.streak(alice.id, day("2027-01-02")).await.unwrap();
    assert_eq!(streak, Streak { current: 3, longest: 3, last_completed: Some(day("2027-01-02")) });
    let bobs = repo.streak(bob.id, day("2026-03-03")).await.unwrap();
    assert_eq!(bobs, Streak { current: 1, longest: 1, last_completed: Some(day("2026-03-02")) });
    // And kept from then on: a day joins the runs the migration made.
    repo.complete_day(alice.id, day("2026-03-02")).await.unwrap();
    let joined = repo.streak(alice.id, day("2026-03-03")).await.unwrap();
    assert_eq!(joined, Streak { current: 5, longest: 5, last_completed: Some(day("2026-03-03")) });
}
