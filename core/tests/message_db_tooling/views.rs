//! Message DB's six report views.

use super::*;

/// The six views have Message DB's columns; each counts the messages of its own schema, and
/// percent is of all of them, rounded to two places (up and down), rows in Message DB's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_views_answer_as_message_db_does() {
    within(async {
        let db = TestDb::create(None).await;
        let store = Store::open(&db.url()).await.unwrap();
        store
            .create_namespace("reports", Default::default())
            .await
            .unwrap();
        let mut c = connect(&db.url()).await;

        let text = "text";
        let varchar = "character varying";
        let (bigint, numeric) = ("bigint", "numeric");
        let expected_columns: [(&str, &[(&str, &str)]); 6] = [
            (
                "stream_summary",
                &[
                    ("stream_name", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "type_summary",
                &[
                    ("type", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "stream_type_summary",
                &[
                    ("stream_name", text),
                    ("type", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "type_stream_summary",
                &[
                    ("type", text),
                    ("stream_name", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "category_type_summary",
                &[
                    ("category", varchar),
                    ("type", text),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
            (
                "type_category_summary",
                &[
                    ("type", text),
                    ("category", varchar),
                    ("message_count", bigint),
                    ("percent", numeric),
                ],
            ),
        ];
        let reports = schema_of(&mut c, "reports").await;
        for schema in ["message_store", reports.as_str()] {
            for (view, cols) in &expected_columns {
                let expected: Vec<(String, String)> = cols
                    .iter()
                    .map(|(n, t)| (n.to_string(), t.to_string()))
                    .collect();
                assert_eq!(
                    columns(&mut c, schema, view).await,
                    expected,
                    "{schema}.{view}"
                );
                // No messages: no rows (and no division by zero).
                assert!(
                    rows(&mut c, schema, view).await.is_empty(),
                    "{schema}.{view}"
                );
            }
        }

        // Seven messages, written out of order, through messagedb and through write_message.
        let ns = store.namespace("default");
        c.execute("SET search_path TO message_store").await.unwrap();
        write_message(&mut c, "order-1", "Placed").await;
        ns.write("account-2", msg("Opened", json!({})), WriteOpts::default())
            .await
            .unwrap();
        write_message(&mut c, "order-1", "Shipped").await;
        for t in ["Opened", "Deposited", "Deposited"] {
            ns.write("account-1", msg(t, json!({"t": t})), WriteOpts::default())
                .await
                .unwrap();
        }
        write_message(&mut c, "account-2", "Deposited").await;
        // The other namespace's schema counts only its own.
        store
            .namespace("reports")
            .write("report-1", msg("Ran", json!({})), WriteOpts::default())
            .await
            .unwrap();

        // 3/7 = 42.857… → 42.86, 2/7 = 28.571… → 28.57, 1/7 = 14.285… → 14.29.
        let expected: [(&str, Vec<Vec<String>>); 6] = [
            (
                "stream_summary",
                table(&[
                    &["account-1", "3", "42.86"],
                    &["account-2", "2", "28.57"],
                    &["order-1", "2", "28.57"],
                ]),
            ),
            (
                "type_summary",
                table(&[
                    &["Deposited", "3", "42.86"],
                    &["Opened", "2", "28.57"],
                    &["Placed", "1", "14.29"],
                    &["Shipped", "1", "14.29"],
                ]),
            ),
            (
                "stream_type_summary",
                table(&[
                    &["account-1", "Deposited", "2", "28.57"],
                    &["account-1", "Opened", "1", "14.29"],
                    &["account-2", "Deposited", "1", "14.29"],
                    &["account-2", "Opened", "1", "14.29"],
                    &["order-1", "Placed", "1", "14.29"],
                    &["order-1", "Shipped", "1", "14.29"],
                ]),
            ),
            (
                "type_stream_summary",
                table(&[
                    &["Deposited", "account-1", "2", "28.57"],
                    &["Deposited", "account-2", "1", "14.29"],
                    &["Opened", "account-1", "1", "14.29"],
                    &["Opened", "account-2", "1", "14.29"],
                    &["Placed", "order-1", "1", "14.29"],
                    &["Shipped", "order-1", "1", "14.29"],
                ]),
            ),
            (
                "category_type_summary",
                table(&[
                    &["account", "Deposited", "3", "42.86"],
                    &["account", "Opened", "2", "28.57"],
                    &["order", "Placed", "1", "14.29"],
                    &["order", "Shipped", "1", "14.29"],
                ]),
            ),
            (
                "type_category_summary",
                table(&[
                    &["Deposited", "account", "3", "42.86"],
                    &["Opened", "account", "2", "28.57"],
                    &["Placed", "order", "1", "14.29"],
                    &["Shipped", "order", "1", "14.29"],
                ]),
            ),
        ];
        for (view, want) in &expected {
            assert_eq!(&rows(&mut c, "message_store", view).await, want, "{view}");
        }
        assert_eq!(
            rows(&mut c, &reports, "stream_summary").await,
            table(&[&["report-1", "1", "100.00"]])
        );
        assert_eq!(
            rows(&mut c, &reports, "category_type_summary").await,
            table(&[&["report", "Ran", "1", "100.00"]])
        );

        drop(c);
        store.close().await;
        db.drop().await;
    })
    .await;
}
