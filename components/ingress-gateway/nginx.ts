/**
 * The nginx sidecar's configuration (docs/design.md §4, Handbook ch. 10.2.1): nginx is the gateway pod's
 * first hop. It writes the JSON access log to syslog over loopback UDP to fluent-bit, finds
 * the client address behind the load balancer, optionally limits the rate (leaky bucket) and
 * mirrors GET requests to a shadow upstream, serves error pages when istio-proxy cannot answer, and
 * forwards everything to istio-proxy's Gateway listeners over loopback.
 *
 * Plain functions of the config: the component puts the text in a ConfigMap, and the tests run the
 * very same text with a real nginx (only the paths and ports of {@link SidecarLayout} differ).
 */
import { GatewayConfig, HostConfig } from "../config";
import { limitReqDirectives } from "../shared";

/**
 * Ports and paths inside the gateway pod. nginx and istio-proxy share the pod's network namespace,
 * so their ports must differ; all of them are above 1024 because neither runs as root.
 */
export interface SidecarLayout {
    /** Address nginx listens on; empty = every address of the pod. */
    listenHost: string;
    /** nginx, plain HTTP: the Service's `http` port targets it. */
    httpPort: number;
    /** nginx, TLS: the Service's `https` port targets it. */
    httpsPort: number;
    /** nginx health endpoint for the kubelet's probes (not logged). */
    healthPort: number;
    /** istio-proxy's HTTP Gateway listener (the seed's 33000): nginx forwards plain HTTP here. */
    proxyHttpPort: number;
    /** istio-proxy's HTTPS Gateway listener: nginx re-encrypts HTTPS traffic to it. */
    proxyHttpsPort: number;
    /** Where nginx sends the access log and fluent-bit receives it (see {@link SyslogTarget}). */
    syslog: SyslogTarget;
    /** Temporary files (request bodies, buffered responses): an emptyDir. */
    cacheDir: string;
    /** nginx's pid file directory: an emptyDir (the root filesystem is read-only). */
    pidDir: string;
    /** Error pages, from a ConfigMap. */
    errorPagesDir: string;
    /** One sub-directory per host with its certificate (`tls.crt`, `tls.key`), from the cert-manager Secret. */
    tlsDir: string;
}

/**
 * The access log's transport from nginx to fluent-bit, one syslog datagram per request.
 *
 * - `udpPort` (the pod's): UDP on 127.0.0.1. The datagrams wait in the receiving socket's buffer,
 *   in bytes: `Receive_Buffer_Size` of fluent-bit's syslog input sets SO_RCVBUF, which Linux caps
 *   at net.core.rmem_max (212992 by default) and doubles; ~400 nginx records fit at that default
 *   (measured by `npm run bench`, bench/access-log.ts).
 * - `unixPath` (the seed's): a unix datagram socket queues at most net.unix.max_dgram_qlen
 *   datagrams (10 by default, whatever the buffer size), and that sysctl is not on Kubernetes'
 *   safe list: a reader that stalls for a few milliseconds loses records. Kept for the tests that
 *   show the difference.
 *
 * In both cases nginx never blocks on the log: a datagram that does not fit is dropped (for unix,
 * nginx logs "send() to syslog failed"; for UDP the kernel counts it in UDP RcvbufErrors).
 */
export type SyslogTarget = { udpPort: number } | { unixPath: string };

/** fluent-bit's syslog input port (its default, 5140), on 127.0.0.1 of the pod. */
export const SYSLOG_UDP_PORT = 5140;

/** The `server=` parameter of nginx's `access_log syslog:`. */
export function syslogServer(target: SyslogTarget): string {
    return "udpPort" in target ? `127.0.0.1:${target.udpPort}` : `unix:${target.unixPath}`;
}

