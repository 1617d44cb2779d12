/**
 * Every Kubernetes object of the global rate limit (docs/design.md §5) as plain data: the
 * envoyproxy/ratelimit Deployment, its Service, PodDisruptionBudget, NetworkPolicy and
 * descriptors ConfigMap; the in-cluster Redis (dev); the two EnvoyFilters per gateway. The
 * ElastiCache side and the Secret holding its auth token are built in index.ts (they need the
 * values the cloud computes).
 */
import { stringify } from "yaml";
import { DEFAULTS, GatewayConfig, GlobalRateLimitConfig, IMAGES, RATE_LIMIT_DEFAULTS } from "../config";
import {
    assertName,
    CONTENT_HASH_ANNOTATION,
    contentHash,
    KubeObject,
    Labels,
    recommendedLabels,
    restrictedContainer,
    restrictedPod,
    selectorLabels,
    softSpread,
    sortKeys,
} from "../shared";
import { descriptorsConfig, routeRateLimits } from "./descriptors";

/** `app.kubernetes.io/component` of the ratelimit objects. */
export const RATE_LIMIT_COMPONENT = "ratelimit";

const PORTS = RATE_LIMIT_DEFAULTS.ports;
const RUNTIME = RATE_LIMIT_DEFAULTS.runtime;
/** File name of the descriptors in the ConfigMap, and so in RUNTIME_APPDIRECTORY. */
export const DESCRIPTORS_FILE = "config.yaml";
/** Keys of the connection Secret (ElastiCache): ratelimit reads both from its environment. */
export const REDIS_SECRET_KEYS = { url: "REDIS_URL", auth: "REDIS_AUTH" } as const;

/** Where the global rate limit goes and what it works with. */
export interface GlobalRateLimitContext {
    /** The gateways that enforce the limits: each gets the two EnvoyFilters. */
    gateways: GatewayConfig[];
    /** `node-role` of the nodes ratelimit and Redis run on. */
    nodeRole: string;
    /** `app.kubernetes.io/part-of`. Default: `frontend`. */
    partOf?: string;
}

/** Names of the objects, derived in one place. */
export function rateLimitNames(global: GlobalRateLimitConfig) {
    const service = RATE_LIMIT_DEFAULTS.serviceName;
    const namespace = global.namespace;
    const host = `${service}.${namespace}.svc.cluster.local`;
    return {
        namespace,
        /** Deployment, Service, PodDisruptionBudget, NetworkPolicy. */
        service,
        configMap: `${service}-config`,
        redis: `${service}-redis`,
        /** Connection Secret (ElastiCache). */
        redisSecret: `${service}-redis`,
        host,
        /** Istio's EDS cluster of the gRPC port: no STRICT_DNS cluster patch, no errors while ratelimit pods roll. */
        grpcCluster: `outbound|${PORTS.grpc}||${host}`,
        redisHost: `${service}-redis.${namespace}.svc.cluster.local`,
        filter: (gateway: GatewayConfig) => assertName("dns1123Subdomain", `${gateway.name}-ratelimit`, `EnvoyFilter of ${gateway.name}`),
        actions: (gateway: GatewayConfig) =>
            assertName("dns1123Subdomain", `${gateway.name}-ratelimit-actions`, `EnvoyFilter of ${gateway.name}`),
    };
}

/** A Duration as protobuf JSON writes it (EnvoyFilter values are protobuf JSON): "50ms" -> "0.050s". */
export function protobufDuration(duration: string): string {
    const match = /^(\d+)(ms|s)$/.exec(duration);
    if (match === null) {
        throw new RangeError(`not a duration of ms or s: ${duration}`);
    }
    const millis = Number(match[1]) * (match[2] === "s" ? 1000 : 1);
    return millis % 1000 === 0 ? `${millis / 1000}s` : `${(millis / 1000).toFixed(3)}s`;
}

/**
 * Pod labels: no istio-proxy. The gateway reaches ratelimit without one (Istio's auto mTLS sends
 * plaintext to endpoints without a sidecar, and the EDS cluster exists for any Service), and the
 * Redis link gains nothing from one: to ElastiCache it is TLS end to end already (a sidecar would
 * only tunnel it as opaque TCP), in dev it carries rate counters inside the cluster. Without a
 * sidecar ratelimit cannot dial Redis before the proxy is ready, and costs no proxy resources.
 */
function podLabels(labels: Labels): Labels {
    return sortKeys({ ...labels, "sidecar.istio.io/inject": "false" });
}

