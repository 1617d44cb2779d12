/**
 * Loaded by mocha before any test file (see .mocharc.json). It puts the Pulumi SDK in mock mode
 * before the program is imported, as Pulumi documents for unit tests, and turns unhandled
 * rejections (how errors thrown inside mocks and `apply` callbacks surface) into test failures.
 */
import * as pulumi from "@pulumi/pulumi";
import { reportedRejections } from "../cli/mock-runtime";
import * as load from "../components/config/load";

void pulumi.runtime.setMocks(
    {
        newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
        call: (args) => args.inputs,
    },
    "bff-platform",
    "test",
    false,
);

const rejections: unknown[] = [];
process.on("unhandledRejection", (reason) => rejections.push(reason));

/** Rejections not already reported as the MockRunError of a program run. */
function unreported(): unknown[] {
    const fresh = rejections.splice(0).filter((r) => !reportedRejections.has(r));
    reportedRejections.clear();
    return fresh;
}

/**
 * The configuration is parsed inside tests, never while mocha loads the test files. StrykerJS
 * credits code that runs at load to no test: every mutant of what the parse reaches (all of
 * components/config) would then count as static, and be tested in a fresh process each instead of
 * in the running one (@stryker-mutator/core mutant-test-planner.js, reload-environment-decorator.js):
 * about ten times slower. A call at load fails the file, with the way out.
 */
let loadingTestFiles = true;
const parseStackConfig = load.parseStackConfig;
Object.defineProperty(load, "parseStackConfig", {
    enumerable: true,
    value: (...args: Parameters<typeof parseStackConfig>) => {
        if (loadingTestFiles) {
            throw new Error(
                "parseStackConfig was called while mocha loads the test files: call it inside a test (`it`, `beforeEach`), not in a `describe` body or at the top of a file",
            );
        }
        return parseStackConfig(...args);
    },
});

export const mochaHooks = {
    beforeAll() {
        loadingTestFiles = false;
    },
    afterEach() {
        const fresh = unreported();
        if (fresh.length > 0) {
            const reasons = fresh.map((r) => (r instanceof Error ? (r.stack ?? r.message) : String(r)));
            throw new Error(`unhandled rejection during the test:\n${reasons.join("\n")}`);
        }
    },
};
