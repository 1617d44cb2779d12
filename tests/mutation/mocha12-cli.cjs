// Loaded with `node --require` into Stryker and its workers by tests/mutation/run.mjs.
// @stryker-mutator/mocha-runner 10.0.0 requires Mocha's cli internals without an extension
// (`mocha/lib/cli/run-helpers`, `lib/cli/options`, `lib/cli/collect-files`); Mocha 12 renamed them
// to `.cjs`, so the plugin fails to load ("Cannot find TestRunner plugin mocha"). Upstream fix, not
// released yet: https://github.com/stryker-mutator/stryker-js/pull/6205. Until then, let an
// extensionless require() also find `.cjs` files, loaded as CommonJS like any `.cjs`.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded with --require, before any module system
const Module = require("node:module");

if (!Module._extensions[".cjs"]) {
    Module._extensions[".cjs"] = Module._extensions[".js"];
}
