/**
 * The gateway's nginx sidecar, run for real on loopback: the harness the tests and the benchmark
 * (`bench/nginx.ts`) share.
 *
 * The harness starts Debian's nginx with the rendered nginx.conf, changed only by the paths and
 * ports of its {@link SidecarLayout}, in front of upstreams the caller starts; a small LuaJIT
 * program receives the access log on the unix datagram socket, as fluent-bit does in the pod.
 * Everything listens on 127.0.0.1 and is stopped by the caller (and killed on process exit).
 *
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import { delimiter, join } from "path";
import { GatewayConfig, HostConfig } from "../components/config";
import { errorPages, nginxWorkerProcesses, renderNginxConf, SidecarLayout, socketDirectory } from "../components/ingress-gateway";

/* ------------------------------------------------------------------ binaries */

const INSTALL_HINT = "npm test installs it (as root), or run: apt-get update && apt-get install -y nginx luajit openssl";

/** Absolute path of a binary from PATH or /usr/sbin (Debian puts nginx there); throws with the install hint. */
export function findBinary(name: string): string {
    const directories = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
    for (const directory of directories) {
        if (directory !== "" && existsSync(join(directory, name))) {
            return join(directory, name);
        }
    }
    throw new Error(`${name} is not installed (looked in PATH and /usr/sbin): ${INSTALL_HINT}`);
}

/* ------------------------------------------------------------------ processes */

const children = new Set<ChildProcess>();
process.on("exit", () => {
    for (const child of children) {
        child.kill("SIGKILL");
    }
});

function track(child: ChildProcess): ChildProcess {
    children.add(child);
    child.once("exit", () => children.delete(child));
    return child;
}

/** Stops a child: `signal` first, SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 3000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
}

/** A port the kernel just handed out on 127.0.0.1 (free at the time of the call). */
export async function freePort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

/* ------------------------------------------------------------------ syslog receiver */

/**
 * LuaJIT program (FFI, no library) that binds a unix datagram socket like fluent-bit's
 * `Mode unix_udp` input and prints every datagram on one line (newlines escaped as \n).
 */
const RECEIVER_LUA = `local ffi = require("ffi")
ffi.cdef[[
struct sockaddr_un { unsigned short sun_family; char sun_path[108]; };
int socket(int domain, int type, int protocol);
int bind(int fd, const struct sockaddr_un *addr, unsigned int len);
long recv(int fd, void *buf, unsigned long len, int flags);
int chmod(const char *path, unsigned int mode);
char *strerror(int errnum);
]]
local path = arg[1]
local fd = ffi.C.socket(1, 2, 0) -- AF_UNIX, SOCK_DGRAM
if fd < 0 then error("socket: " .. ffi.string(ffi.C.strerror(ffi.errno()))) end
local addr = ffi.new("struct sockaddr_un")
addr.sun_family = 1
ffi.copy(addr.sun_path, path)
if ffi.C.bind(fd, addr, ffi.sizeof(addr)) ~= 0 then error("bind " .. path .. ": " .. ffi.string(ffi.C.strerror(ffi.errno()))) end
-- nginx's workers may run as another user than this receiver (tests as root): let them write.
ffi.C.chmod(path, 438) -- 0666
io.stdout:write("ready\\n")
io.stdout:flush()
local size = 65536
local buf = ffi.new("char[?]", size)
while true do
  local n = tonumber(ffi.C.recv(fd, buf, size, 0))
  if n < 0 then break end
  local line = ffi.string(buf, n):gsub("\\\\", "\\\\\\\\"):gsub("\\n", "\\\\n")
  io.stdout:write(line, "\\n")
  io.stdout:flush()
end
`;

/** Receives nginx's syslog datagrams on a unix socket. */
export interface SyslogReceiver {
    /** Every datagram received so far, in order. */
    datagrams: string[];
    /** Waits until at least `count` datagrams arrived, or fails after `timeoutMs`. */
    waitFor(count: number, timeoutMs?: number): Promise<string[]>;
    stop(): Promise<void>;
}

