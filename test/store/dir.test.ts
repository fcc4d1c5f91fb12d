// The store scenarios against the installed package, in process, on a temporary SQLite directory.
import { rmSync } from "node:fs";
import { MessageStore } from "messagedb";
import { storeScenarios } from "./scenarios";
import { tempDir } from "./util";

storeScenarios("in-process directory", async () => {
  const dir = tempDir();
  const store = await MessageStore.open(dir);
  return {
    store,
    surface: "dir",
    async dispose() {
      await store.close(); // closing twice is allowed
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
