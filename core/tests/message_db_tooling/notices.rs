//! The debug NOTICEs of Message DB's functions.

use super::*;

/// The NOTICEs `psql` prints while running `commands` (a notice spanning several lines is one
/// item).
async fn notices(url: &str, commands: &[&str]) -> Vec<String> {
    let mut psql = tokio::process::Command::new("psql");
    psql.arg(url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .env("PGOPTIONS", "-c client_min_messages=notice")
        .env("PGCLIENTENCODING", "UTF8")
        .kill_on_drop(true);
    for command in commands {
        psql.args(["-c", command]);
    }
    let out = psql
        .output()
        .await
        .expect("psql runs (the PostgreSQL client must be installed)");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert!(out.status.success(), "psql failed: {stderr}");
    let mut notices: Vec<String> = Vec::new();
    for line in stderr.lines() {
        match line.strip_prefix("NOTICE:  ") {
            Some(notice) => notices.push(notice.to_string()),
            None => match notices.last_mut() {
                Some(last) => {
                    last.push('\n');
                    last.push_str(line);
                }
                None => panic!("psql printed something other than a notice: {stderr}"),
            },
        }
    }
    notices
}

/// Replaces the text of each `Generated Command: …` notice (our SQL, laid out our way) after
/// checking that it is the command run.
fn without_commands(notices: Vec<String>) -> Vec<String> {
    notices
        .into_iter()
        .map(|n| match n.strip_prefix("Generated Command: ") {
            Some(command) => {
                assert!(
                    command.contains("FROM") && command.contains("messages"),
                    "{command}"
                );
                "Generated Command: …".to_string()
            }
            None => n,
        })
        .collect()
}

/// With `message_store.debug` (or `.debug_write` / `.debug_get`) on, the functions say what they
/// were called with, in Message DB's words; with the settings off (the default), nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_settings_raise_message_db_notices() {
    within(async {
        let db = TestDb::create(None).await;
        let store = Store::open(&db.url()).await.unwrap();
        let url = db.url();
        let id = uuid::Uuid::now_v7().to_string();
        let hash = messagedb::hash_64("debug");
        let write = format!(
            "SELECT write_message('{id}', 'debug-1', 'Tested', '{{\"n\": 1}}', '{{\"m\": true}}', -1)"
        );
        let reads = [
            "SELECT * FROM get_stream_messages('debug-1', 0, 10)",
            "SELECT * FROM get_category_messages('debug', 1, 10, NULL, 0, 1)",
            "SELECT * FROM get_last_stream_message('debug-1', 'Tested')",
        ];
        let write_notices: Vec<String> = [
            "» acquire_lock".to_string(),
            "stream_name: debug-1".into(),
            "_category: debug".into(),
            format!("_category_name_hash: {hash}"),
            "» write_message".into(),
            format!("id ($1): {id}"),
            "stream_name ($2): debug-1".into(),
            "type ($3): Tested".into(),
            "data ($4): {\"n\": 1}".into(),
            "metadata ($5): {\"m\": true}".into(),
            "expected_version ($6): -1".into(),
            "_stream_version: -1".into(),
            "_next_position: 0".into(),
        ]
        .into();
        let read_notices: Vec<String> = [
            "» get_stream_messages",
            "stream_name ($1): debug-1",
            "position ($2): 0",
            "batch_size ($3): 10",
            "condition ($4): <NULL>",
            "Generated Command: …",
            "» get_category_messages",
            "category ($1): debug",
            "position ($2): 1",
            "batch_size ($3): 10",
            "correlation ($4): <NULL>",
            "consumer_group_member ($5): 0",
            "consumer_group_size ($6): 1",
            "condition: <NULL>",
            "Generated Command: …",
            "» get_last_message",
            "stream_name ($1): debug-1",
            "type ($2): Tested",
            "Generated Command: …",
        ]
        .map(String::from)
        .into();

        let session = |setting: Option<&str>, write: &str| {
            let mut commands = vec!["SET search_path TO message_store".to_string()];
            if let Some(s) = setting {
                commands.push(format!("SET {s} = on"));
            }
            commands.push(write.to_string());
            commands.extend(reads.iter().map(|r| r.to_string()));
            commands
        };
        let run = |commands: Vec<String>| {
            let url = url.clone();
            async move {
                let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
                without_commands(notices(&url, &commands).await)
            }
        };

        // Off by default: not a word.
        let quiet = run(session(None, "SELECT write_message(gen_random_uuid()::text, 'quiet-1', 'Q', '{}')")).await;
        assert_eq!(quiet, Vec::<String>::new());

        let all = run(session(Some("message_store.debug"), &write)).await;
        let mut expected = write_notices.clone();
        expected.extend(read_notices.iter().cloned());
        assert_eq!(all, expected);

        // debug_write: the write (and the lock it takes), not the reads.
        let id2 = uuid::Uuid::now_v7().to_string();
        let write2 = write
            .replace(&id, &id2)
            .replace("'{\"m\": true}', -1", "NULL, 0");
        let writes = run(session(Some("message_store.debug_write"), &write2)).await;
        let mut expected: Vec<String> = write_notices
            .iter()
            .map(|n| n.replace(&id, &id2))
            .collect();
        expected[9] = "metadata ($5): <NULL>".into();
        expected[10] = "expected_version ($6): 0".into();
        expected[11] = "_stream_version: 0".into();
        expected[12] = "_next_position: 1".into();
        assert_eq!(writes, expected);

        // debug_get: the reads, not the write.
        let gets = run(session(
            Some("message_store.debug_get"),
            "SELECT write_message(gen_random_uuid()::text, 'debug-2', 'Tested', '{}')",
        ))
        .await;
        assert_eq!(gets, read_notices);

        // Turned off again within a session: quiet again.
        let off = run(vec![
            "SET search_path TO message_store".into(),
            "SET message_store.debug = on".into(),
            "SET message_store.debug = off".into(),
            reads[0].into(),
        ])
        .await;
        assert_eq!(off, Vec::<String>::new());

        store.close().await;
        db.drop().await;
    })
    .await;
}
