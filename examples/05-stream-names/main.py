"""Stream names and their parts, as Message DB defines them: the category, the id, the cardinal
id, whether a name is a category, and hash64, which consumer groups split a category by.

python examples/05-stream-names/main.py
"""

import json
from typing import List, Optional, Tuple

import messagedb

# [example]
# A stream name is `category-id`. A `:` belongs to the category (`account:command` holds the
# commands for accounts); a `+` splits the id into the cardinal id and a suffix.
names: List[Tuple[str, str, Optional[str], Optional[str], bool]] = [
    ("account-123", "account", "123", "123", False),
    ("account:command-123", "account:command", "123", "123", False),
    ("account-123+456", "account", "123+456", "123", False),
    ("account", "account", None, None, True),
]
for name, want_category, want_id, want_cardinal, want_is_category in names:
    assert messagedb.category(name) == want_category
    assert messagedb.id(name) == want_id
    assert messagedb.cardinal_id(name) == want_cardinal
    assert messagedb.is_category(name) == want_is_category
    print(
        f"{name}: category {json.dumps(messagedb.category(name))}, "
        f"id {json.dumps(messagedb.id(name))}, "
        f"cardinal id {json.dumps(messagedb.cardinal_id(name))}, "
        f"is category {json.dumps(messagedb.is_category(name))}"
    )

# hash64 is Message DB's hash_64: the first 8 bytes of MD5, read as a signed 64-bit integer.
assert messagedb.hash64("abc") == -8070080442485551184
print(f'hash64("abc") = {messagedb.hash64("abc")}')

# A consumer group of `size` members gives a stream to member abs(hash64(cardinal id)) % size.
# The streams of one entity share a cardinal id, so one member gets them all, in order.
size = 4
for name in ["account-123", "account-123+456", "account:command-123"]:
    cardinal = messagedb.cardinal_id(name)
    assert cardinal is not None
    h = messagedb.hash64(cardinal)
    member = messagedb.consumer_group_member(name, size)
    assert (h, member) == (2318431741638412123, 3)
    print(f"{name}: hash64 {h}, member {member} of {size}")
# [/example]
