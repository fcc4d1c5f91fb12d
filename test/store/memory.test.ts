// The store scenarios against the installed package, in process, on ":memory:".
import { MessageStore } from "messagedb";
import { storeScenarios } from "./scenarios";

storeScenarios("in-process :memory:", async () => {
  const store = await MessageStore.open(":memory:");
  let closed = false;
  return {
    store,
    surface: "memory",
    async dispose() {
      if (!closed) await store.close();
      closed = true;
    },
  };
});
