/**
 * The gateway's nginx sidecar, run for real on loopback: the harness the tests and the benchmarks
 * (`bench/nginx.ts`, `bench/access-log.ts`) share.
 *
 * The harness starts Debian's nginx with the rendered nginx.conf, changed only by the paths and
 * ports of its {@link SidecarLayout}, in front of upstreams the caller starts; a small LuaJIT
 * program receives the access log on loopback UDP, as fluent-bit does in the pod (or on a unix
 * datagram socket, the seed's transport), and can stall like a busy fluent-bit.
 * Everything listens on 127.0.0.1 and is stopped by the caller (and killed on process exit).
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import { delimiter, dirname, join } from "path";
import { GatewayConfig, HostConfig } from "../components/config";
import {
    errorPages,
    nginxWorkerProcesses,
    NODE_DEFAULT_RMEM_MAX,
    receiveBufferBytes,
    renderNginxConf,
    SidecarLayout,
    SyslogTarget,
} from "../components/ingress-gateway";

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
 * LuaJIT program (FFI, no library) that receives nginx's syslog datagrams as fluent-bit's syslog
 * input does: `udp <port> <rcvbuf>` binds 127.0.0.1:<port> (`Mode udp`, SO_RCVBUF as
 * `Receive_Buffer_Size` sets it), `unix <path>` binds a unix datagram socket (`Mode unix_udp`, the
 * seed's transport). Every datagram is printed on one line (newlines escaped as \n).
 *
 * The reader can stall, as a throttled or busy fluent-bit does: `pause`/`resume` on stdin, or a
 * schedule (`<stall ms> <every ms>`: stop reading for stall ms at the start of every period).
 * Datagrams that arrive meanwhile wait in the socket's queue, or are dropped when it is full.
 */
const RECEIVER_LUA = `local ffi = require("ffi")
local bit = require("bit")
ffi.cdef[[
struct sockaddr_un { unsigned short sun_family; char sun_path[108]; };
struct sockaddr_in { unsigned short sin_family; unsigned short sin_port; unsigned int sin_addr; unsigned char zero[8]; };
struct pollfd { int fd; short events; short revents; };
struct timespec { long tv_sec; long tv_nsec; };
int socket(int domain, int type, int protocol);
int bind(int fd, const void *addr, unsigned int len);
int setsockopt(int fd, int level, int name, const void *value, unsigned int len);
int getsockopt(int fd, int level, int name, void *value, unsigned int *len);
long recv(int fd, void *buf, unsigned long len, int flags);
long read(int fd, void *buf, unsigned long len);
int poll(struct pollfd *fds, unsigned long nfds, int timeout);
int clock_gettime(int clock, struct timespec *tp);
int chmod(const char *path, unsigned int mode);
char *strerror(int errnum);
]]
local C = ffi.C
local function fail(what) error(what .. ": " .. ffi.string(C.strerror(ffi.errno()))) end
local mode, target = arg[1], arg[2]
local stall, every = tonumber(arg[4] or "0"), tonumber(arg[5] or "0")
local fd
if mode == "udp" then
  fd = C.socket(2, 2, 0) -- AF_INET, SOCK_DGRAM
  if fd < 0 then fail("socket") end
  local size = ffi.new("int[1]", tonumber(arg[3]))
  -- SO_RCVBUF (8): the kernel caps the request at net.core.rmem_max and doubles it.
  if tonumber(arg[3]) > 0 and C.setsockopt(fd, 1, 8, size, 4) ~= 0 then fail("setsockopt") end
  local addr = ffi.new("struct sockaddr_in")
  addr.sin_family = 2
  local port = tonumber(target)
  addr.sin_port = bit.bor(bit.lshift(bit.band(port, 255), 8), bit.rshift(port, 8))
  addr.sin_addr = 0x0100007F -- 127.0.0.1 in network order (little-endian host)
  if C.bind(fd, addr, ffi.sizeof(addr)) ~= 0 then fail("bind 127.0.0.1:" .. target) end
else
  fd = C.socket(1, 2, 0) -- AF_UNIX, SOCK_DGRAM
  if fd < 0 then fail("socket") end
  local addr = ffi.new("struct sockaddr_un")
  addr.sun_family = 1
  ffi.copy(addr.sun_path, target)
  if C.bind(fd, addr, ffi.sizeof(addr)) ~= 0 then fail("bind " .. target) end
  -- nginx's workers may run as another user than this receiver (tests as root): let them write.
  C.chmod(target, 438) -- 0666
end
local got, len = ffi.new("int[1]"), ffi.new("unsigned int[1]", 4)
C.getsockopt(fd, 1, 8, got, len)
io.stdout:write("ready " .. got[0] .. "\\n")
io.stdout:flush()
local ts = ffi.new("struct timespec")
local function now_ms() C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6 end
local started = now_ms()
local size = 65536
local buf = ffi.new("char[?]", size)
local fds = ffi.new("struct pollfd[2]")
fds[0].fd, fds[0].events = 0, 1 -- stdin, POLLIN
fds[1].fd, fds[1].events = fd, 1
local paused = false
local pending = ""
while true do
  local stalled = paused
  local timeout = -1
  if every > 0 then
    local phase = (now_ms() - started) % every
    if phase < stall then stalled = true; timeout = math.ceil(stall - phase) else timeout = math.ceil(every - phase) end
  end
  local n = C.poll(fds, stalled and 1 or 2, timeout)
  if n < 0 and ffi.errno() ~= 4 then fail("poll") end
  if n > 0 and bit.band(fds[0].revents, 17) ~= 0 then -- POLLIN | POLLHUP on stdin
    local r = tonumber(C.read(0, buf, size))
    if r <= 0 then break end
    pending = pending .. ffi.string(buf, r)
    for line in pending:gmatch("([^\\n]*)\\n") do
      if line == "pause" then paused = true elseif line == "resume" then paused = false end
      io.stdout:write(line .. "d\\n")
    end
    pending = pending:match("[^\\n]*$")
    io.stdout:flush()
  end
  if not stalled and n > 0 and bit.band(fds[1].revents, 1) ~= 0 then
    -- Up to 64 datagrams per turn, then back to poll (so a scheduled stall starts on time).
    for _ = 1, 64 do
      local r = tonumber(C.recv(fd, buf, size, 64)) -- MSG_DONTWAIT
      if r < 0 then break end
      local line = ffi.string(buf, r):gsub("\\\\", "\\\\\\\\"):gsub("\\n", "\\\\n")
      io.stdout:write("> ", line, "\\n")
    end
    io.stdout:flush()
  end
end
`;

