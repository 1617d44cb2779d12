import { readdirSync, readFileSync } from "node:fs";

// StrykerJS (https://stryker-mutator.io/docs/stryker-js/configuration/): mutation testing of
// components/, one folder or file per run (`npm run mutate -- shared` or `-- shared/quantity.ts`;
// tests/mutation/run.mjs sets STRYKER_SCOPE). Not part of `npm test`: a full run takes hours on a 2-core machine.
// A folder (`shared`), a file (`shared/quantity.ts`), or several joined with commas (one dry run for all).
const scope = process.env.STRYKER_SCOPE ?? "shared";
const parts = scope.split(",");
const folders = [...new Set(parts.map((part) => part.split("/")[0]))];
const reportDir = `reports/mutation/${scope.replaceAll(".ts", "").replaceAll("/", "_").replaceAll(",", "+")}`;

// The real nginx/LuaJIT tests render only the gateway sidecars and the services' limiter: they
// never reach the ratelimit service, the cluster, routing or delivery code, so the runs of those
// folders leave them out (they would only slow the dry run down).
const REAL_BINARY_TESTS = ["tests/nginx-sidecar.test.ts", "tests/lua-log-path.test.ts", "tests/nginx-rate-limit.test.ts"];
const withoutRealBinaries = folders.every((folder) => ["global-rate-limit", "cluster", "routing", "delivery"].includes(folder));

// The order the test files run in. A mutant run stops at its first failing test (bail), so the
// files named after the mutated folder (tests/shared.test.ts for components/shared) come first,
// then those that call functions directly, those that render a whole stack under the mock runtime
// (0.5-1.5 s per stack and mode) after them, and the real nginx/LuaJIT tests (seconds of real time
// each) last. Mocha keeps the order of `spec` (mocha lib/cli/collect-files.cjs).
const RENDERS_A_STACK = /\b(runStack|runStackFresh|synthesizeStack|synthesize|renderedObjects|run)\(/;
const testFiles = readdirSync("tests")
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => `tests/${name}`)
    .filter((file) => !(withoutRealBinaries && REAL_BINARY_TESTS.includes(file)));
const cost = (file) =>
    (folders.some((folder) => file.startsWith(`tests/${folder}`)) ? 0 : 10) +
    (REAL_BINARY_TESTS.includes(file) ? 2 : RENDERS_A_STACK.test(readFileSync(file, "utf8")) ? 1 : 0);
const orderedTestFiles = testFiles.sort((a, b) => cost(a) - cost(b) || a.localeCompare(b));

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
    packageManager: "npm",
    testRunner: "mocha",
    // Reads .mocharc.json (cli/register.js and tests/setup.ts); the files and their order are set here.
    mochaOptions: { spec: orderedTestFiles },
    checkers: ["typescript"],
    // The checker type-checks each mutant against the files that import the mutated one: the
    // program's own files only, not every test and tool (components/shared is imported by all of
    // them). A mutant that only breaks a test's types is run, and a failing test kills it.
    tsconfigFile: "tsconfig.mutate.json",
    mutate: parts.map((part) => (part.endsWith(".ts") ? `components/${part}` : `components/${part}/**/*.ts`)),
    coverageAnalysis: "perTest",
    // Static mutants (module-level code: defaults tables, schema limits) need a fresh process and
    // every test each; on a 2-core machine that is 3-4 minutes per mutant. They are reported as
    // "Ignored" unless STRYKER_STATIC=1 (https://stryker-mutator.io/docs/mutation-testing-elements/static-mutants/);
    // the defaults that matter are pinned as literals in tests/operational-values.test.ts.
    ignoreStatic: process.env.STRYKER_STATIC !== "1",
    incremental: true,
    incrementalFile: `${reportDir}/stryker-incremental.json`,
    reporters: ["clear-text", "progress", "json"],
    jsonReporter: { fileName: `${reportDir}/mutation.json` },
    clearTextReporter: { reportMutants: true, reportTests: false, skipFull: false },
    // Processes: Stryker gives half to the TypeScript checker and half to test runners, and turns
    // the checkers into runners once every mutant is checked (core concurrency-token-provider.js).
    // Default 2 for a 2-core machine; STRYKER_CONCURRENCY to change.
    concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
    timeoutMS: 60000,
    // The coverage run renders a stack again in each test that reads one (tests/support/program.ts):
    // 1-1.5 min here today, and it grows with the suite; Stryker's default limit is 5 minutes.
    dryRunTimeoutMinutes: 30,
    ignorePatterns: ["out", "bin", ".tools", "reports", "kubernetes"],
    tempDirName: ".stryker-tmp",
    cleanTempDir: true,
};
