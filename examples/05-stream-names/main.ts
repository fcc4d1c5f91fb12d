// Stream names and their parts, as Message DB defines them: the category, the id, the cardinal
// id, whether a name is a category, and hash64, which consumer groups split a category by.
//
// bun examples/05-stream-names/main.ts
import assert from "node:assert/strict";
import { cardinalId, category, consumerGroupMember, hash64, id, isCategory } from "messagedb";

// [example]
// A stream name is `category-id`. A `:` belongs to the category (`account:command` holds the
// commands for accounts); a `+` splits the id into the cardinal id and a suffix.
const names: [string, string, string | null, string | null, boolean][] = [
  ["account-123", "account", "123", "123", false],
  ["account:command-123", "account:command", "123", "123", false],
  ["account-123+456", "account", "123+456", "123", false],
  ["account", "account", null, null, true],
];
for (const [name, wantCategory, wantId, wantCardinal, wantIsCategory] of names) {
  assert.equal(category(name), wantCategory);
  assert.equal(id(name), wantId);
  assert.equal(cardinalId(name), wantCardinal);
  assert.equal(isCategory(name), wantIsCategory);
  console.log(
    `${name}: category ${JSON.stringify(category(name))}, id ${JSON.stringify(id(name))}, ` +
      `cardinal id ${JSON.stringify(cardinalId(name))}, is category ${isCategory(name)}`,
  );
}

// hash64 is Message DB's hash_64: the first 8 bytes of MD5, read as a signed 64-bit integer
// (a bigint: a number cannot hold every value).
assert.equal(hash64("abc"), -8070080442485551184n);
console.log(`hash64("abc") = ${hash64("abc")}`);

// A consumer group of `size` members gives a stream to member abs(hash64(cardinal id)) % size.
// The streams of one entity share a cardinal id, so one member gets them all, in order.
const size = 4;
for (const name of ["account-123", "account-123+456", "account:command-123"]) {
  const hash = hash64(cardinalId(name)!);
  const member = consumerGroupMember(name, size);
  assert.deepEqual([hash, member], [2318431741638412123n, 3]);
  console.log(`${name}: hash64 ${hash}, member ${member} of ${size}`);
}
// [/example]