function ratelimitEnvironment(global: GlobalRateLimitConfig, names: ReturnType<typeof rateLimitNames>) {
    const value = (name: string, v: string) => ({ name, value: v });
    const fromSecret = (name: string) => ({ name, valueFrom: { secretKeyRef: { name: names.redisSecret, key: name } } });
    const redis =
        global.redis === "elasticache"
            ? [
                  fromSecret(REDIS_SECRET_KEYS.url),
                  // ElastiCache with encryption in transit; the image's CA bundle trusts its certificate.
                  value("REDIS_TLS", "true"),
                  fromSecret(REDIS_SECRET_KEYS.auth),
              ]
            : [value(REDIS_SECRET_KEYS.url, `${names.redisHost}:${PORTS.redis}`), value("REDIS_TLS", "false")];
    return [
        value("PORT", String(PORTS.http)),
        value("GRPC_PORT", String(PORTS.grpc)),
        value("DEBUG_PORT", String(PORTS.debug)),
        value("LOG_FORMAT", "json"),
        value("LOG_LEVEL", "warn"),
        // No statsd sidecar or daemon runs here: without this, ratelimit sends to localhost:8125 for nothing.
        value("USE_STATSD", "false"),
        // The descriptors are RUNTIME_ROOT/RUNTIME_SUBDIRECTORY/RUNTIME_APPDIRECTORY/*.yaml, the mounted ConfigMap.
        value("RUNTIME_ROOT", RUNTIME.root),
        value("RUNTIME_SUBDIRECTORY", RUNTIME.subdirectory),
        value("RUNTIME_APPDIRECTORY", RUNTIME.appDirectory),
        // Watch the directory itself, not a symlink swap of RUNTIME_ROOT: a ConfigMap update reloads the descriptors.
        value("RUNTIME_WATCH_ROOT", "false"),
        // Skip the ConfigMap volume's `..data` and `..<timestamp>` entries.
        value("RUNTIME_IGNOREDOTFILES", "true"),
        // Not ready before the descriptors are loaded.
        value("HEALTHY_WITH_AT_LEAST_ONE_CONFIG_LOADED", "true"),
        value("REDIS_SOCKET_TYPE", "tcp"),
        value("REDIS_TYPE", "SINGLE"),
        ...redis,
    ];
}

/** Every Kubernetes object of the global rate limit, by role. */
export interface RenderedGlobalRateLimit {
    names: ReturnType<typeof rateLimitNames>;
    labels: Labels;
    configMap: KubeObject;
    deployment: KubeObject;
    service: KubeObject;
    podDisruptionBudget: KubeObject;
    networkPolicy: KubeObject;
    /** In-cluster Redis (dev): Deployment, Service, NetworkPolicy. Empty with ElastiCache. */
    redis: KubeObject[];
    /** Per gateway: the HTTP filter and the route actions. */
    envoyFilters: KubeObject[];
}

