//! The derived invalidation matrix, rendered for people
//! (docs/caching-matrix.md, by `cargo xtask docs`), and what it invalidates
//! beyond the contract's table, with the reasons.

use macrotrack_cache_keys::{ReadFamily, Tag, TagFamily};

use crate::catalog::{MUTATIONS, READS, mutation_spec, read_spec};
use crate::facts::{Matrix, tag_targets};
use crate::policies::Policies;
use crate::vocabulary::{Granularity, Operation, ReadSpec};

/// Where the derivation invalidates more than the cache contract's table
/// asks for, and why; a test holds this list to what the derivation does.
pub const BEYOND_THE_CONTRACT: &[(Operation, ReadFamily, &str)] = &[
    (Operation::CreateLogEntries, ReadFamily::Summary, MONTHS),
    (Operation::UpdateLogEntry, ReadFamily::Summary, MONTHS),
    (Operation::DeleteLogEntry, ReadFamily::Summary, MONTHS),
    (Operation::CopyDay, ReadFamily::Summary, MONTHS),
    (Operation::CreateLogEntries, ReadFamily::Week, WEEKS),
    (Operation::UpdateLogEntry, ReadFamily::Week, WEEKS),
    (Operation::DeleteLogEntry, ReadFamily::Week, WEEKS),
    (Operation::CopyDay, ReadFamily::Week, WEEKS),
    (Operation::CompleteDay, ReadFamily::Week, WEEKS),
    (Operation::UndoDay, ReadFamily::Week, WEEKS),
    (
        Operation::EditFood,
        ReadFamily::FrequentFoods,
        "also when the food has no uses: whether it has any is not known without a query, and an edit is rare",
    ),
    (
        Operation::EditFood,
        ReadFamily::RecentFoods,
        "also when the food has no uses: whether it has any is not known without a query, and an edit is rare",
    ),
    (
        Operation::UpdateLogEntry,
        ReadFamily::RecentFoods,
        "a food entry moved to another date changes the date recent foods shows for its food, when it is that \
         food's latest entry (which is not known without a query)",
    ),
];

const MONTHS: &str = "summaries are cached per calendar month (any range is composed of the months it touches, so \
                      a date write bumps one guard): summaries of other days of that month are read again too";
const WEEKS: &str = "weeks are cached per ISO week (a week from any start is composed of the one or two it touches, so \
                     a date write bumps one guard): weeks that share that ISO week but not the date are read again too";

/// How an import reaches the catalogue's reads, outside the per-user matrix.
const CATALOGUE_IMPORTS: &str = "\nAn import into the catalogue changes no user's facts: it raises the \
catalogue's generation once at its end (when anything changed), and every read keyed by it (the last \
column) is left behind in O(1), whatever the number of its entries. An import run in the server's \
process is followed at once; one run by another process (`macrotrack foods import`, another server) \
within `MACROTRACK_CATALOGUE_POLL_MS`. The catalogue's part of searches and the barcode read are \
shared by every user (`macro:{catalogue}:...`): nothing a user does changes them.\n";

/// A lifetime as the docs write it: `20 min`, `5 h`.
fn minutes(lifetime: std::time::Duration) -> String {
    let minutes = lifetime.as_secs() / 60;
    if minutes.is_multiple_of(60) { format!("{} h", minutes / 60) } else { format!("{minutes} min") }
}

fn reads_in_order() -> impl Iterator<Item = &'static ReadSpec> {
    READS.iter().copied()
}

