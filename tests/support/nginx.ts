/**
 * Helpers of the real-component tests: the gateway configuration they render, a self-signed
 * certificate for the TLS path, and the nginx/LuaJIT harness of harness/nginx.ts.
 */
import { spawnSync } from "node:child_process";
import * as http from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayConfig, HostConfig, parseStackConfig } from "../../components/config";
import { findBinary, listenOnLoopback } from "../../harness/nginx";
import { editConfig, stackFile } from "./program";

export * from "../../harness/nginx";

/** Hosts the tests serve (loopback only; the names never resolve). */
export const TEST_HOSTS: HostConfig[] = [
    { name: "pc", hostname: "pc.example.test" },
    { name: "sp", hostname: "sp.example.test" },
];

/** The dev stack's first gateway with `edit` applied to its raw config entry, validated like any stack. */
export function testGateway(edit: (gateway: Record<string, unknown>) => void = () => undefined): GatewayConfig {
    let configMap = editConfig(stackFile("dev").configMap, "hosts", () => TEST_HOSTS);
    configMap = editConfig(configMap, "gateways", (gateways: Record<string, unknown>[]) => {
        edit(gateways[0]);
        return [gateways[0]];
    });
    return parseStackConfig(configMap, "dev").config.gateways[0];
}

/** Fails with the install hint when nginx, LuaJIT or openssl is missing (never skips). */
export function requireBinaries(...names: string[]): void {
    for (const name of names) {
        findBinary(name);
    }
}

/**
 * For a suite that starts real processes: checks the binaries before its tests, and after each test
 * runs the cleanups pushed to `cleanups` (last first; a failing one does not stop the others) and
 * removes the directories pushed to `dirs`. Call it inside `describe`.
 */
export function realProcesses(...binaries: string[]): { cleanups: (() => Promise<void>)[]; dirs: string[] } {
    const cleanups: (() => Promise<void>)[] = [];
    const dirs: string[] = [];
    before(() => requireBinaries(...binaries));
    afterEach(async () => {
        for (const cleanup of cleanups.splice(0).reverse()) {
            await cleanup().catch(() => undefined);
        }
        for (const dir of dirs.splice(0)) {
            rmSync(dir, { recursive: true, force: true });
        }
    });
    return { cleanups, dirs };
}

/**
 * Listens with `server` on 127.0.0.1:`port` (0: any free port) and pushes its closing, open
 * connections included, to `cleanups`. Resolves with the port.
 */
export async function serveOnLoopback(server: http.Server, cleanups: (() => Promise<void>)[], port = 0): Promise<number> {
    const listening = await listenOnLoopback(server, port);
    cleanups.push(listening.close);
    return listening.port;
}

/** A self-signed certificate (ECDSA P-256) for `hostname`, made with openssl. */
export function selfSignedCertificate(hostname: string): { crt: string; key: string } {
    const dir = mkdtempSync(join(tmpdir(), "cert-"));
    try {
        const result = spawnSync(
            findBinary("openssl"),
            [
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                join(dir, "tls.key"),
                "-out",
                join(dir, "tls.crt"),
                "-days",
                "1",
                "-subj",
                `/CN=${hostname}`,
                "-addext",
                `subjectAltName=DNS:${hostname}`,
            ],
            { encoding: "utf8", timeout: 20_000 },
        );
        if (result.status !== 0) {
            throw new Error(`openssl failed: ${result.stderr}`);
        }
        return { crt: readFileSync(join(dir, "tls.crt"), "utf8"), key: readFileSync(join(dir, "tls.key"), "utf8") };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