export async function startSyslogReceiver(socketPath: string, workDir: string): Promise<SyslogReceiver> {
    const luajit = findBinary("luajit");
    const script = join(workDir, "unix-dgram-receiver.lua");
    writeFileSync(script, RECEIVER_LUA);
    const child = track(spawn(luajit, [script, socketPath], { stdio: ["ignore", "pipe", "pipe"] }));
    const datagrams: string[] = [];
    let stderr = "";
    let pending = "";
    let ready: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (ready = resolve));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
        pending += chunk.toString();
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line === "ready") {
                ready();
            } else {
                datagrams.push(line.replace(/\\(\\|n)/g, (_m, c: string) => (c === "n" ? "\n" : "\\")));
            }
            newline = pending.indexOf("\n");
        }
    });
    const failed = new Promise<never>((_resolve, reject) =>
        child.once("exit", (code) => reject(new Error(`syslog receiver exited (${code}): ${stderr.trim()}`))),
    );
    failed.catch(() => undefined);
    await Promise.race([started, failed, sleep(5000).then(() => Promise.reject(new Error(`syslog receiver did not start: ${stderr}`)))]);
    return {
        datagrams,
        async waitFor(count, timeoutMs = 5000) {
            const deadline = Date.now() + timeoutMs;
            while (datagrams.length < count) {
                if (Date.now() > deadline) {
                    throw new Error(`expected ${count} access-log datagrams within ${timeoutMs} ms, got ${datagrams.length}`);
                }
                await sleep(10);
            }
            return datagrams.slice();
        },
        stop: () => stopChild(child),
    };
}

/** The JSON record of an nginx syslog datagram (`<190>Nov 22 11:16:00 nginx: {...}`). */
export function accessLogRecord(datagram: string): Record<string, string> {
    const start = datagram.indexOf("{");
    if (start < 0) {
        throw new Error(`not an access-log datagram: ${datagram}`);
    }
    return JSON.parse(datagram.slice(start)) as Record<string, string>;
}

/* ------------------------------------------------------------------ nginx */

/** The sidecar's ports and paths for a run on loopback under `dir`. */
export function loopbackLayout(
    dir: string,
    ports: Pick<SidecarLayout, "httpPort" | "httpsPort" | "healthPort" | "proxyHttpPort" | "proxyHttpsPort">,
): SidecarLayout {
    return {
        ...ports,
        listenHost: "127.0.0.1",
        socketPath: join(dir, "sidecar-nginx", "sys-log.sock"),
        cacheDir: join(dir, "cache"),
        pidDir: join(dir, "run"),
        errorPagesDir: join(dir, "errors"),
        tlsDir: join(dir, "tls"),
    };
}

/** Free loopback ports for every listener of the sidecar and for istio-proxy's stand-ins. */
export async function loopbackPorts(): Promise<
    Pick<SidecarLayout, "httpPort" | "httpsPort" | "healthPort" | "proxyHttpPort" | "proxyHttpsPort">
> {
    const ports = new Set<number>();
    while (ports.size < 5) {
        ports.add(await freePort());
    }
    const [httpPort, httpsPort, healthPort, proxyHttpPort, proxyHttpsPort] = [...ports];
    return { httpPort, httpsPort, healthPort, proxyHttpPort, proxyHttpsPort };
}

export interface SidecarNginx {
    layout: SidecarLayout;
    dir: string;
    conf: string;
    receiver: SyslogReceiver;
    /** nginx's stderr (its error log). */
    errors(): string;
    stop(): Promise<void>;
}

export interface StartOptions {
    gateway: GatewayConfig;
    hosts: HostConfig[];
    layout: SidecarLayout;
    dir: string;
    /** Certificates per host name (`tls.crt`, `tls.key` contents), when the gateway has TLS. */
    certificates?: Record<string, { crt: string; key: string }>;
}

/** Group of the unprivileged user nginx's workers run as when the tests run as root. */
function unprivilegedGroup(): string {
    const groups = readFileSync("/etc/group", "utf8");
    return /^nogroup:/m.test(groups) ? "nogroup" : "nobody";
}

/** Global directives given on the command line, as the image's `nginx -g 'daemon off;'` does. */
function globalDirectives(): string {
    // As root (CI), workers would otherwise run as the compiled-in user; name an unprivileged one.
    return process.getuid?.() === 0 ? `daemon off; user nobody ${unprivilegedGroup()};` : "daemon off;";
}

/**
 * Starts nginx in the foreground on `confPath` with `prefix`; its stderr is piped. It is killed if
 * this process exits first.
 */
export function spawnNginx(prefix: string, confPath: string): ChildProcess {
    return track(
        spawn(findBinary("nginx"), ["-p", prefix, "-c", confPath, "-g", globalDirectives()], { stdio: ["ignore", "ignore", "pipe"] }),
    );
}

