/**
 * Layer rules, checked in `npm test` (`npm run depcruise`):
 *   components/shared  building blocks: import no component
 *   components/*       capabilities: may import shared and config, never stacks, cli, harness, bench or tests
 *   stacks/            composition: imports components, never cli, harness, bench or tests
 *   cli/               the product's commands (synth, mock runtime, renderers): may import the program
 *   harness/           real components run on loopback (nginx, LuaJIT): shared by tests and bench
 *   bench/             benchmarks: may import everything but tests
 *   tests/             may import everything but bench
 *   policy/            the CrossGuard pack: plain rules over resources; may import shared and config only
 */
module.exports = {
    forbidden: [
        {
            name: "shared-imports-no-component",
            comment: "Shared building blocks are used by every component and must not depend on any of them.",
            severity: "error",
            from: { path: "^components/shared/" },
            to: { path: "^components/", pathNot: "^components/shared/" },
        },
        {
            name: "config-imports-only-shared",
            comment: "The config schema is read by every component; it may only use the shared building blocks.",
            severity: "error",
            from: { path: "^components/config/" },
            to: { path: "^components/", pathNot: "^components/(shared|config)/" },
        },
        {
            name: "components-not-to-stacks-or-commands",
            comment: "Components are reusable capabilities; composition lives in stacks/, commands in cli/.",
            severity: "error",
            from: { path: "^components/" },
            to: { path: "^(stacks|cli|harness|bench|tests)/" },
        },
        {
            name: "program-not-to-commands",
            comment: "The program must not depend on synth or the mock runtime: `pulumi up` runs it without them.",
            severity: "error",
            from: { path: "^(stacks/|index\\.ts$)" },
            to: { path: "^(cli|harness|bench|tests)/" },
        },
        {
            name: "cli-not-to-tests-or-bench",
            comment: "The commands users run must not load test or benchmark code.",
            severity: "error",
            from: { path: "^cli/" },
            to: { path: "^(tests|bench|harness)/" },
        },
        {
            name: "harness-not-to-tests-or-bench",
            severity: "error",
            from: { path: "^harness/" },
            to: { path: "^(tests|bench|cli)/" },
        },
        {
            name: "policy-imports-only-shared-and-config",
            comment: "The policy pack judges what the program registers; it must not run or reuse the program itself.",
            severity: "error",
            from: { path: "^policy/" },
            to: { path: "^(components/(?!shared/|config/)|stacks/|cli/|harness/|bench/|tests/|index\\.ts$)" },
        },
        {
            name: "only-tests-import-policy",
            comment: "The program never loads its own policies; the tests run them over the recorded resources.",
            severity: "error",
            from: { pathNot: "^(policy|tests)/" },
            to: { path: "^policy/" },
        },
        {
            name: "tests-not-to-bench",
            comment: "Tests import no benchmark file: what both need lives in harness/.",
            severity: "error",
            from: { path: "^tests/" },
            to: { path: "^bench/" },
        },
        {
            name: "program-not-to-dev-dependencies",
            comment: "What `pulumi up` loads must come from dependencies, not devDependencies.",
            severity: "error",
            from: { path: "^(components|stacks)/|^index\\.ts$" },
            to: { dependencyTypes: ["npm-dev"] },
        },
        {
            name: "no-circular",
            severity: "error",
            from: {},
            to: { circular: true },
        },
    ],
    options: {
        doNotFollow: { path: "node_modules" },
        tsPreCompilationDeps: true,
        tsConfig: { fileName: "tsconfig.json" },
        exclude: { path: "^(out|bin|node_modules|\.tools|reports|\.stryker-tmp)/" },
    },
};
