/**
 * Local rate limits per pod (docs/design.md §5), chosen per service:
 * - `nginx`: a leaky-bucket sidecar between istio-proxy and the app (`limit_req_zone`, `burst`,
 *   `delay`, `limit_req_status 429`). A burst is queued FIFO and fed to the app at the rate: the
 *   handbook's choice, for burst tolerance.
 * - `envoy`: istio-proxy's own token bucket (`envoy.filters.http.local_ratelimit` on inbound
 *   traffic). A burst up to the bucket size passes straight to the app.
 * At 70 requests in one instant against 10 r/s, burst 50, delay 10: nginx forwards 11 at once,
 * queues 40 and answers 19 with 429; envoy passes 50 and answers 20 with 429.
 */
import { DEFAULTS, GATEWAY_DEFAULTS, SERVICE_DEFAULTS, ServiceConfig } from "../config";
import { assertName, KubeObject, Labels, limitReqDirectives, restrictedContainer } from "../shared";
import { ServiceNames } from "./names";

type LocalLimit = NonNullable<NonNullable<ServiceConfig["rateLimit"]>["local"]>;

/** Where the limiter listens and what it forwards to; the pod's values or a test's. */
export interface LimiterSite {
    listenPort: number;
    upstreamPort: number;
    /** Port of nginx's own `/healthz` (the kubelet's liveness probe): outside the bucket, never proxied. */
    healthPort: number;
    /** Writable directory for the pid file and nginx's temporary files (an emptyDir in the pod). */
    runtimeDir: string;
    /** Error log target: `stderr` in the pod, a file in tests. */
    errorLog?: string;
}

/** The nginx.conf of the leaky-bucket sidecar. */
export function nginxRateLimiterConf(limit: LocalLimit, site: LimiterSite): string {
    const [limitReq, limitReqStatus] = limitReqDirectives("pod", limit);
    return `# Local rate limit of one pod (docs/design.md §5): a leaky bucket of ${limit.requestsPerSecond} r/s.
# Requests above the rate wait in a FIFO queue of ${limit.burst}; the first ${limit.delay ?? 0} of a burst are not delayed;
# what overflows the queue is answered 429 at once.
worker_processes 1;
pid ${site.runtimeDir}/nginx.pid;
error_log ${site.errorLog ?? "stderr"} warn;

events {
    worker_connections 1024;
}

http {
    # The gateway's nginx writes the access log; one record per request is enough.
    access_log off;
    client_body_temp_path ${site.runtimeDir}/client_body;
    proxy_temp_path ${site.runtimeDir}/proxy;
    fastcgi_temp_path ${site.runtimeDir}/fastcgi;
    uwsgi_temp_path ${site.runtimeDir}/uwsgi;
    scgi_temp_path ${site.runtimeDir}/scgi;

    # A constant key: one bucket for the whole pod, whoever calls.
    limit_req_zone "pod" zone=pod:1m rate=${limit.requestsPerSecond}r/s;
    ${limitReqStatus}
    limit_req_log_level warn;

    upstream app {
        server 127.0.0.1:${site.upstreamPort};
        keepalive 32;
    }

    server {
        listen ${site.listenPort};

        location / {
            ${limitReq}
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            # The gateway's route timeout ends a request first; nginx only guards against a stuck app.
            proxy_read_timeout 120s;
        }
    }

    # The kubelet's liveness probe, answered by an nginx worker itself: not counted by the bucket,
    # not passed to the app, on a port no Service targets.
    server {
        listen ${site.healthPort};

        location = /healthz {
            return 204;
        }

        location / {
            return 404;
        }
    }
}
`;
}

/** Name of the sidecar container and of the port the Services target when it is on. */
export const LIMITER_CONTAINER = "rate-limiter";
export const LIMITER_PORT_NAME = "http-limited";
/** Name of the sidecar's health port (its liveness probe). */
export const LIMITER_HEALTH_PORT_NAME = "limiter-health";

/** The ConfigMap holding the sidecar's nginx.conf (its hash joins the pod's content hash). */
export function limiterConfigMap(
    service: ServiceConfig,
    namespace: string,
    names: ServiceNames,
    labels: Labels,
    appPort: number,
): KubeObject | undefined {
    const limit = service.rateLimit?.local;
    if (limit?.type !== "nginx") {
        return undefined;
    }
    const settings = SERVICE_DEFAULTS.localRateLimiter;
    return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: names.limiterConfigMap, namespace, labels },
        data: {
            "nginx.conf": nginxRateLimiterConf(limit, {
                listenPort: settings.port,
                healthPort: settings.healthPort,
                upstreamPort: appPort,
                runtimeDir: "/tmp",
            }),
        },
    };
}