/** `nginx -t` on a configuration file; returns its output and exit status. */
export function testNginxConf(confPath: string, prefix: string): { status: number | null; output: string } {
    const result = spawnSync(findBinary("nginx"), ["-t", "-p", prefix, "-c", confPath, "-g", globalDirectives()], {
        encoding: "utf8",
        timeout: 20_000,
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Writes the rendered nginx.conf and its files under `dir`, checks it with `nginx -t` and starts nginx. */
export async function startSidecarNginx(options: StartOptions): Promise<SidecarNginx> {
    const { gateway, hosts, layout, dir } = options;
    // Fail with the install hint before anything is set up.
    findBinary("nginx");
    for (const directory of [socketDirectory(layout), layout.cacheDir, layout.pidDir, layout.errorPagesDir, layout.tlsDir]) {
        mkdirSync(directory, { recursive: true, mode: 0o755 });
    }
    // Workers (nobody, when run as root) read the error pages and certificates under dir.
    chmodSync(dir, 0o755);
    for (const [file, html] of Object.entries(errorPages(gateway))) {
        writeFileSync(join(layout.errorPagesDir, file), html, { mode: 0o644 });
    }
    for (const [hostName, certificate] of Object.entries(options.certificates ?? {})) {
        mkdirSync(join(layout.tlsDir, hostName), { recursive: true, mode: 0o755 });
        writeFileSync(join(layout.tlsDir, hostName, "tls.crt"), certificate.crt, { mode: 0o644 });
        writeFileSync(join(layout.tlsDir, hostName, "tls.key"), certificate.key, { mode: 0o644 });
    }
    const conf = renderNginxConf({ gateway, hosts, workerProcesses: nginxWorkerProcesses(gateway), layout });
    const confPath = join(dir, "nginx.conf");
    writeFileSync(confPath, conf, { mode: 0o644 });
    const receiver = await startSyslogReceiver(layout.socketPath, dir);

    const check = testNginxConf(confPath, dir);
    if (check.status !== 0) {
        await receiver.stop();
        throw new Error(`nginx -t failed:\n${check.output}`);
    }
    const child = spawnNginx(dir, confPath);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const stop = async () => {
        // SIGQUIT: graceful shutdown, as the image's STOPSIGNAL.
        await stopChild(child, "SIGQUIT", 3000);
        await receiver.stop();
    };
    try {
        await waitForHealth(layout.healthPort, child, () => stderr);
    } catch (error) {
        await stop();
        throw error;
    }
    return { layout, dir, conf, receiver, errors: () => stderr, stop };
}

async function waitForHealth(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) {
            throw new Error(`nginx exited with status ${child.exitCode}: ${stderr()}`);
        }
        try {
            const response = await httpGet({ port, path: "/healthz" });
            if (response.status === 200) {
                return;
            }
        } catch {
            // not listening yet
        }
        await sleep(20);
    }
    throw new Error(`nginx did not answer on 127.0.0.1:${port} within 10 s: ${stderr()}`);
}

/* ------------------------------------------------------------------ HTTP */

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Response {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** One request to 127.0.0.1 without keep-alive, bounded by a 5 s timeout. */
export function httpGet(options: {
    port: number;
    path: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
}): Promise<Response> {
    return new Promise((resolve, reject) => {
        const request = http.request(
            {
                host: "127.0.0.1",
                port: options.port,
                path: options.path,
                method: options.method ?? "GET",
                headers: options.headers,
                agent: false,
                timeout: 5000,
            },
            (response) => {
                let body = "";
                response.setEncoding("utf8");
                response.on("data", (chunk: string) => (body += chunk));
                response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
            },
        );
        request.on("timeout", () => request.destroy(new Error(`request to 127.0.0.1:${options.port}${options.path} timed out`)));
        request.on("error", reject);
        request.end(options.body);
    });
}

/** A request as an upstream saw it. */
export interface SeenRequest {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    /** TLS server name the client sent (HTTPS upstreams). */
    servername?: string;
}

export interface Upstream {
    port: number;
    seen: SeenRequest[];
    close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that answers 200 with a small JSON body and records every request. */
export async function startUpstream(port = 0, server: http.Server = http.createServer()): Promise<Upstream> {
    const seen: SeenRequest[] = [];
    server.keepAliveTimeout = 90_000;
    server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
        const socket = request.socket as { servername?: string | false };
        seen.push({
            method: request.method ?? "",
            url: request.url ?? "",
            headers: request.headers,
            servername: typeof socket.servername === "string" ? socket.servername : undefined,
        });
        request.resume();
        request.on("end", () => {
            const body = JSON.stringify({ ok: true, url: request.url });
            response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
            response.end(body);
        });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return {
        port: (server.address() as AddressInfo).port,
        seen,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