/** Where nginx sends its syslog datagrams: UDP on 127.0.0.1 (the pod's transport) or a unix datagram socket. */
export type ReceiverTarget = { udpPort: number; receiveBufferBytes: number } | { unixPath: string };

export interface ReceiverOptions {
    /** The reader stops for `stallMs` at the start of every `everyMs` (a throttled fluent-bit). */
    stall?: { stallMs: number; everyMs: number };
}

/** Receives nginx's syslog datagrams. */
export interface SyslogReceiver {
    /** Every datagram received so far, in order. */
    datagrams: string[];
    /** The socket's receive buffer as the kernel granted it (SO_RCVBUF read back, bytes). */
    receiveBufferBytes: number;
    /** Waits until at least `count` datagrams arrived, or fails after `timeoutMs`. */
    waitFor(count: number, timeoutMs?: number): Promise<string[]>;
    /** Stops reading the socket (datagrams queue in the kernel, or are dropped when it is full). */
    pause(): Promise<void>;
    /** Reads again, first what queued meanwhile. */
    resume(): Promise<void>;
    stop(): Promise<void>;
}

export async function startSyslogReceiver(target: ReceiverTarget, workDir: string, options: ReceiverOptions = {}): Promise<SyslogReceiver> {
    const luajit = findBinary("luajit");
    const script = join(workDir, "syslog-receiver.lua");
    writeFileSync(script, RECEIVER_LUA);
    const args = "udpPort" in target ? ["udp", String(target.udpPort), String(target.receiveBufferBytes)] : ["unix", target.unixPath, "0"];
    if (options.stall !== undefined) {
        args.push(String(options.stall.stallMs), String(options.stall.everyMs));
    }
    const child = track(spawn(luajit, [script, ...args], { stdio: ["pipe", "pipe", "pipe"] }));
    const datagrams: string[] = [];
    let stderr = "";
    let pending = "";
    let granted = 0;
    let ready: () => void = () => undefined;
    const acks: (() => void)[] = [];
    const started = new Promise<void>((resolve) => (ready = resolve));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
        pending += chunk.toString();
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line.startsWith("> ")) {
                datagrams.push(line.slice(2).replace(/\\(\\|n)/g, (_m, c: string) => (c === "n" ? "\n" : "\\")));
            } else if (line.startsWith("ready ")) {
                granted = Number(line.slice("ready ".length));
                ready();
            } else if (line === "paused" || line === "resumed") {
                acks.shift()?.();
            }
            newline = pending.indexOf("\n");
        }
    });
    const failed = new Promise<never>((_resolve, reject) =>
        child.once("exit", (code) => reject(new Error(`syslog receiver exited (${code}): ${stderr.trim()}`))),
    );
    failed.catch(() => undefined);
    await Promise.race([started, failed, sleep(5000).then(() => Promise.reject(new Error(`syslog receiver did not start: ${stderr}`)))]);
    const command = (line: string) =>
        new Promise<void>((resolve) => {
            acks.push(resolve);
            child.stdin?.write(`${line}\n`);
        });
    return {
        datagrams,
        receiveBufferBytes: granted,
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
        pause: () => command("pause"),
        resume: () => command("resume"),
        stop: () => {
            child.stdin?.end();
            return stopChild(child);
        },
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

/** The sidecar's ports and paths for a run on loopback under `dir`; the access log on `syslog` (default: UDP on `ports.syslogPort`). */
export function loopbackLayout(dir: string, ports: LoopbackPorts, syslog?: SyslogTarget): SidecarLayout {
    const { syslogPort, ...listeners } = ports;
    return {
        ...listeners,
        listenHost: "127.0.0.1",
        syslog: syslog ?? { udpPort: syslogPort },
        cacheDir: join(dir, "cache"),
        pidDir: join(dir, "run"),
        errorPagesDir: join(dir, "errors"),
        tlsDir: join(dir, "tls"),
    };
}

/** Ports of every listener of the sidecar, of istio-proxy's stand-ins, and of the access log's receiver. */
export type LoopbackPorts = Pick<SidecarLayout, "httpPort" | "httpsPort" | "healthPort" | "proxyHttpPort" | "proxyHttpsPort"> & {
    syslogPort: number;
};

/** Free loopback ports for every listener of the sidecar, for istio-proxy's stand-ins and for the syslog receiver. */
export async function loopbackPorts(): Promise<LoopbackPorts> {
    const ports = new Set<number>();
    while (ports.size < 6) {
        ports.add(await freePort());
    }
    const [httpPort, httpsPort, healthPort, proxyHttpPort, proxyHttpsPort, syslogPort] = [...ports];
    return { httpPort, httpsPort, healthPort, proxyHttpPort, proxyHttpsPort, syslogPort };
}

export interface SidecarNginx {
    layout: SidecarLayout;
    dir: string;
    conf: string;
    receiver: SyslogReceiver;
    /** nginx's stderr (its error log). */
    errors(): string;
    /** SIGQUIT to nginx (the pod's stop signal), the receiver left running; resolves when nginx has exited. */
    quit(): Promise<void>;
    stop(): Promise<void>;
}

export interface StartOptions {
    gateway: GatewayConfig;
    hosts: HostConfig[];
    layout: SidecarLayout;
    dir: string;
    /** Certificates per host name (`tls.crt`, `tls.key` contents), when the gateway has TLS. */
    certificates?: Record<string, { crt: string; key: string }>;
    /** SO_RCVBUF the UDP receiver asks for, as fluent-bit's `Receive_Buffer_Size` (default: the pod's, capped as a node with the default rmem_max grants it). */
    receiveBufferBytes?: number;
    /** A reader that stalls on a schedule (a throttled fluent-bit). */
    stall?: ReceiverOptions["stall"];
    /** nginx's worker_shutdown_timeout, as the pod's shutdown plan renders it (default: none). */
    shutdownTimeoutSeconds?: number;
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
    const socketDirectory = "unixPath" in layout.syslog ? [dirname(layout.syslog.unixPath)] : [];
    for (const directory of [...socketDirectory, layout.cacheDir, layout.pidDir, layout.errorPagesDir, layout.tlsDir]) {
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
    const conf = renderNginxConf({
        gateway,
        hosts,
        workerProcesses: nginxWorkerProcesses(gateway),
        shutdownTimeoutSeconds: options.shutdownTimeoutSeconds,
        layout,
    });
    const confPath = join(dir, "nginx.conf");
    writeFileSync(confPath, conf, { mode: 0o644 });
    const target: ReceiverTarget =
        "udpPort" in layout.syslog
            ? {
                  udpPort: layout.syslog.udpPort,
                  // As a gateway node grants it: capped at the kernel's default net.core.rmem_max.
                  receiveBufferBytes: options.receiveBufferBytes ?? Math.min(receiveBufferBytes(gateway), NODE_DEFAULT_RMEM_MAX),
              }
            : { unixPath: layout.syslog.unixPath };
    const receiver = await startSyslogReceiver(target, dir, { stall: options.stall });

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
    const quit = () => stopChild(child, "SIGQUIT", 30_000);
    return { layout, dir, conf, receiver, errors: () => stderr, quit, stop };
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
    return { ...(await listenOnLoopback(server, port)), seen };
}

/**
 * Starts `server` on 127.0.0.1 (`port` 0: any free port). `close` drops its open connections,
 * keep-alive ones included, and resolves once it stopped listening.
 */
export async function listenOnLoopback(server: http.Server, port = 0): Promise<{ port: number; close(): Promise<void> }> {
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return {
        port: (server.address() as AddressInfo).port,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
