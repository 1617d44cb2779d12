/**
 * Every default and pinned version in one place (the cdk-eks-blueprints rule): a reviewer sees
 * what a stack gets when it says nothing, and a version bump is a one-line change here.
 */

/** Pulumi project name; also the namespace of the stack config keys (`bff-platform:services`). */
export const PROJECT = "bff-platform";

/**
 * App directories that are not services: the host routes and the child Applications of Argo CD.
 * No service may take these names (each app has its own directory of manifests).
 */
export const PLATFORM_APPS = { hostRoutes: "host-routes", applications: "applications" } as const;

/**
 * Service names derived from a service's name (Services are DNS-1123 labels of 63 characters at
 * most); the config check keeps room for the longest. Other derived objects are subdomains (253).
 */
export const SERVICE_NAME_SUFFIXES = ["-stable", "-canary"] as const;

/**
 * Runtime templates (SYSTEM.md §1): listening port, health endpoint, how long a cold start may
 * take before liveness applies, environment defaults (a service's `env` overrides them) and the
 * Datadog log source. A service may override port and health path.
 */
export const RUNTIME_DEFAULTS = {
    nodejs: { port: 3000, healthPath: "/healthz", startupSeconds: 30, env: { NODE_ENV: "production" }, logSource: "nodejs" },
    ruby: {
        port: 3000,
        healthPath: "/healthz",
        // Rails boots slowly: eager loading of the whole application.
        startupSeconds: 60,
        env: { RAILS_ENV: "production", RAILS_LOG_TO_STDOUT: "1" },
        logSource: "ruby",
    },
    scala: {
        port: 9000,
        healthPath: "/healthz",
        // JVM start plus JIT warm-up.
        startupSeconds: 120,
        // Heap follows the container's memory limit instead of the node's memory.
        env: { JAVA_TOOL_OPTIONS: "-XX:MaxRAMPercentage=75.0" },
        logSource: "java",
    },
    php: { port: 8080, healthPath: "/healthz", startupSeconds: 30, env: {}, logSource: "php" },
} as const;

/** Defaults of a service entry's optional settings. */
export const SERVICE_DEFAULTS = {
    /** The handbook's canary (SYSTEM.md §3): 60 s at 0%, then 34%, 67%, 100% with 60 s pauses. */
    canarySteps: [{ pause: 60 }, { setWeight: 34 }, { pause: 60 }, { setWeight: 67 }, { pause: 60 }, { setWeight: 100 }],
    /** Surge while a canary scales up: a third more pods at most (handbook). */
    canaryMaxSurge: "33%",
    analysis: { interval: "1m", count: 3, failureLimit: 1, maxErrorRate: 0.01, maxLatencyP99Ms: 1000 },
    /** Gateway timeout of a BFF request: SSR pages fan out to several backends. */
    timeout: "15s",
    /** Retry only what never reached the app: safe for non-idempotent requests. */
    retries: { attempts: 2, perTryTimeout: "5s" },
    retryOn: "connect-failure,refused-stream,unavailable",
    circuitBreaker: {
        maxConnections: 1024,
        maxPendingRequests: 256,
        maxRequests: 1024,
        consecutive5xxErrors: 5,
        interval: "10s",
        baseEjectionTime: "30s",
        maxEjectionPercent: 50,
    },
    job: { activeDeadlineSeconds: 1800, backoffLimit: 2 },
    /** nginx leaky-bucket sidecar: a high port (it runs unprivileged, as its image's uid 101). */
    localRateLimiter: {
        port: 8079,
        uid: 101,
        resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "250m", memory: "64Mi" } },
    },
    scaleDownStabilizationSeconds: 300,
    /** Range of the Prometheus rate() windows in analysis queries. */
    prometheusQueryWindow: "2m",
} as const;

export type Runtime = keyof typeof RUNTIME_DEFAULTS;

