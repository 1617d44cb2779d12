/**
 * Loaded by mocha before any test file (see .mocharc.json). It puts the Pulumi SDK in mock mode
 * before the program is imported, as Pulumi documents for unit tests, and turns unhandled
 * rejections (how errors thrown inside mocks and `apply` callbacks surface) into test failures.
 */
import * as pulumi from "@pulumi/pulumi";
import { reportedRejections } from "../cli/mock-runtime";

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

export const mochaHooks = {
    afterEach() {
        const fresh = unreported();
        if (fresh.length > 0) {
            const reasons = fresh.map((r) => (r instanceof Error ? (r.stack ?? r.message) : String(r)));
            throw new Error(`unhandled rejection during the test:\n${reasons.join("\n")}`);
        }
    },
};