/** The sidecar container (nginx as its image's unprivileged user, read-only root, /tmp in an emptyDir). */
export function limiterContainer() {
    const settings = SERVICE_DEFAULTS.localRateLimiter;
    return {
        name: LIMITER_CONTAINER,
        // The same pinned nginx as the gateway's access-log sidecar.
        image: GATEWAY_DEFAULTS.nginxImage,
        command: ["nginx", "-g", "daemon off;", "-c", "/etc/nginx/limiter/nginx.conf"],
        ports: [
            { name: LIMITER_PORT_NAME, containerPort: settings.port, protocol: "TCP" },
            { name: LIMITER_HEALTH_PORT_NAME, containerPort: settings.healthPort, protocol: "TCP" },
        ],
        resources: { requests: { ...settings.resources.requests }, limits: { ...settings.resources.limits } },
        readinessProbe: { tcpSocket: { port: LIMITER_PORT_NAME }, periodSeconds: 5 },
        // A worker that no longer answers (a TCP check would still pass: the kernel accepts) is
        // restarted after 30 s; the answer comes from nginx itself, whatever the app or the bucket do.
        livenessProbe: {
            httpGet: { path: "/healthz", port: LIMITER_HEALTH_PORT_NAME },
            periodSeconds: 10,
            timeoutSeconds: 2,
            failureThreshold: 3,
        },
        // Like the app, keep accepting while the endpoints drop the pod: without it the kubelet stops
        // nginx at once and istio-proxy's requests to the limiter's port are refused meanwhile. Then
        // the image's stop signal, SIGQUIT (nginx's Dockerfile `STOPSIGNAL SIGQUIT`), is a graceful
        // shutdown: queued and in-flight requests finish within the pod's grace period.
        lifecycle: { preStop: { sleep: { seconds: DEFAULTS.preStopSleepSeconds } } },
        securityContext: restrictedContainer({ uid: settings.uid }),
        volumeMounts: [
            { name: "limiter-config", mountPath: "/etc/nginx/limiter", readOnly: true },
            { name: "limiter-tmp", mountPath: "/tmp" },
        ],
    };
}

/** Volumes of the sidecar: its configuration and a writable /tmp. */
export function limiterVolumes(names: ServiceNames) {
    return [
        { name: "limiter-config", configMap: { name: names.limiterConfigMap } },
        { name: "limiter-tmp", emptyDir: { sizeLimit: "64Mi" } },
    ];
}

/** istio-proxy's token bucket on inbound traffic to the app's port: an EnvoyFilter selecting the service's pods. */
export function envoyLocalRateLimit(
    service: ServiceConfig,
    namespace: string,
    names: ServiceNames,
    labels: Labels,
    appPort: number,
): KubeObject | undefined {
    const limit = service.rateLimit?.local;
    if (limit?.type !== "envoy") {
        return undefined;
    }
    const percent100 = { numerator: 100, denominator: "HUNDRED" };
    return {
        apiVersion: "networking.istio.io/v1alpha3",
        kind: "EnvoyFilter",
        metadata: { name: assertName("dns1123Subdomain", names.localRateLimitFilter, `EnvoyFilter of ${service.name}`), namespace, labels },
        spec: {
            workloadSelector: { labels: names.selector },
            configPatches: [
                {
                    applyTo: "HTTP_FILTER",
                    match: {
                        context: "SIDECAR_INBOUND",
                        listener: {
                            portNumber: appPort,
                            filterChain: { filter: { name: "envoy.filters.network.http_connection_manager" } },
                        },
                    },
                    patch: {
                        operation: "INSERT_BEFORE",
                        value: {
                            name: "envoy.filters.http.local_ratelimit",
                            typed_config: {
                                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                                stat_prefix: "http_local_rate_limiter",
                                // Bucket of `burst` tokens (at least one second's worth), refilled at the rate every second.
                                token_bucket: {
                                    max_tokens: Math.max(limit.burst, limit.requestsPerSecond),
                                    tokens_per_fill: limit.requestsPerSecond,
                                    fill_interval: "1s",
                                },
                                // Both default to 0%, which leaves the filter off: enable and enforce for every request.
                                filter_enabled: { runtime_key: "local_rate_limit_enabled", default_value: percent100 },
                                filter_enforced: { runtime_key: "local_rate_limit_enforced", default_value: percent100 },
                                response_headers_to_add: [
                                    { append_action: "OVERWRITE_IF_EXISTS_OR_ADD", header: { key: "x-local-rate-limit", value: "true" } },
                                ],
                            },
                        },
                    },
                },
            ],
        },
    };
}