/**
 * istio-proxy requests and limits, set on every meshed pod through its annotations
 * (`sidecar.istio.io/proxyCPU` and friends). The values are Istio's own chart defaults; they count
 * in the scheduler's and the HPA's arithmetic (SYSTEM.md §5), so the report includes them.
 */
export const ISTIO_PROXY_RESOURCES = {
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { cpu: "2", memory: "1Gi" },
} as const;

export const DEFAULTS = {
    /** Kubernetes version of new clusters; EKS upgrades one minor at a time. */
    kubernetesVersion: "1.33",
    /** Control-plane log types sent to CloudWatch. */
    clusterLogTypes: ["api", "audit", "authenticator"],
    nodeDiskSizeGiB: 50,
    /** Namespace of the BFF workloads (Argo CD child Applications deploy here). */
    appNamespace: "frontend",
    /** Namespace of the ingress gateway and its sidecars. */
    gatewayNamespace: "frontend-gateway",
    /** `app.kubernetes.io/part-of` of everything this program creates. */
    partOf: "frontend",
    /** Seconds the pod keeps serving after being removed from endpoints (SYSTEM.md §6). */
    preStopSleepSeconds: 5,
    /** Grace period after SIGTERM; must exceed the preStop sleep. */
    terminationGracePeriodSeconds: 30,
    hpaTargetCpuUtilization: 70,
    argocdNamespace: "argocd",
    /** Where generated manifests live in the repository Argo CD syncs (SYSTEM.md §1). */
    manifestsPath: "kubernetes/overlays",
    rootApplication: "frontend-apps",
} as const;

/**
 * The ingress gateway and its access-log sidecars (SYSTEM.md §4): pinned images, their default
 * sizing, the access-log location and cert-manager. One place to bump a sidecar or the chart.
 */
export const GATEWAY_DEFAULTS = {
    /**
     * nginx access-log sidecar: the official alpine image, whose `nginx` user is uid/gid 101. The
     * generated nginx.conf uses nothing newer than nginx 1.15.9 (certificates named by variables),
     * so the tests run the same file with Debian's nginx.
     */
    nginxImage: "nginx:1.28.0-alpine",
    /**
     * fluent-bit sidecar. The seed pinned 1.8.13 (end of life); 4.0 reads the same classic
     * configuration (syslog unix_udp input, parser, lua and rewrite_tag filters, file output) and
     * adds `Mkdir` for the dated directories.
     */
    fluentBitImage: "fluent/fluent-bit:4.0.3",
    /** uid and gid of both sidecars: nginx's user in its image. One uid, so nginx may write to the socket fluent-bit creates. */
    sidecarUid: 101,
    /** Per-container requests and limits; istio-proxy's are set through its annotations. */
    resources: {
        proxy: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } },
        nginx: { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
        /** The seed's figures: requests equal limits. */
        fluentBit: { requests: { cpu: "150m", memory: "128Mi" }, limits: { cpu: "150m", memory: "128Mi" } },
    },
    /** Time zone of the access log's dated directories (the handbook's nginx ran with TZ=Asia/Tokyo). */
    accessLogTimeZone: "Asia/Tokyo",
    /** Directory on the gateway node where fluent-bit writes the access log (read by the node's fluentd). */
    accessLogHostPath: "/var/log/istio-ingressgateway",
    /** cert-manager Helm chart installed by @pulumi/kubernetes-cert-manager. */
    certManagerChartVersion: "v1.18.2",
    certManagerNamespace: "cert-manager",
    acmeServer: "https://acme-v02.api.letsencrypt.org/directory",
} as const;

/**
 * Global rate limiting (SYSTEM.md §5): envoyproxy/ratelimit, its Redis, and where they run. One
 * place to bump an image or change a port; the Service, the container, its environment and the
 * gateway's EnvoyFilter all read the ports from here.
 */
