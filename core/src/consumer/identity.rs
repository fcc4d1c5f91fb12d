//! A consumer's identity and the names of its streams (consumers.md, "The model"), named as
//! Eventide names them so that an Eventide consumer and a messagedb consumer with the same
//! identifier share their position.

use crate::model::ConsumerGroup;
use crate::rules::{self, MAX_STREAM_NAME_BYTES};
use crate::{Error, Result, names};

/// The category qualifier of position streams.
pub const POSITION_QUALIFIER: &str = "position";
/// The category qualifier of parked-message streams.
pub const PARKED_QUALIFIER: &str = "parked";
/// What a whole-namespace consumer's streams are named after.
const ALL: &str = "$all";

/// Who a consumer is: its category (`""` = the whole namespace), its name and its consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerId {
    category: String,
    name: String,
    group: Option<ConsumerGroup>,
}

impl ConsumerId {
    /// Checks the parts: a category name (no `-`), a name of 1–128 characters of
    /// `[A-Za-z0-9_.-]`, and the group's rules (checked when it was made).
    ///
    /// # Errors
    /// `INVALID_REQUEST`.
    pub fn new(category: &str, name: &str, group: Option<ConsumerGroup>) -> Result<Self> {
        rules::check_category(category)?;
        if category.contains('-') {
            return Err(Error::invalid(format!(
                "a consumer reads a category, and '{category}' is a stream name"
            )));
        }
        rules::check_consumer_name(name)?;
        let id = ConsumerId {
            category: category.to_owned(),
            name: name.to_owned(),
            group,
        };
        // Both names must be valid stream names.
        rules::check_text(
            &id.parked_stream(),
            "the parked stream's name",
            MAX_STREAM_NAME_BYTES,
        )?;
        Ok(id)
    }

    /// The category read (`""` = every message of the namespace).
    pub fn category(&self) -> &str {
        &self.category
    }

    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The consumer group member, if any.
    pub fn group(&self) -> Option<ConsumerGroup> {
        self.group
    }

    /// `name`, or `<name>_<member>_<size>` for a group member (the size is part of it, so that a
    /// changed group size never reuses another partition's position).
    pub fn identifier(&self) -> String {
        match self.group {
            None => self.name.clone(),
            Some(g) => format!("{}_{}_{}", self.name, g.member, g.size),
        }
    }

    /// `<category>:position-<identifier>` (Eventide's name; `account:command+position-…` when
    /// the category has qualifiers, `$all:position-…` for the whole namespace).
    pub fn position_stream(&self) -> String {
        self.stream(POSITION_QUALIFIER)
    }

    /// `<category>:parked-<identifier>`, named as the position stream is.
    pub fn parked_stream(&self) -> String {
        self.stream(PARKED_QUALIFIER)
    }

    fn stream(&self, qualifier: &str) -> String {
        format!(
            "{}{}",
            stream_prefix(&self.category, qualifier),
            self.identifier()
        )
    }

    /// The identity whose position stream this is (`None` for any other stream). A trailing
    /// `_<member>_<size>` is read as a consumer group, as [`ConsumerId::identifier`] writes it.
    pub fn from_position_stream(stream_name: &str) -> Option<ConsumerId> {
        let marker = format!("{POSITION_QUALIFIER}-");
        let (head, identifier) = [':', '+'].iter().find_map(|sep| {
            let at = stream_name.find(&format!("{sep}{marker}"))?;
            Some((&stream_name[..at], &stream_name[at + 1 + marker.len()..]))
        })?;
        let category = if head == ALL { "" } else { head };
        let mut parts = identifier.rsplitn(3, '_');
        let group = match (parts.next(), parts.next(), parts.next()) {
            (Some(size), Some(member), Some(name)) => {
                match (member.parse::<i64>(), size.parse::<i64>()) {
                    (Ok(m), Ok(s)) => ConsumerGroup::new(m, s).ok().map(|g| (name, g)),
                    _ => None,
                }
            }
            _ => None,
        };
        let (name, group) = match group {
            Some((name, g)) => (name, Some(g)),
            None => (identifier, None),
        };
        let id = ConsumerId::new(category, name, group).ok()?;
        (id.position_stream() == stream_name).then_some(id)
    }
}

/// The start of the names of a category's consumer streams of one kind: `<category>:<qualifier>-`
/// (`+` when the category has qualifiers, `$all` for the whole namespace).
pub(crate) fn stream_prefix(category: &str, qualifier: &str) -> String {
    let category = match category {
        "" => ALL,
        c => c,
    };
    let separator = if category.contains(':') { '+' } else { ':' };
    format!("{category}{separator}{qualifier}-")
}

/// Whether a stream is a consumer's own record (position or parked messages), which a
/// whole-namespace consumer never hands out.
pub fn is_consumer_record(stream_name: &str) -> bool {
    let category = names::category(stream_name);
    let Some((_, qualifiers)) = category.split_once(':') else {
        return false;
    };
    qualifiers
        .split('+')
        .any(|q| q == POSITION_QUALIFIER || q == PARKED_QUALIFIER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_named_as_eventide_names_them() {
        let plain = ConsumerId::new("account", "projector", None).unwrap();
        assert_eq!(plain.position_stream(), "account:position-projector");
        assert_eq!(plain.parked_stream(), "account:parked-projector");
        let group = ConsumerGroup::new(1, 3).unwrap();
        let member = ConsumerId::new("account", "projector", Some(group)).unwrap();
        assert_eq!(member.position_stream(), "account:position-projector_1_3");
        let typed = ConsumerId::new("account:command", "handler", None).unwrap();
        assert_eq!(typed.position_stream(), "account:command+position-handler");
        let all = ConsumerId::new("", "audit", None).unwrap();
        assert_eq!(all.position_stream(), "$all:position-audit");
        assert_eq!(
            names::category(&plain.position_stream()),
            "account:position"
        );
        for record in [
            "account:position-projector",
            "account:command+position-handler",
            "$all:parked-audit",
        ] {
            assert!(is_consumer_record(record), "{record}");
        }
        for id in [&plain, &member, &typed, &all] {
            assert_eq!(
                ConsumerId::from_position_stream(&id.position_stream()).as_ref(),
                Some(id)
            );
        }
        let underscored = ConsumerId::new("account", "a_b", None).unwrap();
        assert_eq!(
            ConsumerId::from_position_stream(&underscored.position_stream()),
            Some(underscored)
        );
        assert_eq!(ConsumerId::from_position_stream("account-1"), None);
        for other in [
            "account-1",
            "account:command-1",
            "positions-1",
            "a:positional-1",
        ] {
            assert!(!is_consumer_record(other), "{other}");
        }
    }

    #[test]
    fn bad_identities_are_refused() {
        for (category, name) in [("account-1", "n"), ("account", ""), ("account", "a b")] {
            assert_eq!(
                ConsumerId::new(category, name, None).map_err(|e| e.code()),
                Err("INVALID_REQUEST"),
                "{category:?} {name:?}"
            );
        }
    }
}
