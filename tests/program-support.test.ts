/**
 * The test helpers' shared setups under StrykerJS: a result kept from one run must not reach the
 * next, or every mutant is checked against the program as the first run rendered it.
 */
import assert from "node:assert/strict";
import { oncePerRun } from "./support/program";

describe("shared test setups (tests/support/program.ts)", () => {
    const global = globalThis as { __stryker__?: { activeMutant?: string; currentTestId?: string } };
    let saved: typeof global.__stryker__;
    beforeEach(() => {
        saved = global.__stryker__;
    });
    afterEach(() => {
        global.__stryker__ = saved;
    });

    it("computes once per test run, again for each mutant, and again for each test of Stryker's coverage run", async () => {
        let computed = 0;
        const setup = oncePerRun(async () => ++computed);
        global.__stryker__ = undefined;
        assert.deepEqual([await setup(), await setup()], [1, 1]);
        global.__stryker__ = { activeMutant: "7" };
        assert.deepEqual([await setup(), await setup()], [2, 2]);
        global.__stryker__ = { activeMutant: "8" };
        assert.equal(await setup(), 3);
        global.__stryker__ = { currentTestId: "a test" };
        assert.equal(await setup(), 4);
        global.__stryker__ = { currentTestId: "another test" };
        assert.deepEqual([await setup(), await setup()], [5, 5]);
    });
});