export const RATE_LIMIT_DEFAULTS = {
    /**
     * envoyproxy/ratelimit has no releases after v1.4.0: every image is tagged with its commit.
     * This is the commit Envoy Gateway v1.8 runs as its own global rate limit service.
     */
    image: "envoyproxy/ratelimit:1e50889b",
    /**
     * The in-cluster Redis (dev): 7.2 is the last BSD-licensed line, and 7.2.11 carries the fix for
     * CVE-2025-49844 (Lua use-after-free). The alpine image's `redis` user is uid 999, gid 1000.
     */
    redisImage: "redis:7.2.11-alpine",
    redisUid: 999,
    redisGid: 1000,
    /**
     * The ratelimit image (alpine) declares no USER, so it would run as root; it needs no
     * privilege (ports above 1024, read-only config), so it runs as this unprivileged uid.
     */
    ratelimitUid: 65532,
    /** Namespace of ratelimit and Redis: their own, without istio-proxy injection. */
    namespace: "frontend-ratelimit",
    /** Service name: part of the EDS cluster name `outbound|8081||ratelimit.<ns>.svc.cluster.local`. */
    serviceName: "ratelimit",
    replicas: 2,
    /** ratelimit's own defaults (HTTP with /healthcheck, gRPC, debug), set explicitly. */
    ports: { http: 8080, grpc: 8081, debug: 6070, redis: 6379 },
    /** The descriptors are read from RUNTIME_ROOT/RUNTIME_SUBDIRECTORY/RUNTIME_APPDIRECTORY/*.yaml. */
    runtime: { root: "/data", subdirectory: "ratelimit", appDirectory: "config" },
    resources: {
        ratelimit: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
        redis: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    },
    /** Redis `maxmemory`, below the container's memory limit; counters expire on their own. */
    redisMaxMemory: "192mb",
    elasticache: {
        engineVersion: "7.1",
        parameterGroupName: "default.redis7",
        /** Graviton, not burstable: every gateway request costs a Redis round trip. */
        nodeType: "cache.m7g.large",
        /** A primary and a replica in another AZ, with automatic failover. */
        numCacheClusters: 2,
        /** AUTH token: ElastiCache takes 16-128 printable characters; letters and digits only (no ':' either, which REDIS_AUTH reads as user:password). */
        authTokenLength: 64,
    },
} as const;

/**
 * Static assets, ECR and the upload Jobs. Images are pinned by tag; their digests are not
 * verifiable offline (no registry is reachable here): pin them with `@sha256:` when you mirror them.
 */
export const PLATFORM_DEFAULTS = {
    staticAssets: {
        /** North America, Europe, Asia, Middle East and Africa: the users of a Japanese service are in Asia. */
        priceClass: "PriceClass_200",
        /** Bundlers write content-hashed names under an assets directory (Vite `assets/`, Next.js `_next/static/`). */
        immutablePathPatterns: ["*/assets/*", "*/_next/static/*"],
        /** Year-long, immutable: a content-hashed name never changes its bytes (RFC 8246). */
        immutableMaxAgeSeconds: 31536000,
        /** Entry files (index.js, manifest.json) name the hashed ones: a minute keeps a release visible quickly. */
        entryMaxAgeSeconds: 60,
        noncurrentVersionDays: 30,
        npmRegistry: "https://registry.npmjs.org",
    },
    upload: {
        /** Downloads and unpacks the release package (`npm pack`), as the node image's `node` user. */
        npmImage: "node:22.12.0-alpine3.21",
        /** Copies the files to S3 with the Pod Identity credentials (AWS CLI v2 reads them since 2.15). */
        awsCliImage: "amazon/aws-cli:2.22.0",
        activeDeadlineSeconds: 900,
        backoffLimit: 2,
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        /** Argo CD sync wave: before the workload (wave 0), so the files exist before a pod serves a page naming them. */
        syncWave: -1,
    },
    ecr: { keepReleases: 30, untaggedDays: 7 },
} as const;
