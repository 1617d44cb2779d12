/**
 * Loaded by mocha before any test file (see .mocharc.json). It puts the Pulumi SDK in mock mode
 * before the program is imported, as Pulumi documents for unit tests, and turns unhandled
 * rejections (how errors thrown inside mocks and `apply` callbacks surface) into test failures.
 */
import * as pulumi from "@pulumi/pulumi";

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

export const mochaHooks = {
    afterEach() {
        if (rejections.length > 0) {
            const reasons = rejections.splice(0).map((r) => (r instanceof Error ? (r.stack ?? r.message) : String(r)));
            throw new Error(`unhandled rejection during the test:\n${reasons.join("\n")}`);
        }
    },
};
