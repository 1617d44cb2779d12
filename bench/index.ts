/**
 * `npm run bench [-- --sizes 10,100,500] [--repeats 3]`
 *
 * First the production synth as a user runs it (`npm run synth`, a fresh process) against a cdk8s
 * process writing the same objects, measured in the same run, and its phases (bench/synth-e2e.ts).
 * Then synth time and peak memory for generated stacks of growing size: Pulumi.production.yaml with
 * `bff-platform:services` replaced by N clones of the production services (see
 * bench/synth-worker.ts). Each size runs in a fresh child process, so its peak RSS is its own;
 * the timed part is `synthesizeStackFile` alone, after module loading and a warm-up run.
 * Prints figures; exits non-zero only when a child fails.
 */
import { fork } from "child_process";
import { join } from "path";
import { benchProductionSynth } from "./synth-e2e";
import type { WorkerResult } from "./synth-worker";
import { table } from "./table";

const DEFAULT_SIZES = [10, 100, 500];
const DEFAULT_REPEATS = 3;
/** Synth of a 100-service stack should stay under this (ms). */
const TARGET_100_MS = 3000;
/** Synth of 500 services within this factor of 100 services (5x is linear). */
const TARGET_500_OVER_100 = 5.5;
/** Runs of each process in the end-to-end comparison, unless --repeats says otherwise. */
const DEFAULT_E2E_REPEATS = 5;

interface BenchOptions {
    sizes: number[];
    repeats: number;
    e2eRepeats: number;
}

class UsageError extends Error {}

const USAGE = "usage: npm run bench [-- --sizes 10,100,500] [--repeats 3]";

