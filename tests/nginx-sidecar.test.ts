/**
 * The gateway's nginx sidecar with a real nginx (Debian's, installed by .ci/run) on loopback: the
 * rendered nginx.conf, changed only by paths and ports, in front of upstreams the tests start, with
 * the access log received on loopback UDP as fluent-bit receives it in the pod (and, for comparison,
 * on the seed's unix datagram socket).
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayConfig } from "../components/config";
import { nginxWorkerProcesses, POD_LAYOUT, renderNginxConf, renderParsersConf, SidecarLayout } from "../components/ingress-gateway";
import {
    accessLogRecord,
    httpGet,
    loopbackLayout,
    loopbackPorts,
    realProcesses,
    selfSignedCertificate,
    serveOnLoopback,
    SidecarNginx,
    sleep,
    startSidecarNginx,
    startUpstream,
    TEST_HOSTS,
    testGateway,
    Upstream,
} from "./support/nginx";

const PC = TEST_HOSTS[0].hostname;

describe("nginx sidecar (real nginx on loopback)", function () {
    this.timeout(30_000);
    const { cleanups, dirs } = realProcesses("nginx", "luajit");

    /** GETs over one keep-alive connection to `port` (closed after the test); resolves with the status. */
    function keepAliveClient(port: number): (path: string, headers?: Record<string, string>) => Promise<number> {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        cleanups.push(async () => agent.destroy());
        return (path, headers = {}) =>
            new Promise<number>((resolve, reject) => {
                const request = http.get({ host: "127.0.0.1", port, path, headers: { host: PC, ...headers }, agent }, (response) => {
                    response.resume();
                    response.on("end", () => resolve(response.statusCode ?? 0));
                });
                request.on("error", reject);
            });
    }

    /** Starts istio-proxy's stand-in and nginx for `gateway`; both are stopped after the test. */
    async function start(gateway: GatewayConfig, extra: { certificates?: boolean } = {}) {
        const dir = mkdtempSync(join(tmpdir(), "nginx-sidecar-"));
        dirs.push(dir);
        const ports = await loopbackPorts();
        const layout = loopbackLayout(dir, ports);
        const upstream = await startUpstream(ports.proxyHttpPort);
        cleanups.push(() => upstream.close());
        const certificates =
            extra.certificates === true
                ? Object.fromEntries(TEST_HOSTS.map((h) => [h.name, selfSignedCertificate(h.hostname)]))
                : undefined;
        const sidecar = await startSidecarNginx({ gateway, hosts: TEST_HOSTS, layout, dir, certificates });
        cleanups.push(() => sidecar.stop());
        return { sidecar, upstream, layout, certificates };
    }

    it("differs from the pod's nginx.conf only by the paths and ports of its layout", () => {
        const gateway = testGateway((g) => {
            g.realIp = { trustedCidrs: ["127.0.0.0/8"] };
            g.mirror = { url: "http://127.0.0.1:9" };
            g.rateLimit = { requestsPerSecond: 10, burst: 50, delay: 10 };
            g.tls = { issuer: { ca: { secretName: "private-ca" } } };
        });
        const dir = "/tmp/layout-check";
        const layout = loopbackLayout(dir, {
            httpPort: 18080,
            httpsPort: 18443,
            healthPort: 18082,
            proxyHttpPort: 13000,
            proxyHttpsPort: 13443,
            syslogPort: 15140,
        });
        const render = (l: SidecarLayout) =>
            renderNginxConf({ gateway, hosts: TEST_HOSTS, workerProcesses: nginxWorkerProcesses(gateway), layout: l });
        let loopback = render(layout);
        const back: [string | number, string | number][] = [
            ["syslog:server=127.0.0.1:15140,", "syslog:server=127.0.0.1:5140,"],
            [layout.cacheDir, POD_LAYOUT.cacheDir],
            [layout.pidDir, POD_LAYOUT.pidDir],
            [layout.errorPagesDir, POD_LAYOUT.errorPagesDir],
            [layout.tlsDir, POD_LAYOUT.tlsDir],
            [`listen 127.0.0.1:${layout.httpPort}`, `listen ${POD_LAYOUT.httpPort}`],
            [`listen 127.0.0.1:${layout.httpsPort}`, `listen ${POD_LAYOUT.httpsPort}`],
            [`listen 127.0.0.1:${layout.healthPort}`, `listen ${POD_LAYOUT.healthPort}`],
            [`127.0.0.1:${layout.proxyHttpPort};`, `127.0.0.1:${POD_LAYOUT.proxyHttpPort};`],
            [`127.0.0.1:${layout.proxyHttpsPort};`, `127.0.0.1:${POD_LAYOUT.proxyHttpsPort};`],
        ];
        for (const [from, to] of back) {
            loopback = loopback.split(String(from)).join(String(to));
        }
        assert.equal(loopback, render(POD_LAYOUT));
    });

    it("passes nginx -t, forwards requests with the client's address, request id and protocol", async () => {
        const gateway = testGateway((g) => (g.realIp = { trustedCidrs: ["127.0.0.0/8"] }));
        const { layout, upstream } = await start(gateway);
        const response = await httpGet({
            port: layout.httpPort,
            path: "/watch/lv123?ref=top",
            headers: { host: PC, "x-forwarded-for": "203.0.113.7", "user-agent": "mocha" },
        });
        assert.equal(response.status, 200);
        assert.deepEqual(JSON.parse(response.body), { ok: true, url: "/watch/lv123?ref=top" });
        assert.equal(upstream.seen.length, 1);
        const seen = upstream.seen[0].headers;
        assert.equal(seen.host, PC);
        assert.equal(seen["x-forwarded-for"], "203.0.113.7, 127.0.0.1", "the load balancer's address is appended");
        assert.equal(seen["x-real-ip"], "203.0.113.7", "the client behind the trusted proxy");
        assert.equal(seen["x-forwarded-proto"], "http");
        assert.match(String(seen["x-request-id"]), /^[0-9a-f]{32}$/);
        assert.equal(seen["user-agent"], "mocha");
    });

    it("writes exactly one JSON access-log record per request to fluent-bit's UDP port, with the configured cookies", async () => {
        const gateway = testGateway((g) => {
            g.realIp = { trustedCidrs: ["127.0.0.0/8"] };
            g.accessLog = { cookies: ["user_session_id", "ab_group"] };
        });
        const { sidecar, layout, upstream } = await start(gateway);
        const count = 20;
        for (let i = 0; i < count; i++) {
            const response = await httpGet({
                port: layout.httpPort,
                path: `/page/${i}?q=${i}`,
                method: i % 2 === 0 ? "GET" : "POST",
                body: i % 2 === 0 ? undefined : "a=1",
                headers: {
                    host: PC,
                    "x-forwarded-for": `198.51.100.${i}`,
                    "user-agent": `agent-${i}`,
                    referer: "https://pc.example.test/",
                    cookie: `user_session_id=s${i}; other=secret; ab_group=B`,
                    ...(i === 3 ? { "x-request-id": "from-the-load-balancer" } : {}),
                },
            });
            assert.equal(response.status, 200);
        }
        // The kubelet's probes are not part of the audit log.
        await httpGet({ port: layout.healthPort, path: "/healthz" });
        const datagrams = await sidecar.receiver.waitFor(count);
        await sleep(200);
        assert.equal(sidecar.receiver.datagrams.length, count, "one record per request, none for health checks");
        for (const datagram of datagrams) {
            assert.match(
                datagram,
                /^<190>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d nginx: \{/,
                "syslog RFC 3164 header, local7.info, tag nginx",
            );
        }
        const records = datagrams.map(accessLogRecord);
        records.forEach((record, i) => {
            assert.equal(record.method, i % 2 === 0 ? "GET" : "POST");
            assert.equal(record.uri, `/page/${i}?q=${i}`);
            assert.equal(record.status, "200");
            assert.equal(record.vhost, PC);
            assert.equal(record.remote_addr, `198.51.100.${i}`);
            assert.equal(record.x_forwarded_for, `198.51.100.${i}`);
            assert.equal(record.user_agent, `agent-${i}`);
            assert.equal(record.referer, "https://pc.example.test/");
            assert.equal(record.cookie_user_session_id, `s${i}`);
            assert.equal(record.cookie_ab_group, "B");
            assert.equal(record.cookie_other, undefined, "only the cookies the config names");
            assert.ok(Number(record.bytes) > 0);
            assert.match(record.request_time, /^\d+\.\d{3}$/);
            assert.match(record.upstream_time, /^\d+\.\d{3}$/);
            assert.match(
                record.time_local,
                /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$/,
                "fluent-bit's json parser Time_Format",
            );
            // The id in the log is the one istio-proxy and the services saw.
            assert.equal(record.request_id, upstream.seen[i].headers["x-request-id"]);
        });
        assert.equal(records[3].request_id, "from-the-load-balancer");
    });

    it("keeps records parseable by fluent-bit's nginx-syslog parser (same regex, run on nginx's datagram)", async () => {
        const { sidecar, layout } = await start(testGateway());
        await httpGet({ port: layout.httpPort, path: "/", headers: { host: PC, "user-agent": 'quote " and \\ backslash' } });
        const [datagram] = await sidecar.receiver.waitFor(1);
        const line = /Regex\s+(.+)$/m.exec(renderParsersConf())?.[1] as string;
        const match = new RegExp(line).exec(datagram);
        assert.ok(match?.groups !== undefined, `parser regex does not match ${datagram}`);
        assert.equal(match.groups.pri, "190");
        assert.equal(match.groups.ident, "nginx");
        assert.equal(JSON.parse(match.groups.message).user_agent, 'quote " and \\ backslash', "escape=json keeps the record valid JSON");
    });

    it("serves the error page from its ConfigMap when istio-proxy is down, and logs the 502", async () => {
        const { sidecar, layout, upstream } = await start(testGateway((g) => (g.errorPages = { serverError: "<p>maintenance-page</p>" })));
        await upstream.close();
        const response = await httpGet({ port: layout.httpPort, path: "/any", headers: { host: PC } });
        assert.equal(response.status, 502);
        assert.equal(response.body, "<p>maintenance-page</p>");
        assert.match(String(response.headers["content-type"]), /^text\/html/);
        const [datagram] = await sidecar.receiver.waitFor(1);
        assert.equal(accessLogRecord(datagram).status, "502");
        assert.equal(
            (await httpGet({ port: layout.httpPort, path: "/_gateway_errors/50x.html", headers: { host: PC } })).status,
            404,
            "error pages are internal: not served to clients",
        );
    });

    it("mirrors GET requests to the shadow upstream, not POST, without logging the copies", async () => {
        const shadow = await startUpstream();
        cleanups.push(() => shadow.close());
        const gateway = testGateway((g) => (g.mirror = { url: `http://127.0.0.1:${shadow.port}` }));
        const { sidecar, layout, upstream } = await start(gateway);
        await httpGet({ port: layout.httpPort, path: "/mirrored?x=1", headers: { host: PC } });
        await httpGet({ port: layout.httpPort, path: "/posted", method: "POST", body: "a=1", headers: { host: PC } });
        await httpGet({ port: layout.httpPort, path: "/mirrored-too", headers: { host: PC } });
        const deadline = Date.now() + 5000;
        while (shadow.seen.length < 2 && Date.now() < deadline) {
            await sleep(10);
        }
        assert.deepEqual(
            shadow.seen.map((r) => `${r.method} ${r.url}`),
            ["GET /mirrored?x=1", "GET /mirrored-too"],
        );
        assert.equal(shadow.seen[0].headers.host, PC);
        assert.equal(shadow.seen[0].headers["x-gateway-mirror"], "1");
        assert.equal(shadow.seen[0].headers["x-request-id"], upstream.seen[0].headers["x-request-id"]);
        assert.equal(upstream.seen.length, 3, "every request still reaches istio-proxy");
        await sleep(200);
        assert.equal(sidecar.receiver.datagrams.length, 3, "mirrored copies are not access-logged");
    });

    it("keeps the mirror location internal, forwards the client chain, and reuses one keep-alive connection to the shadow", async () => {
        // nginx reads only the headers of a mirror's answer (the subrequest is header_only,
        // ngx_http_mirror_module.c), so it keeps the connection only after an answer without a body:
        // this shadow answers 204, as a shadow that only records traffic may.
        const seen: http.IncomingMessage[] = [];
        const shadowServer = http.createServer((request, response) => {
            seen.push(request);
            request.resume();
            request.on("end", () => response.writeHead(204).end());
        });
        shadowServer.keepAliveTimeout = 90_000;
        let shadowConnections = 0;
        shadowServer.on("connection", () => shadowConnections++);
        const shadowPort = await serveOnLoopback(shadowServer, cleanups);
        const gateway = testGateway((g) => {
            g.realIp = { trustedCidrs: ["127.0.0.0/8"] };
            g.mirror = { url: `http://127.0.0.1:${shadowPort}` };
        });
        const { layout, upstream } = await start(gateway);
        // `internal`: a client cannot address the mirror location and reach the shadow with it.
        assert.equal((await httpGet({ port: layout.httpPort, path: "/_gateway_mirror", headers: { host: PC } })).status, 404);
        // One client connection: nginx ends a pending mirror subrequest when the client goes away.
        const get = keepAliveClient(layout.httpPort);
        for (const path of ["/one", "/two", "/three"]) {
            assert.equal(await get(path, { "x-forwarded-for": "203.0.113.7" }), 200);
        }
        const deadline = Date.now() + 5000;
        while (seen.length < 3 && Date.now() < deadline) {
            await sleep(10);
        }
        await sleep(100);
        // The exact internal location answered the client's /_gateway_mirror itself: nothing was proxied or copied.
        assert.deepEqual(
            seen.map((r) => r.url),
            ["/one", "/two", "/three"],
        );
        assert.deepEqual(
            upstream.seen.map((r) => r.url),
            ["/one", "/two", "/three"],
        );
        assert.equal(seen[0].httpVersion, "1.1");
        assert.equal(seen[0].headers["x-forwarded-for"], upstream.seen[0].headers["x-forwarded-for"]);
        assert.equal(seen[0].headers["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
        // HTTP/1.1 without `Connection: close` (nginx's default for proxied requests): one connection for every copy.
        assert.equal(seen[0].headers.connection, undefined);
        assert.equal(shadowConnections, 1, "the copies share one keep-alive connection to the shadow");
    });

    it("mirrors a sampled share when percent is below 100 (split_clients on the request id)", async () => {
        const shadow = await startUpstream();
        cleanups.push(() => shadow.close());
        const gateway = testGateway((g) => (g.mirror = { url: `http://127.0.0.1:${shadow.port}`, percent: 50 }));
        const conf = renderNginxConf({ gateway, hosts: TEST_HOSTS, workerProcesses: 1, layout: POD_LAYOUT });
        assert.match(conf, /split_clients "\$gateway_request_id" \$gateway_mirror_sampled \{\n\s+50% 1;\n\s+\* 0;\n\s+\}/);
        const { layout, upstream } = await start(gateway);
        const count = 60;
        for (let i = 0; i < count; i++) {
            await httpGet({ port: layout.httpPort, path: `/sampled/${i}`, headers: { host: PC } });
        }
        await sleep(300);
        assert.equal(upstream.seen.length, count, "every request still reaches istio-proxy");
        // Each request's id is random: 60 coin flips land outside 10..50 with probability below 1e-7.
        assert.ok(shadow.seen.length >= 10 && shadow.seen.length <= 50, `${shadow.seen.length} of ${count} mirrored`);
        // At 100% (the default) every GET is copied and no sampling is rendered.
        const everything = testGateway((g) => (g.mirror = { url: `http://127.0.0.1:${shadow.port}` }));
        assert.doesNotMatch(
            renderNginxConf({ gateway: everything, hosts: TEST_HOSTS, workerProcesses: 1, layout: POD_LAYOUT }),
            /split_clients/,
        );
    });

    it("lets a slow shadow hold the client's next request on the connection for 1 s at most", async () => {
        // nginx reads the next request of a keep-alive connection only once the mirror subrequest is done.
        const slowShadow = http.createServer((request, response) => {
            request.resume();
            setTimeout(() => response.end("late"), 4000).unref();
        });
        const port = await serveOnLoopback(slowShadow, cleanups);
        const { layout } = await start(testGateway((g) => (g.mirror = { url: `http://127.0.0.1:${port}` })));
        const get = keepAliveClient(layout.httpPort);
        const started = Date.now();
        assert.deepEqual([await get("/first"), await get("/second")], [200, 200]);
        const elapsed = Date.now() - started;
        // proxy_read_timeout 1s in the mirror location; nginx's default (60 s) would wait for the shadow's 4 s.
        assert.ok(elapsed < 3000, `two requests on one connection took ${elapsed} ms`);
    });

    it("limits the rate with a leaky bucket and answers 429 with its error page beyond the burst", async () => {
        const gateway = testGateway((g) => (g.rateLimit = { requestsPerSecond: 1, burst: 2 }));
        const { layout } = await start(gateway);
        const statuses = await Promise.all(
            Array.from({ length: 8 }, () =>
                httpGet({ port: layout.httpPort, path: "/", headers: { host: PC } }).then((r) => [r.status, r.body] as const),
            ),
        );
        const passed = statuses.filter(([status]) => status === 200).length;
        const limited = statuses.filter(([status]) => status === 429);
        assert.equal(passed, 3, "the rate's one request plus a burst of two, queued");
        assert.equal(limited.length, 5);
        assert.match(limited[0][1], /Too many requests/);
    });

    it("terminates TLS with the host's certificate and re-encrypts to istio-proxy with the same SNI and Host", async () => {
        const gateway = testGateway((g) => (g.tls = { issuer: { ca: { secretName: "private-ca" } } }));
        const dir = mkdtempSync(join(tmpdir(), "nginx-tls-"));
        dirs.push(dir);
        const ports = await loopbackPorts();
        const layout = loopbackLayout(dir, ports);
        const certificates = Object.fromEntries(TEST_HOSTS.map((h) => [h.name, selfSignedCertificate(h.hostname)]));
        // istio-proxy's HTTPS listener stand-in, serving the same certificate (SDS in the pod).
        const tlsServer = https.createServer({
            SNICallback: (servername, callback) => {
                const host = TEST_HOSTS.find((h) => h.hostname === servername) ?? TEST_HOSTS[0];
                const { crt, key } = certificates[host.name];
                callback(null, tls.createSecureContext({ cert: crt, key }));
            },
        });
        const istioHttps: Upstream = await startUpstream(ports.proxyHttpsPort, tlsServer);
        cleanups.push(() => istioHttps.close());
        const istioHttp = await startUpstream(ports.proxyHttpPort);
        cleanups.push(() => istioHttp.close());
        const sidecar: SidecarNginx = await startSidecarNginx({ gateway, hosts: TEST_HOSTS, layout, dir, certificates });
        cleanups.push(() => sidecar.stop());

        const get = (servername: string, host: string) =>
            new Promise<{ status: number; cert: string }>((resolve, reject) => {
                const request = https.request(
                    {
                        host: "127.0.0.1",
                        port: layout.httpsPort,
                        path: "/secure",
                        servername,
                        headers: { host },
                        rejectUnauthorized: false,
                        agent: false,
                        timeout: 5000,
                    },
                    (response) => {
                        const cert = response.socket as unknown as { getPeerCertificate(): { subject: { CN: string } } };
                        response.resume();
                        response.on("end", () => resolve({ status: response.statusCode ?? 0, cert: cert.getPeerCertificate().subject.CN }));
                    },
                );
                request.on("error", reject);
                request.end();
            });
        const pc = await get("pc.example.test", "pc.example.test");
        assert.deepEqual(pc, { status: 200, cert: "pc.example.test" });
        const sp = await get("sp.example.test", "sp.example.test");
        assert.deepEqual(sp, { status: 200, cert: "sp.example.test" });
        assert.deepEqual(
            istioHttps.seen.map((r) => [r.servername, r.headers.host, r.headers["x-forwarded-proto"]]),
            [
                ["pc.example.test", "pc.example.test", "https"],
                ["sp.example.test", "sp.example.test", "https"],
            ],
        );
        assert.equal(istioHttp.seen.length, 0);
        const records = (await sidecar.receiver.waitFor(2)).map(accessLogRecord);
        assert.deepEqual(
            records.map((r) => [r.scheme, r.vhost, r.status]),
            [
                ["https", "pc.example.test", "200"],
                ["https", "sp.example.test", "200"],
            ],
        );
    });
});

describe("access-log transport and shutdown (real nginx, LuaJIT receiver as fluent-bit)", function () {
    this.timeout(30_000);
    const { cleanups, dirs } = realProcesses("nginx", "luajit");

    /** The production record shape: two logged cookies, a phone's user agent, a referer (~760 bytes a record). */
    // Parsed in each test, not while mocha loads the file (see `ctx` in tests/bff-service.test.ts).
    const gateway = () => testGateway((g) => (g.accessLog = { cookies: ["user_session_id", "ab_group"] }));
    const headers = {
        host: PC,
        "x-forwarded-for": "203.0.113.7",
        "user-agent":
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        referer: "https://pc.example.test/watch/lv1",
        cookie: "user_session_id=0123456789abcdef0123456789abcdef; ab_group=B",
    };

    async function start(syslog: "udp" | "unix", extra: { shutdownTimeoutSeconds?: number; upstreamDelayMs?: number } = {}) {
        const dir = mkdtempSync(join(tmpdir(), "access-log-"));
        dirs.push(dir);
        const ports = await loopbackPorts();
        const layout = loopbackLayout(dir, ports, syslog === "unix" ? { unixPath: join(dir, "sidecar-nginx", "sys-log.sock") } : undefined);
        // istio-proxy's stand-in, answering after upstreamDelayMs.
        const server = http.createServer((request, response) => {
            request.resume();
            setTimeout(() => response.end("ok"), extra.upstreamDelayMs ?? 0);
        });
        await serveOnLoopback(server, cleanups, ports.proxyHttpPort);
        const sidecar = await startSidecarNginx({
            gateway: gateway(),
            hosts: TEST_HOSTS,
            layout,
            dir,
            shutdownTimeoutSeconds: extra.shutdownTimeoutSeconds,
        });
        cleanups.push(() => sidecar.stop());
        return { sidecar, layout };
    }

    /** `count` requests, 10 at a time, while the receiver does not read; then it reads again. Returns the records received. */
    async function whileStalled(sidecar: SidecarNginx, layout: SidecarLayout, count: number): Promise<Record<string, string>[]> {
        await sidecar.receiver.pause();
        for (let i = 0; i < count; i += 10) {
            const batch = Array.from({ length: Math.min(10, count - i) }, (_, k) =>
                httpGet({ port: layout.httpPort, path: `/watch/lv${i + k}?ref=top`, headers }),
            );
            for (const response of await Promise.all(batch)) {
                assert.equal(response.status, 200);
            }
        }
        await sidecar.receiver.resume();
        await sleep(500);
        return sidecar.receiver.datagrams.map(accessLogRecord);
    }

    // The rated load (1000 requests/s per pod) for the stall the pipeline is sized for (0.1 s).
    const stalledRecords = 1000 * 0.1;

    it("keeps every record of a 100 ms reader stall at the rated load over loopback UDP (the pod's transport)", async () => {
        const { sidecar, layout } = await start("udp");
        assert.equal(sidecar.receiver.receiveBufferBytes, 425984, "2 × the node's default net.core.rmem_max (212992)");
        const records = await whileStalled(sidecar, layout, stalledRecords);
        assert.equal(records.length, 100, "no record lost");
        assert.equal(new Set(records.map((r) => r.request_id)).size, 100, "each request once");
        assert.ok(records.every((r) => r.cookie_ab_group === "B" && r.uri.startsWith("/watch/lv")));
        assert.doesNotMatch(sidecar.errors(), /send\(\) to syslog failed/);
    });

    it("loses all but ~10 of the same records on the seed's unix datagram socket (net.unix.max_dgram_qlen)", async () => {
        const { sidecar, layout } = await start("unix");
        const records = await whileStalled(sidecar, layout, stalledRecords);
        assert.ok(records.length >= 10 && records.length <= 12, `the queue's 10 (and a datagram in flight), got ${records.length}`);
        const failures = sidecar.errors().match(/send\(\) to syslog failed/g) ?? [];
        assert.equal(failures.length, 100 - records.length, "one nginx warning per lost record");
    });

    it("logs a request that finishes after nginx got its stop signal: the reader must outlive nginx's drain", async () => {
        const { sidecar, layout } = await start("udp", { upstreamDelayMs: 800 });
        const response = httpGet({ port: layout.httpPort, path: "/slow", headers });
        await sleep(200);
        const quitAt = Date.now();
        const exited = sidecar.quit().then(() => Date.now());
        assert.equal((await response).status, 200, "the in-flight request is finished");
        const [record] = (await sidecar.receiver.waitFor(1)).map(accessLogRecord);
        assert.equal(record.uri, "/slow");
        assert.equal(record.status, "200");
        assert.ok((await exited) - quitAt >= 500, "nginx exits only after the request, so the record is written during its drain");
    });

    it("closes a request still open at worker_shutdown_timeout, so nginx exits before istio-proxy stops", async () => {
        const { sidecar, layout } = await start("udp", { shutdownTimeoutSeconds: 1, upstreamDelayMs: 10_000 });
        assert.match(sidecar.conf, /^worker_shutdown_timeout 1s;$/m);
        const response = httpGet({ port: layout.httpPort, path: "/stuck", headers }).catch((error: Error) => error);
        await sleep(200);
        const quitAt = Date.now();
        await sidecar.quit();
        const took = Date.now() - quitAt;
        assert.ok(took >= 900 && took < 5000, `nginx exited ${took} ms after SIGQUIT (timeout 1 s)`);
        assert.ok((await response) instanceof Error, "the stuck request was closed");
    });
});
