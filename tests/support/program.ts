/**
 * Test helpers: run the real program for a stack file (or a variation of it) under the mock
 * runtime, in `up` or `preview` mode, and look up what it registered.
 */
import assert from "node:assert/strict";
import { join } from "path";
import { ConfigError, parseStackConfig } from "../../components/config";
import { main } from "../../stacks";
import { Mode, RegisteredResource, runProgram, RunResult } from "../../cli/mock-runtime";
import { KubeObject, kubernetesObjects } from "../../cli/render";
import { readStackFile, StackFile } from "../../cli/stack-file";

export const PROJECT_DIR = join(__dirname, "..", "..");
export const STACKS = ["dev", "production"] as const;
export type StackName = (typeof STACKS)[number];

/** The config map of a committed stack file, as the engine would pass it. */
export function stackFile(stack: StackName): StackFile {
    return readStackFile(join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "bff-platform");
}

/** A copy of a stack's config map with one `bff-platform:` key changed by `edit` (on parsed JSON). */
export function editConfig(configMap: Record<string, string>, key: string, edit: (value: any) => unknown): Record<string, string> {
    const fullKey = `bff-platform:${key}`;
    const current = configMap[fullKey] === undefined ? undefined : JSON.parse(configMap[fullKey]);
    const copy = current === undefined ? undefined : JSON.parse(JSON.stringify(current));
    const edited = edit(copy);
    const result = { ...configMap };
    const value = edited === undefined ? copy : edited;
    if (value === undefined) {
        delete result[fullKey];
    } else {
        result[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return result;
}

/** Runs the program with a config map. */
export function run(configMap: Record<string, string>, mode: Mode = "up", stack = "test", secretKeys: string[] = []): Promise<RunResult> {
    return runProgram(main, { project: "bff-platform", stack, configMap, secretKeys, mode });
}

/** Runs the program for a committed stack file. */
export function runStack(stack: StackName, mode: Mode = "up"): Promise<RunResult> {
    const file = stackFile(stack);
    return run(file.configMap, mode, stack, file.secretKeys);
}

/** The single resource of `type` named `name`; fails when there is none or several. */
export function findResource(result: RunResult, type: string, name: string): RegisteredResource {
    const matches = result.resources.filter((r) => r.type === type && r.name === name);
    if (matches.length !== 1) {
        throw new Error(`expected one ${type} named ${name}, found ${matches.length}`);
    }
    return matches[0];
}

export function resourcesOfType(result: RunResult, type: string): RegisteredResource[] {
    return result.resources.filter((r) => r.type === type);
}

/** The problems a config map is rejected with; fails the test when it is accepted. */
export function configProblems(configMap: Record<string, string>): string[] {
    try {
        parseStackConfig(configMap);
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
        return error.problems;
    }
    assert.fail("the configuration was accepted");
}

/**
 * StrykerJS's per-test state (https://stryker-mutator.io/docs/stryker-js/configuration/, option
 * `globalNamespace`, default `__stryker__`): the mutant being tested, and during the coverage run
 * the test being run. Undefined outside `npm run mutate`.
 */
function strykerRunKey(): string {
    const stryker = (globalThis as { __stryker__?: { activeMutant?: string; currentTestId?: string } }).__stryker__;
    if (stryker === undefined) {
        return "";
    }
    // Coverage run: render again in every test, so each test is seen covering the code it checks.
    // Mutant run: render once per mutant, with the mutant active.
    return stryker.activeMutant === undefined ? `coverage:${stryker.currentTestId ?? ""}` : `mutant:${stryker.activeMutant}`;
}

const renderedCache = new Map<StackName, Promise<KubeObject[]>>();
let renderedRunKey = "";

/**
 * The Kubernetes objects synth writes for a committed stack (`up` mode), rendered once per test
 * run and shared by the tests that read them (a production run takes seconds).
 */
export function renderedObjects(stack: StackName): Promise<KubeObject[]> {
    const runKey = strykerRunKey();
    if (runKey !== renderedRunKey) {
        renderedCache.clear();
        renderedRunKey = runKey;
    }
    let objects = renderedCache.get(stack);
    if (objects === undefined) {
        objects = runStack(stack).then((result) => kubernetesObjects(result.resources));
        renderedCache.set(stack, objects);
    }
    return objects;
}
