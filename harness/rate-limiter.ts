/**
 * The nginx leaky-bucket limiter run for real: the rendered nginx.conf of a service's
 * rate-limiter sidecar (loopback ports and a temporary directory instead of the pod's), in front
 * of a small upstream. Used by tests/nginx-rate-limit.test.ts and by `npm run bench`, which prints
 * the measured acceptance rate against the model at 2×, 7× and 20× the configured rate.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nginxRateLimiterConf } from "../components/bff-service";
import { LeakyBucket } from "../components/shared";
import { findBinary, freePort, sleep, spawnNginx, startUpstream, stopChild, testNginxConf, Upstream } from "./nginx";

export interface RunningLimiter {
    port: number;
    /** nginx's own /healthz (the pod's liveness probe). */
    healthPort: number;
    upstream: Upstream;
    /** When each request reached the upstream (ms, monotonic clock): what nginx let through, and when. */
    arrivalsMs: number[];
    conf: string;
    stop(): Promise<void>;
}

/** Starts the rendered limiter in front of a fresh upstream; throws if `nginx -t` fails. */
export async function startRateLimiter(limit: LeakyBucket): Promise<RunningLimiter> {
    // Fail with the install hint before anything is set up.
    findBinary("nginx");
    const arrivalsMs: number[] = [];
    const server = http.createServer();
    server.on("request", () => arrivalsMs.push(Number(process.hrtime.bigint()) / 1e6));
    const upstream = await startUpstream(0, server);
    const dir = mkdtempSync(join(tmpdir(), "rate-limiter-"));
    const runtimeDir = join(dir, "run");
    mkdirSync(runtimeDir);
    // Workers (nobody, when run as root) write their temporary files here.
    chmodSync(dir, 0o755);
    chmodSync(runtimeDir, 0o777);
    const port = await freePort();
    let healthPort = await freePort();
    while (healthPort === port) {
        healthPort = await freePort();
    }
    const conf = nginxRateLimiterConf(
        { type: "nginx", ...limit },
        { listenPort: port, healthPort, upstreamPort: upstream.port, runtimeDir, errorLog: join(dir, "error.log") },
    );
    const confPath = join(dir, "nginx.conf");
    writeFileSync(confPath, conf, { mode: 0o644 });
    const check = testNginxConf(confPath, dir);
    if (check.status !== 0) {
        await upstream.close();
        throw new Error(`nginx -t failed:\n${check.output}`);
    }
    const child = spawnNginx(dir, confPath);
    const stop = async () => {
        await stopChild(child, "SIGQUIT", 3000);
        await upstream.close();
        rmSync(dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 10_000;
    for (;;) {
        try {
            await request(port, 0);
            break;
        } catch (error) {
            if (Date.now() > deadline || child.exitCode !== null) {
                await stop();
                throw new Error(`the limiter did not start: ${String(error)}`);
            }
            await sleep(20);
        }
    }
    // The readiness probe above consumed one request of the bucket: let it drain.
    await sleep(1000 / limit.requestsPerSecond + 50);
    arrivalsMs.length = 0;
    return { port, healthPort, upstream, arrivalsMs, conf, stop };
}

export interface Measured {
    status: number;
    /** Time from sending to the complete answer, in ms. */
    latencyMs: number;
}

export function request(port: number, timeoutMs: number, path = "/"): Promise<Measured> {
    return new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const req = http.request({ host: "127.0.0.1", port, path, agent: false, timeout: timeoutMs || 5000 }, (response) => {
            response.resume();
            response.on("end", () =>
                resolve({ status: response.statusCode ?? 0, latencyMs: Number(process.hrtime.bigint() - started) / 1e6 }),
            );
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        req.end();
    });
}

/** Sends one request at each offset (ms from now), each on its own connection; resolves with every answer. */
export async function sendAt(port: number, offsetsMs: number[], timeoutMs = 15_000): Promise<Measured[]> {
    const start = Date.now();
    return Promise.all(
        offsetsMs.map(async (offset) => {
            const wait = start + offset - Date.now();
            if (wait > 0) {
                await sleep(wait);
            }
            return request(port, timeoutMs).catch((): Measured => ({ status: 0, latencyMs: NaN }));
        }),
    );
}