/// The derived matrix, the declarations it comes from and the operators'
/// tags, as Markdown (docs/caching-matrix.md).
pub fn render_markdown() -> String {
    let mut out = String::from("## What each read depends on\n\n");
    out.push_str(
        "| read | tier | depends on | guards its entries record (and its user's epoch) | entries cached | its \
         guards live (ttl + swr) | keyed by the catalogue's generation |\n|---|---|---|---|---|---|---|\n",
    );
    let policies = Policies::default();
    for read in reads_in_order() {
        let kinds: Vec<&str> = read.depends_on.iter().map(|kind| kind.describe()).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            read.name,
            read.tier.label(),
            if kinds.is_empty() { "nothing of a user's".to_owned() } else { kinds.join(", ") },
            read.describe_guards(),
            read.window.describe(),
            minutes(policies.of(read.family).lifetime()),
            if read.follows_catalogue { "yes" } else { "no" },
        ));
    }
    out.push_str(CATALOGUE_IMPORTS);
    out.push_str("\n## What each mutation changes\n\n| mutation | changes |\n|---|---|\n");
    for mutation in MUTATIONS {
        let changes: Vec<String> = if mutation.everything {
            vec!["everything of the user (their epoch)".to_owned()]
        } else {
            mutation.changes.iter().map(|change| format!("{}: {}", change.kind.describe(), change.which)).collect()
        };
        out.push_str(&format!("| {} | {} |\n", mutation.name, cell(changes)));
    }
    out.push_str(
        "\n## The derived matrix\n\nWhich reads each mutation invalidates, and for which of their entries: a \
         mutation invalidates a read exactly when what it changed overlaps what the read depends on. \
         `crates/service/src/contract_tests.rs` holds this table to the cache contract's, row by row.\n\n",
    );
    out.push_str("| operation |");
    for read in reads_in_order() {
        out.push_str(&format!(" {} |", read.name));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(READS.len()));
    out.push('\n');
    let edges = Matrix::edges();
    for mutation in MUTATIONS {
        out.push_str(&format!("| {} |", mutation.name));
        for read in reads_in_order() {
            let edge = edges.iter().any(|edge| edge.operation == mutation.operation && edge.read == read.family);
            let text = if !edge {
                "-".to_owned()
            } else if mutation.everything {
                "every entry (the user's epoch)".to_owned()
            } else {
                let overlapping: Vec<_> =
                    mutation.changes.iter().filter(|change| read.depends_on.contains(&change.kind)).collect();
                // Several dated kinds of one mutation (food and recipe
                // entries) are about the same dates: say them once.
                let dated = overlapping.iter().filter(|change| change.kind.dated()).count();
                let parts: Vec<String> = overlapping
                    .iter()
                    .map(|change| {
                        let which = if change.kind.dated() && dated > 1 { mutation.dates } else { change.which };
                        bucket_phrase(read, change.kind.dated(), which)
                    })
                    .collect();
                dedup(parts).join("; ")
            };
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
    }
    out.push_str(
        "\n## Beyond the contract's table\n\nWhere the derivation invalidates more than the contract asks for \
         (allowed, when the derivation says so); the contract test fails if this list and the derivation \
         disagree.\n\n| operation | read | why |\n|---|---|---|\n",
    );
    for (operation, family, why) in BEYOND_THE_CONTRACT {
        let mutation = mutation_spec(*operation);
        let read = read_spec(*family);
        out.push_str(&format!("| {} | {} | {why} |\n", mutation.name, read.name));
    }
    out.push_str(
        "\n## Operators' tags\n\n`POST /v1/admin/cache/invalidate` takes the seed's tag names. A tag reaches \
         the tier-2 reads that depend on what it names, for every date (a date tag: for that date); as in \
         the seed, tags do not reach tier 1 (`POST /v1/admin/cache/refresh` does).\n\n| tag | reaches |\n|---|---|\n",
    );
    let user = macrotrack_domain::UserId(42);
    let date = "2026-11-24".parse().unwrap_or_else(|_| unreachable!("a date"));
    for family in TagFamily::ALL {
        let tag = match family {
            TagFamily::User => Tag::User(user),
            TagFamily::UserFood => Tag::UserFood(user),
            TagFamily::UserLogs => Tag::UserLogs(user),
            TagFamily::UserCompletion => Tag::UserCompletion(user),
            TagFamily::UserStreaks => Tag::UserStreaks(user),
            TagFamily::UserScheduled => Tag::UserScheduled(user),
            TagFamily::UserScheduledDate => Tag::UserScheduledDate(user, date),
        };
        let reached: Vec<String> = tag_targets(tag).into_iter().map(|target| format!("`{}`", target.guard())).collect();
        out.push_str(&format!("| `{}` | {} |\n", tag.render(), reached.join(", ")));
    }
    out.push_str("\n## Outside the matrix\n\n");
    out.push_str(crate::outbox::SAFETY_RULE);
    out.push('\n');
    out
}

fn bucket_phrase(read: &ReadSpec, dated: bool, which: &str) -> String {
    if !dated {
        return which.to_owned();
    }
    if read.granularity == Granularity::Whole {
        return format!("the whole read ({which})");
    }
    match read.granularity {
        Granularity::Day => which.to_owned(),
        Granularity::IsoWeek => format!("ISO week of {which}"),
        Granularity::Month => format!("month of {which}"),
        Granularity::Whole => unreachable!("handled above"),
    }
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = Vec::with_capacity(items.len());
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

fn cell(items: Vec<String>) -> String {
    if items.is_empty() { "-".to_owned() } else { items.join("; ") }
}
