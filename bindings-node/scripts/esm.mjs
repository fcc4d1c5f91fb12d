// Writes dist/index.mjs: the ESM entry re-exports the CommonJS build, one module instance for both.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const names = Object.keys(createRequire(import.meta.url)("../dist/index.cjs")).filter((n) => n !== "default" && n !== "__esModule");
writeFileSync(
  `${dist}index.mjs`,
  `import m from "./index.cjs";\nexport const { ${names.join(", ")} } = m;\nexport default m;\n`,
);
