/**
 * Benchmark of the gateway's nginx sidecar (`npm run bench` ends with it; alone:
 * `node -r ./cli/register.js bench/nginx.ts [--seconds 3] [--concurrency 16]`).
 *
 * Sends keep-alive GETs at a fixed concurrency for a fixed time, straight to an upstream and then
 * through nginx, and prints requests per second, p50/p99 latency and the ratio.
 */
import * as http from "http";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { GatewayConfig, HostConfig, parseStackConfig } from "../components/config";
import { nginxWorkerProcesses } from "../components/ingress-gateway";
import { readStackFile } from "../cli/stack-file";
import { loopbackLayout, loopbackPorts, SidecarNginx, sleep, startSidecarNginx, startUpstream } from "../harness/nginx";

interface LoadResult {
    requests: number;
    errors: number;
    seconds: number;
    rps: number;
    p50Ms: number;
    p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
    if (sorted.length === 0) {
        return NaN;
    }
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Keep-alive GETs from `concurrency` loops for `seconds` (and at most `maxRequests` in all). */
async function load(
    port: number,
    headers: Record<string, string>,
    seconds: number,
    concurrency: number,
    maxRequests: number,
): Promise<LoadResult> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const latencies: number[] = [];
    let errors = 0;
    let sent = 0;
    const started = process.hrtime.bigint();
    const deadline = Date.now() + seconds * 1000;
    const one = () =>
        new Promise<void>((resolve) => {
            const t0 = process.hrtime.bigint();
            const request = http.request({ host: "127.0.0.1", port, path: "/bench?q=1", headers, agent, timeout: 5000 }, (response) => {
                response.resume();
                response.on("end", () => {
                    if (response.statusCode === 200) {
                        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
                    } else {
                        errors++;
                    }
                    resolve();
                });
            });
            request.on("timeout", () => request.destroy());
            request.on("error", () => {
                errors++;
                resolve();
            });
            request.end();
        });
    const loop = async () => {
        while (Date.now() < deadline && sent < maxRequests) {
            sent++;
            await one();
        }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    agent.destroy();
    latencies.sort((a, b) => a - b);
    return {
        requests: latencies.length,
        errors,
        seconds: elapsed,
        rps: latencies.length / elapsed,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
    };
}

/** The first gateway of the production stack: the configuration the benchmark renders. */
export function productionGateway(): { gateway: GatewayConfig; hosts: HostConfig[] } {
    const file = readStackFile(join(__dirname, "..", "Pulumi.production.yaml"), "bff-platform");
    const { config } = parseStackConfig(file.configMap, "production", { secretKeys: file.secretKeys });
    const gateway = config.gateways[0];
    // Plain HTTP on loopback: TLS and the shadow mirror are left out of the measured path.
    return { gateway: { ...gateway, tls: undefined, mirror: undefined, rateLimit: undefined }, hosts: config.hosts };
}

export async function benchNginx(options: { seconds: number; concurrency: number }): Promise<void> {
    const { gateway, hosts } = productionGateway();
    const host = hosts.find((h) => h.name === gateway.hosts[0]) as HostConfig;
    const dir = mkdtempSync(join(tmpdir(), "bench-nginx-"));
    const ports = await loopbackPorts();
    const upstream = await startUpstream(ports.proxyHttpPort);
    let sidecar: SidecarNginx | undefined;
    try {
        sidecar = await startSidecarNginx({ gateway, hosts, layout: loopbackLayout(dir, ports), dir });
        const headers = { host: host.hostname, "user-agent": "bench-nginx", "x-forwarded-for": "203.0.113.10" };
        const maxRequests = 200_000;
        console.log(
            `bench-nginx: keep-alive GET, ${options.concurrency} concurrent, ${options.seconds} s per target (at most ${maxRequests} requests), ` +
                `127.0.0.1 only; the production gateway's nginx.conf (loopback paths and ports) with ${nginxWorkerProcesses(gateway)} worker(s), ` +
                "its JSON access log received on loopback UDP",
        );
        // Warm-up of both paths (JIT, keep-alive pools).
        await load(upstream.port, headers, 0.5, options.concurrency, 2000);
        await load(ports.httpPort, headers, 0.5, options.concurrency, 2000);
        const direct = await load(upstream.port, headers, options.seconds, options.concurrency, maxRequests);
        const logsBefore = sidecar.receiver.datagrams.length;
        const through = await load(ports.httpPort, headers, options.seconds, options.concurrency, maxRequests);
        // Let the receiver drain the socket before counting.
        await sleep(1000);
        const logged = sidecar.receiver.datagrams.length - logsBefore;
        const row = (name: string, r: LoadResult) =>
            `| ${name.padEnd(22)} | ${r.requests.toString().padStart(8)} | ${r.errors.toString().padStart(6)} | ${r.rps.toFixed(0).padStart(7)} | ${r.p50Ms.toFixed(2).padStart(7)} | ${r.p99Ms.toFixed(2).padStart(7)} |`;
        console.log();
        console.log("| target                 | requests | errors |     rps | p50 ms  | p99 ms  |");
        console.log("|------------------------|---------:|-------:|--------:|--------:|--------:|");
        console.log(row("upstream (direct)", direct));
        console.log(row("through nginx sidecar", through));
        console.log();
        console.log(
            `ratio through/direct: rps ${(through.rps / direct.rps).toFixed(2)}, p50 ${(through.p50Ms / direct.p50Ms).toFixed(2)}x, ` +
                `p99 ${(through.p99Ms / direct.p99Ms).toFixed(2)}x; access-log records received: ${logged} of ${through.requests + through.errors} ` +
                "(nginx drops a record when the socket's receive buffer is full: bench/access-log.ts measures how much it holds)",
        );
        console.log(
            "note: client, nginx and upstream share this machine's cores; the ratio, not the absolute rps, is the figure to compare.",
        );
    } finally {
        await sidecar?.stop();
        await upstream.close();
        rmSync(dir, { recursive: true, force: true });
    }
}

function argument(name: string, fallback: number): number {
    const index = process.argv.indexOf(name);
    const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
    if (!Number.isFinite(value) || value <= 0) {
        throw new Error(`${name} must be a positive number`);
    }
    return value;
}

if (require.main === module) {
    benchNginx({ seconds: Math.min(argument("--seconds", 3), 30), concurrency: Math.min(argument("--concurrency", 16), 256) }).then(
        () => process.exit(0),
        (error) => {
            console.error(`bench-nginx: ${(error as Error).message}`);
            process.exit(1);
        },
    );
}
