/**
 * Test helpers: run the real program for a stack file (or a variation of it) under the mock
 * runtime, in `up` or `preview` mode, and look up what it registered.
 *
 * A committed stack's run and synth output are computed once per test process and mode (once per
 * mutant under `npm run mutate`), and shared by every test file (`runStack`, `synthesizeStack`):
 * each caller gets its own deep copy, so a test
 * that changes what it got cannot change what the next one sees. Tests of determinism compare
 * independent runs: `runStackFresh` and `synthesize` itself.
 */
import assert from "node:assert/strict";
import { join } from "path";
import { ConfigError, parseStackConfig, SecretOptions } from "../../components/config";
import { main } from "../../stacks";
import { Mode, RegisteredResource, runProgram, RunResult } from "../../cli/mock-runtime";
import { KubeObject, kubernetesObjects } from "../../cli/render";
import { readStackFile, StackFile, stackNames } from "../../cli/stack-file";
import { synthesize, SynthResult } from "../../cli/synth";

export const PROJECT_DIR = join(__dirname, "..", "..");
/** Every committed stack: each `Pulumi.<stack>.yaml` of the project, found by name, not listed. */
export const STACKS: readonly string[] = stackNames(PROJECT_DIR);
export type StackName = string;

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

/** The stack a config map belongs to: the one named like its environment (the program requires that they agree). */
export function stackOf(configMap: Record<string, string>): string {
    return configMap["bff-platform:environment"] ?? "test";
}

/** Runs the program with a config map, as the stack named like its environment by default. */
export function run(
    configMap: Record<string, string>,
    mode: Mode = "up",
    stack = stackOf(configMap),
    secretKeys: string[] = [],
): Promise<RunResult> {
    return runProgram(main, { project: "bff-platform", stack, configMap, secretKeys, mode });
}

/** Runs the program for a committed stack file, in a run of its own. */
export function runStackFresh(stack: StackName, mode: Mode = "up"): Promise<RunResult> {
    const file = stackFile(stack);
    return run(file.configMap, mode, stack, file.secretKeys);
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
    // Mutant run: render once per mutant, with the mutant active. Stryker's mocha runner loads the
    // test files once and keeps this module's state across runs
    // (@stryker-mutator/mocha-runner mocha-test-runner.js: `loadFilesAsync` only while `!loadedEnv`),
    // so a result kept from an earlier run would hide the active mutant.
    return stryker.activeMutant === undefined ? `coverage:${stryker.currentTestId ?? ""}` : `mutant:${stryker.activeMutant}`;
}

/** Every cache of rendered output, emptied whenever the Stryker run changes. */
const caches: Map<string, unknown>[] = [];
let cachedRunKey = "";

/** A cache of rendered output that lives as long as one test run. */
function runCache<T>(): Map<string, Promise<T>> {
    const cache = new Map<string, Promise<T>>();
    caches.push(cache);
    return cache;
}

/** The first call's promise per key in this test run; a failed one is forgotten, so the next caller runs again. */
function firstInRun<T>(cache: Map<string, Promise<T>>, key: string, compute: () => Promise<T>): Promise<T> {
    const runKey = strykerRunKey();
    if (runKey !== cachedRunKey) {
        caches.forEach((c) => c.clear());
        cachedRunKey = runKey;
    }
    let pending = cache.get(key);
    if (pending === undefined) {
        pending = compute();
        cache.set(key, pending);
        pending.catch(() => cache.delete(key));
    }
    return pending;
}

/** `firstInRun`, with a deep copy for each caller. */
function shared<T>(cache: Map<string, Promise<T>>, key: string, compute: () => Promise<T>): Promise<T> {
    return firstInRun(cache, key, compute).then((value) => structuredClone(value));
}

/**
 * A setup that a file's tests share and only read, computed once per test run: once in `npm test`,
 * once per mutant under StrykerJS, and once per test in its coverage run. Call it from `beforeEach`,
 * not `before`: Stryker records coverage under the test being run, and its mocha runner sets that
 * test in a root `beforeEach` (@stryker-mutator/mocha-runner mocha-test-runner.js, `currentTestId`),
 * so what a `before` hook executes is credited to whichever test ran last, in another file.
 */
export function oncePerRun<T>(compute: () => Promise<T>): () => Promise<T> {
    const cache = runCache<T>();
    return () => firstInRun(cache, "", compute);
}

const stackRuns = runCache<RunResult>();
const stackSynths = runCache<SynthResult>();

/** What the program registers for a committed stack file (one shared run; a copy per call). */
export function runStack(stack: StackName, mode: Mode = "up"): Promise<RunResult> {
    return shared(stackRuns, `${stack}/${mode}`, () => runStackFresh(stack, mode));
}

/** What `npm run synth -- --stack <stack>` would write (one shared synth; a copy per call). */
export function synthesizeStack(stack: StackName, mode: Mode = "up"): Promise<SynthResult> {
    return shared(stackSynths, `${stack}/${mode}`, () => synthesize({ stack, projectDir: PROJECT_DIR, mode }));
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

/** The problems a config map is rejected with (as the stack named like its environment by default); fails the test when it is accepted. */
export function configProblems(configMap: Record<string, string>, stack = stackOf(configMap), secrets: SecretOptions = {}): string[] {
    try {
        parseStackConfig(configMap, stack, secrets);
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
        return error.problems;
    }
    assert.fail("the configuration was accepted");
}

const renderedCache = runCache<KubeObject[]>();

/**
 * The Kubernetes objects synth writes for a committed stack (`up` mode), rendered once per test
 * run and shared by the tests that read them (a production run takes seconds).
 */
export function renderedObjects(stack: StackName): Promise<KubeObject[]> {
    return shared(renderedCache, stack, () => runStack(stack).then((result) => kubernetesObjects(result.resources)));
}