export function renderGlobalRateLimit(global: GlobalRateLimitConfig, ctx: GlobalRateLimitContext): RenderedGlobalRateLimit {
    const names = rateLimitNames(global);
    const partOf = ctx.partOf ?? DEFAULTS.partOf;
    const labels = recommendedLabels({
        name: names.service,
        version: IMAGES.ratelimit.tag,
        component: RATE_LIMIT_COMPONENT,
        partOf,
    });
    const selector = selectorLabels({ name: names.service });
    const metadata = (name: string, objectLabels: Labels = labels) => ({ name, namespace: names.namespace, labels: objectLabels });
    const configData = { [DESCRIPTORS_FILE]: stringify(descriptorsConfig(global), { lineWidth: 0 }) };
    const configMap: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: metadata(names.configMap), data: configData };
    const http = { path: "/healthcheck", port: "http" };
    const deployment: KubeObject = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: metadata(names.service),
        spec: {
            replicas: global.replicas,
            selector: { matchLabels: selector },
            revisionHistoryLimit: 5,
            strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            template: {
                metadata: {
                    labels: podLabels(labels),
                    // ratelimit reloads a changed ConfigMap by itself (within the kubelet's sync period);
                    // the hash makes the change a rollout too, so every pod surely runs the new descriptors.
                    annotations: { [CONTENT_HASH_ANNOTATION]: contentHash({ [names.configMap]: configData }) },
                },
                spec: {
                    containers: [
                        {
                            name: "ratelimit",
                            image: RATE_LIMIT_DEFAULTS.image,
                            command: ["/bin/ratelimit"],
                            ports: [
                                { name: "http", containerPort: PORTS.http, protocol: "TCP" },
                                { name: "grpc", containerPort: PORTS.grpc, protocol: "TCP" },
                                { name: "debug", containerPort: PORTS.debug, protocol: "TCP" },
                            ],
                            env: ratelimitEnvironment(global, names),
                            resources: {
                                requests: { ...RATE_LIMIT_DEFAULTS.resources.ratelimit.requests },
                                limits: { ...RATE_LIMIT_DEFAULTS.resources.ratelimit.limits },
                            },
                            // /healthcheck fails when Redis is unreachable, until the descriptors are loaded, and
                            // from SIGTERM on: the pod leaves the endpoints and the gateway's failure mode applies.
                            readinessProbe: { httpGet: http, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 },
                            startupProbe: { httpGet: http, periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 2 },
                            // Liveness only restarts a process that stopped serving: a Redis outage is not cured by restarts.
                            livenessProbe: { tcpSocket: { port: "grpc" }, periodSeconds: 10, failureThreshold: 6, timeoutSeconds: 2 },
                            lifecycle: { preStop: { exec: { command: ["sleep", String(DEFAULTS.preStopSleepSeconds)] } } },
                            securityContext: restrictedContainer(),
                            volumeMounts: [
                                // The whole directory, never a subPath: a subPath mount is never updated.
                                {
                                    name: "descriptors",
                                    mountPath: `${RUNTIME.root}/${RUNTIME.subdirectory}/${RUNTIME.appDirectory}`,
                                    readOnly: true,
                                },
                            ],
                        },
                    ],
                    volumes: [{ name: "descriptors", configMap: { name: names.configMap } }],
                    nodeSelector: { "node-role": ctx.nodeRole },
                    ...softSpread(selector),
                    terminationGracePeriodSeconds: DEFAULTS.terminationGracePeriodSeconds,
                    securityContext: restrictedPod({ uid: RATE_LIMIT_DEFAULTS.ratelimitUid }),
                    automountServiceAccountToken: false,
                },
            },
        },
    };
    const service: KubeObject = {
        apiVersion: "v1",
        kind: "Service",
        metadata: metadata(names.service),
        spec: {
            type: "ClusterIP",
            selector,
            // Port names tell Istio the protocols; `grpc-` makes the EDS cluster
            // outbound|8081||ratelimit.<ns>.svc.cluster.local speak HTTP/2, as envoy_grpc needs.
            ports: [
                { name: "http-ratelimit-svc", port: PORTS.http, targetPort: "http", protocol: "TCP" },
                { name: "grpc-ratelimit-svc", port: PORTS.grpc, targetPort: "grpc", protocol: "TCP" },
                { name: "http-debug-ratelimit-svc", port: PORTS.debug, targetPort: "debug", protocol: "TCP" },
            ],
        },
    };
    const podDisruptionBudget: KubeObject = {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: metadata(names.service),
        // One pod at a time during drains; never blocks a drain even at one replica.
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    };
    const networkPolicy: KubeObject = {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: metadata(names.service),
        spec: {
            podSelector: { matchLabels: selector },
            policyTypes: ["Ingress"],
            // Only the gateways call ratelimit (gRPC). The kubelet's probes come from the node, which
            // NetworkPolicy always allows; nothing else needs the HTTP or debug port.
            ingress: [
                {
                    from: ctx.gateways.map((g) => ({
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": g.namespace } },
                        podSelector: { matchLabels: { istio: g.name } },
                    })),
                    ports: [{ protocol: "TCP", port: PORTS.grpc }],
                },
            ],
        },
    };
    return {
        names,
        labels,
        configMap,
        deployment,
        service,
        podDisruptionBudget,
        networkPolicy,
        redis: global.redis === "inCluster" ? inClusterRedis(ctx, names, selector) : [],
        envoyFilters: ctx.gateways.flatMap((gateway) => envoyFilters(global, gateway, names, partOf)),
    };
}

/**
 * Dev's Redis: one pod, no persistence. It is a cache of rate counters that expire within a unit
 * (at most a day): losing it resets the counters, nothing else, so it is neither a StatefulSet nor
 * protected. Only ratelimit pods may connect.
 */
