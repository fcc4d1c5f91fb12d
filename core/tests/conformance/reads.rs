use messagedb::{CategoryOpts, ConsumerGroup, GetStreamOpts, Namespace, WriteOpts};
use serde_json::{Value, json};

use crate::{Fixture, msg};

async fn write(ns: &Namespace, stream: &str, t: &str, data: Value) -> i64 {
    ns.write(stream, msg(t, data), WriteOpts::default())
        .await
        .unwrap()
        .global_position
}

pub async fn stream_reads_follow_position_rules(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let mut gps = Vec::new();
    for i in 0..10 {
        gps.push(write(&ns, "acct-1", "T", json!({"i": i})).await);
        write(&ns, "acct-2", "T", json!({"i": i})).await;
    }
    let positions = |ms: &[messagedb::Message]| ms.iter().map(|m| m.position).collect::<Vec<_>>();
    let all = ns
        .get_stream("acct-1", &GetStreamOpts::default())
        .await
        .unwrap();
    assert_eq!(positions(&all), (0..10).collect::<Vec<_>>());
    assert!(all.iter().all(|m| m.stream_name == "acct-1"));
    let from3 = ns
        .get_stream(
            "acct-1",
            &GetStreamOpts::default().position(3).batch_size(4),
        )
        .await
        .unwrap();
    assert_eq!(positions(&from3), vec![3, 4, 5, 6]);
    let negative = ns
        .get_stream(
            "acct-1",
            &GetStreamOpts::default().position(-5).batch_size(2),
        )
        .await
        .unwrap();
    assert_eq!(positions(&negative), vec![0, 1]);
    // A global position replaces the position, still in stream order.
    let by_gp = ns
        .get_stream(
            "acct-1",
            &GetStreamOpts::default().position(0).global_position(gps[6]),
        )
        .await
        .unwrap();
    assert_eq!(positions(&by_gp), vec![6, 7, 8, 9]);
    assert!(
        ns.get_stream("acct-404", &GetStreamOpts::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        ns.get_stream("acct-1", &GetStreamOpts::default().position(10))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn last_message_and_version(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    assert_eq!(ns.get_last("acct-1", None).await.unwrap(), None);
    assert_eq!(ns.stream_version("acct-1").await.unwrap(), None);
    write(&ns, "acct-1", "Opened", json!({"i": 0})).await;
    write(&ns, "acct-1", "Deposited", json!({"i": 1})).await;
    write(&ns, "acct-1", "Deposited", json!({"i": 2})).await;
    write(&ns, "acct-1", "Withdrawn", json!({"i": 3})).await;
    let last = ns.get_last("acct-1", None).await.unwrap().unwrap();
    assert_eq!(
        (last.position, last.message_type.as_str()),
        (3, "Withdrawn")
    );
    let dep = ns
        .get_last("acct-1", Some("Deposited"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((dep.position, dep.data.to_value()), (2, json!({"i": 2})));
    assert_eq!(
        ns.get_last("acct-1", Some(""))
            .await
            .unwrap()
            .unwrap()
            .position,
        3,
        "\"\" = no filter"
    );
    assert_eq!(ns.get_last("acct-1", Some("Closed")).await.unwrap(), None);
    assert_eq!(ns.stream_version("acct-1").await.unwrap(), Some(3));
}

pub async fn category_reads_follow_global_order_and_filters(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    write(&ns, "account-1", "T", json!({})).await; // 1
    write(&ns, "order-1", "T", json!({})).await; // 2
    write(&ns, "account-2", "T", json!({})).await; // 3
    write(&ns, "account", "T", json!({})).await; // 4: a stream named like its category
    write(&ns, "accounts-1", "T", json!({})).await; // 5: another category sharing a prefix
    let correlated = msg("T", json!({}))
        .with_metadata(json!({"correlationStreamName": "billing-7", "x": 1}))
        .unwrap();
    ns.write("account-3", correlated, WriteOpts::default())
        .await
        .unwrap(); // 6
    let other_corr = msg("T", json!({}))
        .with_metadata(json!({"correlationStreamName": "Billing-7"}))
        .unwrap();
    ns.write("account-4", other_corr, WriteOpts::default())
        .await
        .unwrap(); // 7
    let gps =
        |ms: Vec<messagedb::Message>| ms.iter().map(|m| m.global_position).collect::<Vec<_>>();

    let cat = ns
        .get_category("account", &CategoryOpts::default())
        .await
        .unwrap();
    assert_eq!(
        cat.iter()
            .map(|m| m.stream_name.as_str())
            .collect::<Vec<_>>(),
        vec![
            "account-1",
            "account-2",
            "account",
            "account-3",
            "account-4"
        ]
    );
    assert_eq!(
        gps(ns
            .get_category(
                "account",
                &CategoryOpts::default().position(3).batch_size(2)
            )
            .await
            .unwrap()),
        vec![3, 4]
    );
    assert_eq!(
        gps(ns
            .get_category("account", &CategoryOpts::default().correlation("billing"))
            .await
            .unwrap()),
        vec![6]
    );
    assert_eq!(
        gps(ns
            .get_category("account", &CategoryOpts::default().correlation(""))
            .await
            .unwrap())
        .len(),
        5
    );
    assert_eq!(
        gps(ns.get_category("", &CategoryOpts::default()).await.unwrap()),
        vec![1, 2, 3, 4, 5, 6, 7]
    );
    assert_eq!(
        gps(ns
            .get_category("", &CategoryOpts::default().position(6))
            .await
            .unwrap()),
        vec![6, 7]
    );
    assert!(
        ns.get_category("account-1", &CategoryOpts::default())
            .await
            .unwrap()
            .is_empty(),
        "a stream name is not a category"
    );
    assert!(
        ns.get_category("nothing", &CategoryOpts::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        ns.get_category("account", &CategoryOpts::default().position(8))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn consumer_groups_split_streams_and_filter_before_the_limit(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    // The vectors of design.md, through the store.
    for stream in ["account-123", "account-456", "account-123+retry", "account"] {
        write(&ns, stream, "T", json!({})).await;
    }
    let members = |size: i64| {
        let ns = ns.clone();
        async move {
            let mut out = Vec::new();
            for member in 0..size {
                let opts = CategoryOpts::default()
                    .consumer_group(ConsumerGroup::new(member, size).unwrap());
                let names: Vec<String> = ns
                    .get_category("account", &opts)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| m.stream_name)
                    .collect();
                out.push(names);
            }
            out
        }
    };
    let of2 = members(2).await;
    assert!(of2[1].contains(&"account-123".to_string()));
    assert!(
        of2[1].contains(&"account-123+retry".to_string()),
        "the cardinal id decides"
    );
    let of4 = members(4).await;
    assert_eq!(
        of4[3],
        vec!["account-123", "account-456", "account-123+retry"]
    );
    let of3 = members(3).await;
    assert!(of3[1].contains(&"account-456".to_string()));
    // A stream without an id belongs to no member.
    assert!(of4.iter().all(|m| !m.contains(&"account".to_string())));
    assert_eq!(of2.iter().map(Vec::len).sum::<usize>(), 3);

    // The group filter runs before the batch limit: member 0 of 2 still gets a full batch.
    for i in 0..40 {
        write(&ns, &format!("load-{i}"), "T", json!({})).await;
    }
    let opts = CategoryOpts::default()
        .batch_size(5)
        .consumer_group(ConsumerGroup::new(0, 2).unwrap());
    let page = ns.get_category("load", &opts).await.unwrap();
    assert_eq!(page.len(), 5);
    assert!(
        page.iter()
            .all(|m| messagedb::in_consumer_group(&m.stream_name, 0, 2))
    );
    let all0: usize = ns
        .get_category(
            "load",
            &CategoryOpts::default().consumer_group(ConsumerGroup::new(0, 2).unwrap()),
        )
        .await
        .unwrap()
        .len();
    let all1: usize = ns
        .get_category(
            "load",
            &CategoryOpts::default().consumer_group(ConsumerGroup::new(1, 2).unwrap()),
        )
        .await
        .unwrap()
        .len();
    assert_eq!(all0 + all1, 40, "every stream goes to exactly one member");
    assert!(all0 > 5 && all1 > 5);
}

pub async fn batch_size_rules(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let batch: Vec<_> = (0..1200).map(|i| msg("T", json!({"i": i}))).collect();
    ns.write_batch("big-1", batch, WriteOpts::default())
        .await
        .unwrap();
    assert_eq!(
        ns.get_stream("big-1", &GetStreamOpts::default())
            .await
            .unwrap()
            .len(),
        1000,
        "default 1000"
    );
    for unlimited in [-1, 0, -7] {
        assert_eq!(
            ns.get_stream("big-1", &GetStreamOpts::default().batch_size(unlimited))
                .await
                .unwrap()
                .len(),
            1200
        );
        assert_eq!(
            ns.get_category("big", &CategoryOpts::default().batch_size(unlimited))
                .await
                .unwrap()
                .len(),
            1200
        );
    }
    assert_eq!(
        ns.get_category("big", &CategoryOpts::default())
            .await
            .unwrap()
            .len(),
        1000
    );
    assert_eq!(
        ns.get_stream("big-1", &GetStreamOpts::default().batch_size(10_000))
            .await
            .unwrap()
            .len(),
        1200
    );
    let e = ns
        .get_stream("big-1", &GetStreamOpts::default().batch_size(10_001))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        (
            "INVALID_REQUEST",
            "options.batchSize must be <= 10000 or -1 for unlimited"
        )
    );
    let e = ns
        .get_category("big", &CategoryOpts::default().batch_size(10_001))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_REQUEST");
}

/// Reads of more than 100 messages (which SQLite continues off the caller's thread after its
/// first 100 rows) return exactly what the same read returns in pages of 30: stream reads from a
/// position, category reads with a correlation and a consumer group, with and without a limit.
pub async fn large_reads_equal_the_same_read_in_pages(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    for s in 0..12 {
        let batch: Vec<_> = (0..30)
            .map(|i| {
                let m = msg("T", json!({"s": s, "i": i}));
                match i % 3 {
                    0 => m
                        .with_metadata(json!({"correlationStreamName": "order-1"}))
                        .unwrap(),
                    _ => m,
                }
            })
            .collect();
        ns.write_batch(&format!("big-{s}"), batch, WriteOpts::default())
            .await
            .unwrap();
    }
    let ids = |ms: &[messagedb::Message]| ms.iter().map(|m| m.id).collect::<Vec<_>>();
    let group = ConsumerGroup::new(1, 3).unwrap();
    let category_cases = [
        CategoryOpts::default().batch_size(-1),
        CategoryOpts::default().batch_size(250).position(20),
        CategoryOpts::default().batch_size(101),
        CategoryOpts::default().correlation("order").batch_size(-1),
        CategoryOpts::default()
            .consumer_group(group)
            .batch_size(1000),
        CategoryOpts::default()
            .consumer_group(group)
            .correlation("order")
            .batch_size(-1),
    ];
    let mut longest = 0;
    for opts in category_cases {
        let whole = ns.get_category("big", &opts).await.unwrap();
        let limit = match opts.batch_size {
            Some(n) if n > 0 => n as usize,
            _ => usize::MAX,
        };
        let mut paged = Vec::new();
        let mut next = opts.position.unwrap_or(1);
        while paged.len() < limit {
            let page = ns
                .get_category("big", &opts.clone().position(next).batch_size(30))
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            next = last.global_position + 1;
            paged.extend(page);
        }
        paged.truncate(limit);
        assert!(!whole.is_empty(), "{opts:?} reads nothing");
        assert_eq!(ids(&whole), ids(&paged), "{opts:?}");
        longest = longest.max(whole.len());
    }
    assert_eq!(longest, 360, "the unlimited read has every message");
    let batch: Vec<_> = (0..250).map(|i| msg("T", json!({"i": i}))).collect();
    ns.write_batch("long-1", batch, WriteOpts::default())
        .await
        .unwrap();
    for (from, batch) in [(0, -1), (3, 120), (0, 101)] {
        let opts = GetStreamOpts::default().position(from).batch_size(batch);
        let whole = ns.get_stream("long-1", &opts).await.unwrap();
        let mut paged = Vec::new();
        loop {
            let at = from + paged.len() as i64;
            let page = ns
                .get_stream("long-1", &opts.position(at).batch_size(30))
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            paged.extend(page);
        }
        paged.truncate(if batch > 0 {
            batch as usize
        } else {
            usize::MAX
        });
        assert_eq!(
            ids(&whole),
            ids(&paged),
            "stream from {from}, batch {batch}"
        );
        assert!(
            whole.len() > 100,
            "stream from {from}, batch {batch}: {}",
            whole.len()
        );
    }
}
