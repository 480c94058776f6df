//! State-machine test: random sequences of reads, writes, invalidations and
//! clock moves against the model, on the in-process store.

use macrotrack_cache::MemoryStore;
use macrotrack_cache::model::{ENTRIES, Op, TARGETS, check_against_model};
use proptest::prelude::*;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..ENTRIES).prop_map(Op::Read),
        2 => (0..TARGETS).prop_map(Op::Write),
        1 => (0..TARGETS).prop_map(Op::Invalidate),
        2 => (0u32..40).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn memory_store_follows_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outcome = runtime.block_on(check_against_model(MemoryStore::new(16 << 20), 1, &ops));
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