/** The layout in the gateway pod. */
export const POD_LAYOUT: SidecarLayout = {
    listenHost: "",
    httpPort: 8080,
    httpsPort: 8443,
    healthPort: 8082,
    proxyHttpPort: 33000,
    proxyHttpsPort: 33443,
    syslog: { udpPort: SYSLOG_UDP_PORT },
    cacheDir: "/var/cache/nginx",
    pidDir: "/var/run/nginx",
    errorPagesDir: "/usr/share/nginx/errors",
    tlsDir: "/etc/nginx-tls",
};

/** File names of the error pages in their ConfigMap. */
export const ERROR_PAGE_FILES = { serverError: "50x.html", tooManyRequests: "429.html" } as const;

const DEFAULT_ERROR_PAGES: Record<keyof typeof ERROR_PAGE_FILES, string> = {
    serverError:
        '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8"><title>Service unavailable</title></head>\n' +
        "<body><h1>ただいまアクセスが集中しています</h1><p>Service temporarily unavailable. Please try again later.</p></body></html>\n",
    tooManyRequests:
        '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8"><title>Too many requests</title></head>\n' +
        "<body><h1>アクセスが集中しています</h1><p>Too many requests. Please wait a moment and try again.</p></body></html>\n",
};

/** The error pages' ConfigMap data: the configured HTML or the defaults. */
export function errorPages(gateway: GatewayConfig): Record<string, string> {
    return {
        [ERROR_PAGE_FILES.serverError]: gateway.errorPages.serverError ?? DEFAULT_ERROR_PAGES.serverError,
        [ERROR_PAGE_FILES.tooManyRequests]: gateway.errorPages.tooManyRequests ?? DEFAULT_ERROR_PAGES.tooManyRequests,
    };
}

/**
 * Fields of one access-log record, in order: JSON key and nginx variable. `vhost` and `time_local`
 * are read by fluent-bit (rewrite and timestamp); the rest is the audit record.
 */
export function accessLogFields(gateway: GatewayConfig): [string, string][] {
    return [
        ["time", "$time_iso8601"],
        ["time_local", "$time_local"],
        ["request_id", "$gateway_request_id"],
        ["remote_addr", "$remote_addr"],
        ["realip_remote_addr", "$realip_remote_addr"],
        ["x_forwarded_for", "$http_x_forwarded_for"],
        ["vhost", "$host"],
        ["scheme", "$gateway_forwarded_proto"],
        ["protocol", "$server_protocol"],
        ["method", "$request_method"],
        ["uri", "$request_uri"],
        ["status", "$status"],
        ["bytes", "$body_bytes_sent"],
        ["request_length", "$request_length"],
        ["request_time", "$request_time"],
        ["upstream_time", "$upstream_response_time"],
        ["upstream_status", "$upstream_status"],
        ["user_agent", "$http_user_agent"],
        ["referer", "$http_referer"],
        ...gateway.accessLog.cookies.map((cookie): [string, string] => [`cookie_${cookie}`, `$cookie_${cookie}`]),
    ];
}

/** The `log_format` value: a JSON object of strings (escape=json escapes quotes and control characters). */
export function logFormat(gateway: GatewayConfig): string {
    return `{${accessLogFields(gateway)
        .map(([key, variable]) => `"${key}":"${variable}"`)
        .join(",")}}`;
}

/** nginx variable-safe suffix of a host's upstream and directory names. */
function hostKey(host: HostConfig): string {
    return host.name.replace(/-/g, "_");
}

/** Upstream group that re-encrypts to istio-proxy for one host: one group per host keeps SNI and Host equal on reused connections. */
export function httpsUpstreamName(host: HostConfig): string {
    return `istio_proxy_https_${hostKey(host)}`;
}

function listen(layout: SidecarLayout, port: number, extra = ""): string {
    return `listen ${layout.listenHost === "" ? "" : `${layout.listenHost}:`}${port}${extra};`;
}

/** Indents every non-empty line by `depth` levels of four spaces. */
function indent(lines: string[], depth: number): string[] {
    const pad = "    ".repeat(depth);
    return lines.map((line) => (line === "" ? line : `${pad}${line}`));
}