function inClusterRedis(ctx: GlobalRateLimitContext, names: ReturnType<typeof rateLimitNames>, ratelimitSelector: Labels): KubeObject[] {
    const labels = recommendedLabels({
        name: names.redis,
        version: IMAGES.redis.tag,
        component: RATE_LIMIT_COMPONENT,
        partOf: ctx.partOf ?? DEFAULTS.partOf,
    });
    const selector = selectorLabels({ name: names.redis });
    const metadata = { name: names.redis, namespace: names.namespace, labels };
    const probe = { tcpSocket: { port: "redis" }, periodSeconds: 10, timeoutSeconds: 2 };
    return [
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata,
            spec: {
                replicas: 1,
                selector: { matchLabels: selector },
                revisionHistoryLimit: 5,
                // One Redis at a time: two would split the counters while both serve.
                strategy: { type: "Recreate" },
                template: {
                    metadata: { labels: podLabels(labels) },
                    spec: {
                        containers: [
                            {
                                name: "redis",
                                image: RATE_LIMIT_DEFAULTS.redisImage,
                                // Started as the image's redis user, the entrypoint execs redis-server without chown or gosu.
                                args: [
                                    "redis-server",
                                    "--save",
                                    "",
                                    "--appendonly",
                                    "no",
                                    "--maxmemory",
                                    RATE_LIMIT_DEFAULTS.redisMaxMemory,
                                    "--maxmemory-policy",
                                    "volatile-ttl",
                                    "--protected-mode",
                                    "no",
                                ],
                                ports: [{ name: "redis", containerPort: PORTS.redis, protocol: "TCP" }],
                                resources: {
                                    requests: { ...RATE_LIMIT_DEFAULTS.resources.redis.requests },
                                    limits: { ...RATE_LIMIT_DEFAULTS.resources.redis.limits },
                                },
                                readinessProbe: { ...probe, failureThreshold: 3 },
                                livenessProbe: { ...probe, failureThreshold: 6 },
                                securityContext: restrictedContainer(),
                                // The image's VOLUME; nothing is written with persistence off, but redis-server chdirs here.
                                volumeMounts: [{ name: "data", mountPath: "/data" }],
                            },
                        ],
                        volumes: [{ name: "data", emptyDir: { sizeLimit: "64Mi" } }],
                        nodeSelector: { "node-role": ctx.nodeRole },
                        terminationGracePeriodSeconds: DEFAULTS.terminationGracePeriodSeconds,
                        securityContext: restrictedPod({
                            uid: RATE_LIMIT_DEFAULTS.redisUid,
                            gid: RATE_LIMIT_DEFAULTS.redisGid,
                            fsGroup: RATE_LIMIT_DEFAULTS.redisGid,
                        }),
                        automountServiceAccountToken: false,
                    },
                },
            },
        },
        {
            apiVersion: "v1",
            kind: "Service",
            metadata,
            spec: { type: "ClusterIP", selector, ports: [{ name: "tcp-redis", port: PORTS.redis, targetPort: "redis", protocol: "TCP" }] },
        },
        {
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata,
            spec: {
                podSelector: { matchLabels: selector },
                policyTypes: ["Ingress"],
                // Redis has no password here: only ratelimit pods may reach it.
                ingress: [{ from: [{ podSelector: { matchLabels: ratelimitSelector } }], ports: [{ protocol: "TCP", port: PORTS.redis }] }],
            },
        },
    ];
}

/** The two EnvoyFilters on one gateway's pods, in the gateway's namespace. */
function envoyFilters(
    global: GlobalRateLimitConfig,
    gateway: GatewayConfig,
    names: ReturnType<typeof rateLimitNames>,
    partOf: string,
): KubeObject[] {
    // The filters belong to the ratelimit app, wherever they live: one manifests directory per app.
    const labels = recommendedLabels({ name: names.service, component: RATE_LIMIT_COMPONENT, partOf });
    const workloadSelector = { labels: { istio: gateway.name } };
    return [
        {
            apiVersion: "networking.istio.io/v1alpha3",
            kind: "EnvoyFilter",
            metadata: { name: names.filter(gateway), namespace: gateway.namespace, labels },
            spec: {
                workloadSelector,
                configPatches: [
                    {
                        applyTo: "HTTP_FILTER",
                        match: {
                            context: "GATEWAY",
                            listener: {
                                filterChain: {
                                    filter: {
                                        name: "envoy.filters.network.http_connection_manager",
                                        subFilter: { name: "envoy.filters.http.router" },
                                    },
                                },
                            },
                        },
                        patch: {
                            operation: "INSERT_BEFORE",
                            value: {
                                name: "envoy.filters.http.ratelimit",
                                typed_config: {
                                    "@type": "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit",
                                    domain: global.domain,
                                    // false (the default): when ratelimit or Redis is down, requests pass instead of
                                    // failing with 500 for the whole site; the per-pod local limits still protect.
                                    failure_mode_deny: global.failureModeDeny,
                                    timeout: protobufDuration(global.timeout),
                                    rate_limit_service: {
                                        grpc_service: { envoy_grpc: { cluster_name: names.grpcCluster, authority: names.host } },
                                        transport_api_version: "V3",
                                    },
                                },
                            },
                        },
                    },
                ],
            },
        },
        {
            apiVersion: "networking.istio.io/v1alpha3",
            kind: "EnvoyFilter",
            metadata: { name: names.actions(gateway), namespace: gateway.namespace, labels },
            spec: {
                workloadSelector,
                configPatches: [
                    {
                        // Every virtual host of the gateway: the limits hold for all its hosts, one counter each.
                        applyTo: "VIRTUAL_HOST",
                        match: { context: "GATEWAY", routeConfiguration: { vhost: { route: { action: "ANY" } } } },
                        patch: { operation: "MERGE", value: { rate_limits: routeRateLimits(global) } },
                    },
                ],
            },
        },
    ];
}
