/**
 * Benchmark of the gateway's access-log transport (`npm run bench` runs it; alone:
 * `node -r ts-node/register/transpile-only bench/access-log.ts [--seconds 3]`).
 *
 * The production gateway's nginx.conf with real nginx on loopback, its records received by the
 * LuaJIT receiver that stands for fluent-bit and stalls as a busy fluent-bit does (it stops
 * reading for `ACCESS_LOG_SIZING.stallSeconds` once a second). Requests arrive at a fixed rate, 1×,
 * 2× and 5× the pod's rated load (`gateways[].ratedRequestsPerSecond`), over the pod's transport
 * (UDP, receive buffer as a node with the default net.core.rmem_max grants it) and over the seed's
 * unix datagram socket. Printed: records received / requests served, per rate and transport.
 */
import * as http from "http";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ACCESS_LOG_SIZING, NODE_DEFAULT_RMEM_MAX, receiveBufferBytes } from "../components/ingress-gateway";
import { loopbackLayout, loopbackPorts, SidecarNginx, sleep, startSidecarNginx, startUpstream } from "../harness/nginx";
import { productionGateway } from "./nginx";

interface Row {
    transport: string;
    multiple: number;
    targetRps: number;
    servedRps: number;
    served: number;
    received: number;
}

/** Requests at `rps` for `seconds`, paced every 10 ms over keep-alive connections; returns how many were answered 200. */
async function paced(
    port: number,
    headers: Record<string, string>,
    rps: number,
    seconds: number,
): Promise<{ served: number; elapsed: number }> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    let served = 0;
    let sent = 0;
    let inFlight = 0;
    const started = Date.now();
    const pending: Promise<void>[] = [];
    while (Date.now() - started < seconds * 1000) {
        // As many as the rate asks by now, whatever the timer's lateness.
        const due = Math.floor(((Date.now() - started) / 1000) * rps);
        while (sent < due) {
            sent++;
            if (inFlight >= 512) {
                continue; // the client cannot keep up: fewer requests, shown as the served rate
            }
            inFlight++;
            pending.push(
                new Promise<void>((resolve) => {
                    const request = http.request(
                        { host: "127.0.0.1", port, path: `/bench/${sent}?ref=top`, headers, agent, timeout: 5000 },
                        (response) => {
                            response.resume();
                            response.on("end", () => {
                                served += response.statusCode === 200 ? 1 : 0;
                                inFlight--;
                                resolve();
                            });
                        },
                    );
                    request.on("timeout", () => request.destroy());
                    request.on("error", () => {
                        inFlight--;
                        resolve();
                    });
                    request.end();
                }),
            );
        }
        await sleep(10);
    }
    await Promise.all(pending);
    const elapsed = (Date.now() - started) / 1000;
    agent.destroy();
    return { served, elapsed };
}

export async function benchAccessLog(options: { seconds: number }): Promise<Row[]> {
    const { gateway, hosts } = productionGateway();
    const host = hosts.find((h) => h.name === gateway.hosts[0]);
    const rated = gateway.ratedRequestsPerSecond;
    const stall = { stallMs: ACCESS_LOG_SIZING.stallSeconds * 1000, everyMs: 1000 };
    const headers = {
        host: host?.hostname ?? "localhost",
        "x-forwarded-for": "203.0.113.7",
        "user-agent":
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        referer: "https://pc.example.com/watch/lv1",
        cookie: "user_session_id=0123456789abcdef0123456789abcdef; ab_group=B",
    };
    const requested = Math.min(receiveBufferBytes(gateway), NODE_DEFAULT_RMEM_MAX);
    console.log(
        `bench-access-log: production gateway rated ${rated} requests/s per pod; the reader stops ${stall.stallMs} ms every ${stall.everyMs} ms; ` +
            `${options.seconds} s per rate; UDP receive buffer asked ${requested} bytes (Receive_Buffer_Size ${receiveBufferBytes(gateway)}, ` +
            `capped at the default net.core.rmem_max ${NODE_DEFAULT_RMEM_MAX})`,
    );
    const rows: Row[] = [];
    for (const transport of ["udp", "unix"] as const) {
        for (const multiple of [1, 2, 5]) {
            const dir = mkdtempSync(join(tmpdir(), "bench-access-log-"));
            const ports = await loopbackPorts();
            const upstream = await startUpstream(ports.proxyHttpPort);
            let sidecar: SidecarNginx | undefined;
            try {
                const layout = loopbackLayout(
                    dir,
                    ports,
                    transport === "unix" ? { unixPath: join(dir, "sidecar-nginx", "sys-log.sock") } : undefined,
                );
                sidecar = await startSidecarNginx({
                    gateway: { ...gateway, tls: undefined, mirror: undefined, rateLimit: undefined },
                    hosts,
                    layout,
                    dir,
                    stall,
                });
                if (multiple === 1) {
                    console.log(`  ${transport}: receive buffer granted ${sidecar.receiver.receiveBufferBytes} bytes`);
                }
                const { served, elapsed } = await paced(ports.httpPort, headers, rated * multiple, options.seconds);
                // Past the next stall, so that everything queued has been read.
                await sleep(stall.everyMs + 500);
                rows.push({
                    transport: transport === "udp" ? "UDP (pod)" : "unix dgram (seed)",
                    multiple,
                    targetRps: rated * multiple,
                    servedRps: served / elapsed,
                    served,
                    received: sidecar.receiver.datagrams.length,
                });
            } finally {
                await sidecar?.stop();
                await upstream.close();
                rmSync(dir, { recursive: true, force: true });
            }
        }
    }
    console.log();
    console.log("| transport         | load | target rps | served rps | served | received |   lost | received / served |");
    console.log("|-------------------|-----:|-----------:|-----------:|-------:|---------:|-------:|------------------:|");
    for (const r of rows) {
        console.log(
            `| ${r.transport.padEnd(17)} | ${`${r.multiple}x`.padStart(4)} | ${String(r.targetRps).padStart(10)} | ${r.servedRps.toFixed(0).padStart(10)} | ` +
                `${String(r.served).padStart(6)} | ${String(r.received).padStart(8)} | ${String(r.served - r.received).padStart(6)} | ` +
                `${((100 * r.received) / Math.max(1, r.served)).toFixed(2).padStart(16)}% |`,
        );
    }
    const atRated = rows.find((r) => r.transport.startsWith("UDP") && r.multiple === 1);
    if (atRated !== undefined) {
        console.log(
            `\nrated load ${rated} requests/s per pod: ${atRated.received} of ${atRated.served} records kept over UDP ` +
                `(${atRated.received === atRated.served ? "none lost" : `${atRated.served - atRated.received} lost`}); ` +
                `a served rate below the target means this machine's client could not send faster.`,
        );
    }
    return rows;
}

if (require.main === module) {
    const index = process.argv.indexOf("--seconds");
    const seconds = index >= 0 ? Number(process.argv[index + 1]) : 3;
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 30) {
        console.error("bench-access-log: --seconds must be a number in (0, 30]");
        process.exit(64);
    }
    benchAccessLog({ seconds }).then(
        () => process.exit(0),
        (error) => {
            console.error(`bench-access-log: ${(error as Error).message}`);
            process.exit(1);
        },
    );
}