interface ProxyTarget {
    /** `proxy_pass` argument. */
    pass: string;
    /** Extra directives of the upstream connection (TLS). */
    extra: string[];
    /** Value of X-Forwarded-Proto. */
    forwardedProto: string;
}

/** `location /` and the internal locations of one server block. */
function locations(gateway: GatewayConfig, layout: SidecarLayout, target: ProxyTarget): string[] {
    const lines: string[] = ["location / {"];
    const body: string[] = [];
    if (gateway.rateLimit !== undefined) {
        body.push(...limitReqDirectives("gateway", gateway.rateLimit));
    }
    if (gateway.mirror !== undefined) {
        // A copy of the request goes to the shadow upstream; its answer is discarded and it is not logged.
        body.push("mirror /_gateway_mirror;", "mirror_request_body off;");
    }
    body.push(
        `proxy_pass ${target.pass};`,
        ...target.extra,
        "proxy_http_version 1.1;",
        // Keep-alive to istio-proxy, except for WebSocket upgrades.
        "proxy_set_header Connection $gateway_connection;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-For $gateway_forwarded_for;",
        `proxy_set_header X-Forwarded-Proto ${target.forwardedProto};`,
        "proxy_set_header X-Real-IP $remote_addr;",
        // The id of the access-log record travels on to istio-proxy and the services.
        "proxy_set_header X-Request-Id $gateway_request_id;",
        // One upstream (istio-proxy in this pod): retrying it elsewhere is impossible.
        "proxy_next_upstream off;",
        "proxy_connect_timeout 2s;",
        "proxy_send_timeout 60s;",
        "proxy_read_timeout 60s;",
    );
    lines.push(...indent(body, 1), "}");
    if (gateway.mirror !== undefined) {
        const sampled = gateway.mirror.percent < 100;
        lines.push(
            "",
            "location = /_gateway_mirror {",
            ...indent(
                [
                    "internal;",
                    // Only GET is replayed: it is safe to send twice (docs/design.md §9).
                    "if ($request_method != GET) {",
                    "    return 204;",
                    "}",
                    ...(sampled ? ["if ($gateway_mirror_sampled = 0) {", "    return 204;", "}"] : []),
                    "proxy_pass http://gateway_mirror$request_uri;",
                    "proxy_http_version 1.1;",
                    'proxy_set_header Connection "";',
                    "proxy_set_header Host $host;",
                    "proxy_set_header X-Forwarded-For $gateway_forwarded_for;",
                    "proxy_set_header X-Request-Id $gateway_request_id;",
                    "proxy_set_header X-Gateway-Mirror 1;",
                    // A slow shadow must not hold the client's connection: nginx waits for the mirror
                    // before it reads the next request on that connection.
                    "proxy_connect_timeout 200ms;",
                    "proxy_send_timeout 1s;",
                    "proxy_read_timeout 1s;",
                ],
                1,
            ),
            "}",
        );
    }
    lines.push(
        "",
        // Served by nginx itself, e.g. when istio-proxy is down (502) or slow (504); answers from
        // istio-proxy and the services pass through untouched (proxy_intercept_errors is off).
        `error_page 502 503 504 /_gateway_errors/${ERROR_PAGE_FILES.serverError};`,
        `error_page 429 /_gateway_errors/${ERROR_PAGE_FILES.tooManyRequests};`,
        "location ^~ /_gateway_errors/ {",
        ...indent(["internal;", `alias ${layout.errorPagesDir}/;`, "default_type text/html;", "charset utf-8;"], 1),
        "}",
    );
    return lines;
}