function positiveInt(text: string | undefined, what: string): number {
    const value = Number(text);
    if (text === undefined || text.trim() === "" || !Number.isInteger(value) || value < 1) {
        throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(text ?? "")}`);
    }
    return value;
}

function parseArgs(argv: string[]): BenchOptions {
    const options: BenchOptions = { sizes: DEFAULT_SIZES, repeats: DEFAULT_REPEATS, e2eRepeats: DEFAULT_E2E_REPEATS };
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].split(/=(.*)/s, 2);
        const value = () => {
            const v = inline ?? argv[++i];
            if (v === undefined || v.startsWith("--")) {
                throw new UsageError(`${flag} needs a value`);
            }
            return v;
        };
        if (flag === "--sizes") {
            const sizes = value()
                .split(",")
                .map((s) => positiveInt(s, "each of --sizes"));
            options.sizes = [...new Set(sizes)].sort((a, b) => a - b);
        } else if (flag === "--repeats") {
            options.repeats = positiveInt(value(), "--repeats");
            options.e2eRepeats = options.repeats;
        } else if (flag === "--help" || flag === "-h") {
            throw new UsageError("");
        } else {
            throw new UsageError(`unknown argument ${argv[i]}`);
        }
    }
    return options;
}

/** Runs one size in a fresh Node process (cli/register.js, --expose-gc for a collection before each run). */
function runSize(services: number, repeats: number): Promise<WorkerResult> {
    return new Promise((resolve, reject) => {
        const child = fork(join(__dirname, "synth-worker.ts"), [String(services), "--repeats", String(repeats)], {
            execArgv: ["--expose-gc", "-r", require.resolve("../cli/register.js")],
            stdio: ["ignore", "inherit", "inherit", "ipc"],
        });
        let result: WorkerResult | undefined;
        child.on("message", (message) => {
            result = message as WorkerResult;
        });
        child.on("error", reject);
        child.on("exit", (code, signal) => {
            if (code === 0 && result !== undefined) {
                resolve(result);
            } else {
                reject(
                    new Error(
                        `worker for ${services} services ${signal !== null ? `was killed by ${signal}` : `exited with status ${code}`}`,
                    ),
                );
            }
        });
    });
}

const ms = (value: number) => value.toFixed(0);

async function main(): Promise<number> {
    let options: BenchOptions;
    try {
        options = parseArgs(process.argv.slice(2));
    } catch (error) {
        if (error instanceof UsageError) {
            console.error(error.message === "" ? USAGE : `bench: ${error.message}\n${USAGE}`);
            return error.message === "" ? 0 : 64;
        }
        throw error;
    }
    const { sizes, repeats } = options;
    let failed = false;
    try {
        benchProductionSynth(options.e2eRepeats);
    } catch (error) {
        failed = true;
        console.error(`bench: production synth: ${(error as Error).message}`);
    }
    console.log();
    console.log(
        `bench: synth of Pulumi.production.yaml with N generated services, N = ${sizes.join(", ")}; ` +
            `one fresh process per size, median of ${repeats} run${repeats === 1 ? "" : "s"}.`,
    );
    console.log(
        "bench: timed = synthesizeStackFile only (validation, program under mocks, rendering); " +
            "module loading and a 10-service warm-up run (JIT) are excluded.\n",
    );

    const results: WorkerResult[] = [];
    for (const services of sizes) {
        const started = Date.now();
        try {
            const result = await runSize(services, repeats);
            results.push(result);
            console.log(
                `  ${String(services).padStart(5)} services: runs ${result.runsMs.map(ms).join(", ")} ms; ` +
                    `module load ${ms(result.moduleLoadMs)} ms, warm-up ${ms(result.warmupMs)} ms ` +
                    `(child total ${((Date.now() - started) / 1000).toFixed(1)} s)`,
            );
        } catch (error) {
            failed = true;
            console.error(`bench: ${(error as Error).message}`);
        }
    }
    if (results.length === 0) {
        return 1;
    }

    console.log();
    console.log(
        table(
            ["services", "resources", "k8s objects", "min synth ms", "median synth ms", "ms per service", "peak RSS MiB"],
            results.map((r) => [
                String(r.services),
                String(r.resources),
                String(r.objects),
                ms(Math.min(...r.runsMs)),
                ms(r.medianMs),
                (r.medianMs / r.services).toFixed(1),
                r.peakRssMiB.toFixed(0),
            ]),
        ),
    );
    const loads = results.map((r) => r.moduleLoadMs);
    const [minLoad, maxLoad] = [ms(Math.min(...loads)), ms(Math.max(...loads))];
    console.log(
        `\nmodule load (require of synth, the program and the SDKs; not timed above): ` +
            `${minLoad === maxLoad ? minLoad : `${minLoad}-${maxLoad}`} ms per process`,
    );

    if (results.length > 1) {
        console.log("\ngrowth (linear synth grows as the service count):");
    }
    for (let i = 1; i < results.length; i++) {
        const [small, large] = [results[i - 1], results[i]];
        const actual = large.medianMs / small.medianMs;
        const ideal = large.services / small.services;
        const factor = actual / ideal;
        const verdict = factor <= 1 ? "sub-linear" : factor <= 1.15 ? "near-linear (within 15%)" : "super-linear";
        console.log(
            `  time(${large.services})/time(${small.services}) = ${actual.toFixed(2)}  (ideal ${ideal.toFixed(1)}; ` +
                `${factor.toFixed(2)}x linear): ${verdict}`,
        );
    }
    const hundred = results.find((r) => r.services === 100);
    const fiveHundred = results.find((r) => r.services === 500);
    if (hundred !== undefined && fiveHundred !== undefined) {
        // The fastest run of each: the one least disturbed by whatever else the machine runs.
        const [large, small] = [Math.min(...fiveHundred.runsMs), Math.min(...hundred.runsMs)];
        const ratio = large / small;
        console.log(
            `\ntarget: 500 services within ${TARGET_500_OVER_100}x of 100 (fastest runs): ${ms(large)} / ${ms(small)} = ` +
                `${ratio.toFixed(2)}x -> ${ratio <= TARGET_500_OVER_100 ? "met" : "NOT met"}`,
        );
    }
    if (hundred !== undefined) {
        const under = hundred.medianMs < TARGET_100_MS;
        console.log(
            `\ntarget: 100 services in under ${TARGET_100_MS / 1000} s: ${ms(hundred.medianMs)} ms -> ${under ? "met" : "NOT met"}`,
        );
    }
    // The gateway's nginx sidecar on loopback: rps and latency through it vs straight to the upstream.
    console.log();
    try {
        const { benchNginx } = await import("./nginx");
        await benchNginx({ seconds: 3, concurrency: 16 });
    } catch (error) {
        failed = true;
        console.error(`bench: nginx sidecar: ${(error as Error).message}`);
    }
    // The access log at 1x, 2x and 5x the gateway pod's rated load: records received / requests served.
    console.log();
    try {
        const { benchAccessLog } = await import("./access-log");
        await benchAccessLog({ seconds: 3 });
    } catch (error) {
        failed = true;
        console.error(`bench: access log: ${(error as Error).message}`);
    }
    try {
        const { benchRateLimiter } = await import("./rate-limit");
        await benchRateLimiter(3);
    } catch (error) {
        failed = true;
        console.error(`bench: nginx rate limiter: ${(error as Error).message}`);
    }
    return failed ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
