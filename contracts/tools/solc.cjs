#!/usr/bin/env node
// Makes solcjs answer like a native solc, so forge (which cannot download a
// native compiler here) builds, tests and fuzzes with the npm `solc` package.
// Supports the two calls forge makes: `--version` and `--standard-json`.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..", "..");
const solc = require(path.join(root, "node_modules", "solc"));

const args = process.argv.slice(2);

if (args.includes("--version")) {
  // forge parses "Version: X.Y.Z+commit.HASH"; report the real solcjs build.
  const long = solc.version().replace(".Emscripten.clang", ".Linux.g++");
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${long}\n`);
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("solc.cjs: only --version and --standard-json are supported\n");
  process.exit(2);
}

// forge sends every source it resolved; the callback covers anything it did not.
const searchRoots = [root, path.join(root, "node_modules"), process.cwd()];
for (let i = 0; i < args.length; i++) {
  if ((args[i] === "--base-path" || args[i] === "--include-path") && args[i + 1]) {
    searchRoots.push(path.resolve(args[i + 1]));
  }
}

function findImports(importPath) {
  for (const base of searchRoots) {
    const candidate = path.resolve(base, importPath);
    if (fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
