/**
 * Layer rules, checked in `npm test` (`npm run depcruise`):
 *   components/shared  building blocks: import no component
 *   components/*       capabilities: may import shared and config, never stacks, tools or tests
 *   stacks/            composition: imports components, never tools or tests
 *   tools/             synth, bench, mock runtime: may import the program, never tests
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
            name: "components-not-to-stacks-or-tools",
            comment: "Components are reusable capabilities; composition lives in stacks/, review tooling in tools/.",
            severity: "error",
            from: { path: "^components/" },
            to: { path: "^(stacks|tools|tests)/" },
        },
        {
            name: "stacks-not-to-tools",
            comment: "The program must not depend on synth or the mock runtime: `pulumi up` runs it without them.",
            severity: "error",
            from: { path: "^(stacks/|index\\.ts$)" },
            to: { path: "^(tools|tests)/" },
        },
        {
            name: "tools-not-to-tests",
            severity: "error",
            from: { path: "^tools/" },
            to: { path: "^tests/" },
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
        exclude: { path: "^(out|bin|node_modules)/" },
    },
};