export interface NginxConfInput {
    gateway: GatewayConfig;
    /** The hosts this gateway serves, in config order. */
    hosts: HostConfig[];
    /** Worker processes: one per CPU of the nginx container's limit. */
    workerProcesses: number;
    /**
     * nginx's `worker_shutdown_timeout`: after SIGQUIT, requests still open this long are closed,
     * so nginx exits before istio-proxy stops (see shutdownPlan). Default: none (nginx waits).
     */
    shutdownTimeoutSeconds?: number;
    layout?: SidecarLayout;
}

/** The whole nginx.conf of the sidecar. */
export function renderNginxConf({ gateway, hosts, workerProcesses, shutdownTimeoutSeconds, layout = POD_LAYOUT }: NginxConfInput): string {
    const http: string[] = [
        "server_tokens off;",
        `client_body_temp_path ${layout.cacheDir}/client_temp;`,
        `proxy_temp_path ${layout.cacheDir}/proxy_temp;`,
        `fastcgi_temp_path ${layout.cacheDir}/fastcgi_temp;`,
        `uwsgi_temp_path ${layout.cacheDir}/uwsgi_temp;`,
        `scgi_temp_path ${layout.cacheDir}/scgi_temp;`,
        // Longer than the load balancer's idle timeout (ALB: 60 s), so the balancer closes first.
        "keepalive_timeout 75s;",
        "keepalive_requests 10000;",
        "client_max_body_size 10m;",
        "",
    ];
    if (gateway.realIp !== undefined) {
        // The client is the first address in X-Forwarded-For not added by a trusted proxy.
        http.push(
            ...gateway.realIp.trustedCidrs.map((cidr) => `set_real_ip_from ${cidr};`),
            "real_ip_header X-Forwarded-For;",
            "real_ip_recursive on;",
            "",
        );
    }
    http.push(
        // A request id from the load balancer is kept; otherwise nginx makes one.
        "map $http_x_request_id $gateway_request_id {",
        '    "" $request_id;',
        "    default $http_x_request_id;",
        "}",
        // X-Forwarded-For as received, plus the address this hop saw.
        "map $http_x_forwarded_for $gateway_forwarded_for {",
        '    "" $realip_remote_addr;',
        '    default "$http_x_forwarded_for, $realip_remote_addr";',
        "}",
        "map $http_x_forwarded_proto $gateway_forwarded_proto {",
        '    "" $scheme;',
        "    default $http_x_forwarded_proto;",
        "}",
        "map $http_upgrade $gateway_connection {",
        '    "" "";',
        "    default upgrade;",
        "}",
        "",
        `log_format json_access_format escape=json '${logFormat(gateway)}';`,
        // The handbook's access log over syslog, to fluent-bit on loopback UDP (see SyslogTarget for
        // why not the seed's unix socket). nohostname: the pod is in the file's name; tag: the ident.
        `access_log syslog:server=${syslogServer(layout.syslog)},nohostname,tag=nginx json_access_format;`,
        "",
        "upstream istio_proxy_http {",
        `    server 127.0.0.1:${layout.proxyHttpPort};`,
        "    keepalive 128;",
        "}",
    );
    if (gateway.tls !== undefined) {
        for (const host of hosts) {
            http.push(`upstream ${httpsUpstreamName(host)} {`, `    server 127.0.0.1:${layout.proxyHttpsPort};`, "    keepalive 64;", "}");
        }
        const map = (name: string, source: string, value: (h: HostConfig) => string) => [
            `map ${source} ${name} {`,
            "    hostnames;",
            ...hosts.map((h) => `    ${h.hostname} ${value(h)};`),
            `    default ${value(hosts[0])};`,
            "}",
        ];
        http.push(
            // Certificates are read at each handshake (named by a variable), so a certificate
            // cert-manager renews is served without reloading nginx.
            ...map("$gateway_tls_dir", "$ssl_server_name", (h) => `${layout.tlsDir}/${h.name}`),
            ...map("$gateway_https_upstream", "$host", httpsUpstreamName),
            ...map("$gateway_https_sni", "$host", (h) => h.hostname),
        );
    }
    if (gateway.mirror !== undefined) {
        const { host, port } = mirrorTarget(gateway.mirror.url);
        // nginx reads only the headers of a mirror's answer (its subrequest is header_only,
        // ngx_http_mirror_module.c), so a connection is kept for the next copy only after an answer
        // without a body (a shadow that answers 204); after any other answer it is closed.
        http.push("", "upstream gateway_mirror {", `    server ${host}:${port};`, "    keepalive 16;", "}");
        if (gateway.mirror.percent < 100) {
            http.push(
                `split_clients "$gateway_request_id" $gateway_mirror_sampled {`,
                `    ${gateway.mirror.percent}% 1;`,
                "    * 0;",
                "}",
            );
        }
    }
    if (gateway.rateLimit !== undefined) {
        // One bucket for the whole pod, as the handbook's per-pod limit.
        http.push(
            "",
            'map "" $gateway_limit_key {',
            "    default pod;",
            "}",
            `limit_req_zone $gateway_limit_key zone=gateway:1m rate=${gateway.rateLimit.requestsPerSecond}r/s;`,
        );
    }
    http.push(
        "",
        "server {",
        ...indent(
            [
                listen(layout, layout.httpPort, " default_server"),
                "server_name _;",
                "",
                ...locations(gateway, layout, {
                    pass: "http://istio_proxy_http",
                    extra: [],
                    forwardedProto: "$gateway_forwarded_proto",
                }),
            ],
            1,
        ),
        "}",
    );
    if (gateway.tls !== undefined) {
        http.push(
            "",
            "server {",
            ...indent(
                [
                    listen(layout, layout.httpsPort, " ssl default_server"),
                    "server_name _;",
                    "ssl_certificate $gateway_tls_dir/tls.crt;",
                    "ssl_certificate_key $gateway_tls_dir/tls.key;",
                    "ssl_protocols TLSv1.2 TLSv1.3;",
                    "ssl_session_cache shared:gateway_tls:10m;",
                    "ssl_session_timeout 1h;",
                    "",
                    ...locations(gateway, layout, {
                        pass: "https://$gateway_https_upstream",
                        // istio-proxy terminates TLS again with the same certificate (SDS): SNI selects its HTTPS server.
                        extra: [
                            "proxy_ssl_server_name on;",
                            "proxy_ssl_name $gateway_https_sni;",
                            "proxy_ssl_session_reuse on;",
                            "proxy_ssl_protocols TLSv1.2 TLSv1.3;",
                        ],
                        forwardedProto: "https",
                    }),
                ],
                1,
            ),
            "}",
        );
    }
    http.push(
        "",
        "server {",
        ...indent(
            [
                listen(layout, layout.healthPort),
                "access_log off;",
                "location = /healthz {",
                '    return 200 "ok\\n";',
                "}",
                "location / {",
                "    return 404;",
                "}",
            ],
            1,
        ),
        "}",
    );
    const lines = [
        "# Generated by components/ingress-gateway: the gateway's first hop, in front of istio-proxy.",
        `worker_processes ${workerProcesses};`,
        ...(shutdownTimeoutSeconds === undefined ? [] : [`worker_shutdown_timeout ${shutdownTimeoutSeconds}s;`]),
        `pid ${layout.pidDir}/nginx.pid;`,
        "error_log stderr warn;",
        "",
        "events {",
        "    worker_connections 4096;",
        "}",
        "",
        "http {",
        ...indent(http, 1),
        "}",
        "",
    ];
    return lines.join("\n");
}

/** Host and port of a mirror URL (`http://host[:port]`). */
export function mirrorTarget(url: string): { host: string; port: number } {
    const match = /^http:\/\/([^:/]+)(?::(\d+))?$/.exec(url);
    if (match === null) {
        throw new Error(`mirror url ${url} is not http://host[:port]`);
    }
    return { host: match[1], port: match[2] === undefined ? 80 : Number(match[2]) };
}
