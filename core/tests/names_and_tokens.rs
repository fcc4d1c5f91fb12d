//! Stream-name functions and the consumer-group rule (Message DB's vectors), and token parsing
//! (wire-protocol.md §5). Pure functions: no backend.

use messagedb::{
    cardinal_id, category, group_member, hash_64, id, in_consumer_group, is_category, stream_hash,
    token,
};

#[test]
fn stream_name_parts() {
    assert_eq!(category("account-123"), "account");
    assert_eq!(category("account-123-456"), "account");
    assert_eq!(category("account:command-123"), "account:command");
    assert_eq!(category("account"), "account");
    assert_eq!(category(""), "");
    assert_eq!(id("account-123-456"), Some("123-456"));
    assert_eq!(id("account"), None);
    assert_eq!(id("account-"), Some(""));
    assert_eq!(cardinal_id("account-123+retry+2"), Some("123"));
    assert_eq!(cardinal_id("account-123"), Some("123"));
    assert_eq!(cardinal_id("account"), None);
    assert!(is_category("account"));
    assert!(is_category("account:command"));
    assert!(!is_category("account-1"));
}

#[test]
fn consumer_group_vectors_of_design_md() {
    assert_eq!(hash_64("abc"), -8070080442485551184);
    assert_eq!(stream_hash("user-abc"), Some(-8070080442485551184));
    assert!(in_consumer_group("user-abc", 0, 4));
    assert!(in_consumer_group("account-123", 1, 2));
    assert!(in_consumer_group("account-123", 3, 4));
    assert!(in_consumer_group("account-456", 3, 4));
    assert!(in_consumer_group("account-456", 1, 3));
    assert!(in_consumer_group("order-7f3c2a", 4, 5));
    for size in 1..9 {
        let members: Vec<i64> = (0..size)
            .filter(|m| in_consumer_group("account-123", *m, size))
            .collect();
        assert_eq!(members.len(), 1, "exactly one member of {size}");
        assert!(
            in_consumer_group("account-123+retry", members[0], size),
            "the cardinal id decides"
        );
    }
    assert!(
        !(0..4).any(|m| in_consumer_group("account", m, 4)),
        "no id, no member"
    );
    assert_eq!(
        group_member(i64::MIN, 3),
        2,
        "no overflow on the smallest hash"
    );
    assert_eq!(group_member(-7, 4), 3);
}

#[test]
fn tokens_parse_with_the_exact_errors() {
    let t = token::generate_token("my-ns.1");
    assert_eq!(token::parse_token(&t), Ok("my-ns.1".to_string()));
    assert_eq!(
        token::parse_token(token::DEFAULT_TEST_TOKEN),
        Ok("default".to_string())
    );
    let zeros = "0".repeat(64);
    let cases = [
        (
            "xx_ZGVmYXVsdA_0".to_string(),
            "invalid token format: missing 'ns_' prefix",
        ),
        (
            format!("ns_ZGVm_YXVsdA_{zeros}"),
            "invalid token format: expected 2 parts after prefix, got 3",
        ),
        (
            "ns_ZGVmYXVsdA".to_string(),
            "invalid token format: expected 2 parts after prefix, got 1",
        ),
        (
            "ns_ZGVmYXVsdA_abc".to_string(),
            "invalid token format: random part must be 64 hex characters, got 3",
        ),
        (
            format!("ns_ZGVmYXVsdA_{}", "g".repeat(64)),
            "invalid token format: random part is not valid hexadecimal",
        ),
        (
            format!("ns_!!!_{zeros}"),
            "invalid token format: namespace part is not valid base64url",
        ),
        (
            format!("ns__{zeros}"),
            "invalid token format: namespace is empty",
        ),
    ];
    for (input, error) in cases {
        assert_eq!(
            token::parse_token(&input).map_err(|e| e.to_string()),
            Err(error.to_string()),
            "{input}"
        );
    }
    let hash = token::hash_token(&t);
    assert_eq!(hash.len(), 64);
    assert!(token::verify_token(&t, &hash));
    assert!(!token::verify_token(token::DEFAULT_TEST_TOKEN, &hash));
    assert_ne!(token::generate_token("a"), token::generate_token("a"));
}
