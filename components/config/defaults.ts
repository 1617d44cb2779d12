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
 * Runtime templates (docs/design.md §1): listening port, health endpoint, how long a cold start may
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

/**
 * Every third-party image, in one table: pinned by tag and by the digest of the tag's
 * multi-platform index (what `docker buildx imagetools inspect <repository>:<tag>` prints as
 * Digest), rendered as `repository:tag@digest`. With both, the kubelet pulls by digest: a re-pushed
 * tag changes nothing until the digest here is bumped. A bump is a change of one row.
 *
 * App images are not here: they come from the team's ECR repositories, whose tags are immutable
 * (a pushed tag cannot be overwritten), so `repository:version` already names one image.
 *
 * `digest: undefined` marks a tag whose digest could not be verified from a public record when it
 * was pinned; the policy pack (policy/) accepts such an image only while it is listed in
 * DIGEST_PENDING below with its reason. Never fill a digest in without checking it against the
 * registry.
 */
export interface PinnedImage {
    repository: string;
    tag: string;
    /** `sha256:<64 hex>` of the tag's image index; undefined while unverified (see DIGEST_PENDING). */
    digest: string | undefined;
}

export const IMAGES = {
    /**
     * Official nginx alpine image (Docker Hub library/nginx): its `nginx` user is uid/gid 101.
     * Index digest as recorded by docker-library's repo-info (repos/nginx/remote/1.28.0-alpine.md),
     * the same digest several public deployments pin.
     */
    nginx: {
        repository: "nginx",
        tag: "1.28.0-alpine",
        digest: "sha256:30f1c0d78e0ad60901648be663a710bdadf19e4c10ac6782c235200619158284",
    },
    /**
     * Official fluent-bit image (distroless, no USER). No public record of the 4.0.3 index digest
     * was found to check a digest against: see DIGEST_PENDING.
     */
    fluentBit: { repository: "fluent/fluent-bit", tag: "4.0.3", digest: undefined },
    /**
     * envoyproxy/ratelimit has no releases after v1.4.0: every image is tagged with its commit.
     * This is the commit Envoy Gateway v1.8 runs as its own global rate limit service. The digest
     * is the one a public Envoy Gateway deployment pins for this tag (one source, not checked
     * against Docker Hub from here).
     */
    ratelimit: {
        repository: "envoyproxy/ratelimit",
        tag: "1e50889b",
        digest: "sha256:5bb3741fd6709bab1d498eae1a5807faa2113b712dfb236fb76c04a00871ffc9",
    },
    /**
     * The in-cluster Redis (dev): 7.2 is the last BSD-licensed line, and 7.2.11 carries the fix for
     * CVE-2025-49844 (Lua use-after-free). Index digest as recorded by docker-library's repo-info
     * (repos/redis/remote/7.2.11-alpine.md, the build of 2025-10-03 on alpine 3.21.5).
     */
    redis: {
        repository: "redis",
        tag: "7.2.11-alpine",
        digest: "sha256:cd3e4dbac9604660d08efac21b27daa2ae91dde1e19203b49ec8567050ba093f",
    },
    /** The static upload Jobs' download step (`npm pack`): official Node.js 22 LTS alpine image. See DIGEST_PENDING. */
    node: { repository: "node", tag: "22.12.0-alpine3.21", digest: undefined },
    /**
     * Argo CD's own image for `argocd admin export` (the Argo CD backup): the version the argo-cd
     * chart of the add-ons installs (argo-helm 10.1.1 = Argo CD v3.4.4), so the export reads what
     * that Argo CD writes. Its digest is not verifiable from here: see DIGEST_PENDING.
     */
    argocd: { repository: "quay.io/argoproj/argocd", tag: "v3.4.4", digest: undefined },
    /**
     * The static upload Jobs' and the Argo CD backup's copy to S3: AWS CLI v2, which reads EKS Pod
     * Identity credentials from 2.15.0 on (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-minimum-sdk.html).
     * See DIGEST_PENDING.
     */
    awsCli: { repository: "amazon/aws-cli", tag: "2.22.0", digest: undefined },
} as const satisfies Record<string, PinnedImage>;

/**
 * Third-party images allowed without a digest, by `repository:tag`, each with the reason. The
 * policy pack refuses any other third-party image without one; pin the digest and remove the
 * entry as soon as it can be read from the registry (`docker buildx imagetools inspect`).
 */
export const DIGEST_PENDING: Readonly<Record<string, string>> = {
    "fluent/fluent-bit:4.0.3": "the index digest of this tag could not be read from the registry or a public record when it was pinned",
    "node:22.12.0-alpine3.21": "no registry is reachable where it was pinned, and no public record of this tag's index digest was found",
    "amazon/aws-cli:2.22.0": "no registry is reachable where it was pinned, and no public record of this tag's index digest was found",
    "quay.io/argoproj/argocd:v3.4.4":
        "no registry is reachable where it was pinned, and no public record of this tag's index digest was found",
};

/** `repository:tag@digest`, or `repository:tag` while the digest is pending. */
export function imageReference(image: PinnedImage): string {
    return image.digest === undefined ? `${image.repository}:${image.tag}` : `${image.repository}:${image.tag}@${image.digest}`;
}

/**
 * User and group ids of every container this program defines, all at or above 10000: outside the
 * range of the node's own accounts and of the users images declare (nginx 101, redis 999), so a
 * process that escapes its container owns nothing on the node. Pod-level `fsGroup` uses the same id.
 *
 * Exceptions, each with its reason: istio-proxy runs as 1337 (Istio's own gateway chart sets it,
 * manifests/charts/gateway/templates/deployment.yaml; in sidecars the iptables rules let uid 1337's
 * traffic out uncaptured); the gateway's `log-dir-owner` init container runs as root with CHOWN only
 * (components/ingress-gateway/render.ts says why).
 */
export const UIDS = {
    /** BFF app containers and their Jobs; the app image must run as any uid (no files it writes outside its volumes). */
    app: 10001,
    /** nginx and fluent-bit in the gateway pods, and the services' nginx rate-limiter sidecar. */
    gatewaySidecars: 10101,
    redis: 10999,
    /** ratelimit (no USER in its image). 65532 is the `nonroot` user of distroless images. */
    ratelimit: 65532,
    /** Istio's proxy user (see above). */
    istioProxy: 1337,
} as const;

/**
 * Who may open connections to the pods of the namespaces this program creates (NetworkPolicies,
 * ingress only; stacks/namespaces.ts writes them). Egress stays open: the services call backends,
 * legacy hosts, ElastiCache, AWS APIs and istiod by name, and a NetworkPolicy can only allow
 * addresses, not names, so an egress allow-list would break with every address change.
 */
export const NETWORK_DEFAULTS = {
    /**
     * Namespace label of the metrics scrapers (the Prometheus server, the Datadog cluster checks
     * runners and agents): pods of a namespace labelled so may read the metrics ports of BFF and
     * gateway pods. Label the monitoring namespace with `kubectl label namespace <ns>
     * frontend-platform/metrics-scraper=true`. A Datadog agent on the host network comes from the
     * node's address, which is always allowed to reach the pods of its own node.
     */
    metricsScraperNamespaceLabels: { "frontend-platform/metrics-scraper": "true" },
    /**
     * istio-proxy's metrics ports (istio.io/latest/docs/ops/deployment/application-requirements/):
     * 15020 merged Prometheus telemetry of the agent, Envoy and the app; 15090 Envoy's own.
     */
    istioMetricsPorts: [15020, 15090],
} as const;

/** Defaults of a service entry's optional settings. */
export const SERVICE_DEFAULTS = {
    /** The handbook's canary (docs/design.md §3): 60 s at 0%, then 34%, 67%, 100% with 60 s pauses. */
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
    /** nginx leaky-bucket sidecar: a high port (it runs unprivileged, as the gateway sidecars' uid). */
    localRateLimiter: {
        port: 8079,
        /** nginx's own /healthz for the liveness probe, on a port no Service targets. */
        healthPort: 8078,
        uid: UIDS.gatewaySidecars,
        resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "250m", memory: "64Mi" } },
    },
    scaleDownStabilizationSeconds: 300,
    /** Range of the Prometheus rate() windows in analysis queries. */
    prometheusQueryWindow: "2m",
    /**
     * Window of the Datadog analysis queries (`datadog.interval`): long enough that the Agent's
     * 15 s check runs and Datadog's ingestion delay still leave minutes of data in it.
     */
    datadogQueryWindow: "5m",
} as const;

export type Runtime = keyof typeof RUNTIME_DEFAULTS;

/**
 * istio-proxy requests and limits, set on every meshed pod through its annotations
 * (`sidecar.istio.io/proxyCPU` and friends). The values are Istio's own chart defaults; they count
 * in the scheduler's and the HPA's arithmetic (docs/design.md §5), so the report includes them.
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
    /** The stack's time zone: CronJob schedules are read in it (the team's, as the access log's). */
    timeZone: "Asia/Tokyo",
    /** Namespace of the ingress gateway and its sidecars. */
    gatewayNamespace: "frontend-gateway",
    /** `app.kubernetes.io/part-of` of everything this program creates. */
    partOf: "frontend",
    /** Seconds the pod keeps serving after being removed from endpoints (docs/design.md §6). */
    preStopSleepSeconds: 5,
    /** Grace period after SIGTERM; must exceed the preStop sleep. */
    terminationGracePeriodSeconds: 30,
    hpaTargetCpuUtilization: 70,
    argocdNamespace: "argocd",
    /** Name of the Argo CD backup's CronJob, ServiceAccount, Role and RoleBinding (delivery.backup). */
    argocdBackup: "argocd-backup",
    /** Where generated manifests live in the repository Argo CD syncs (docs/design.md §1). */
    manifestsPath: "kubernetes/overlays",
    rootApplication: "frontend-apps",
} as const;

/**
 * The ingress gateway and its access-log sidecars (docs/design.md §4): pinned images, their default
 * sizing and the access-log location. One place to bump a sidecar (cert-manager is an add-on: components/addons).
 */
export const GATEWAY_DEFAULTS = {
    /**
     * nginx access-log sidecar (see IMAGES.nginx). The generated nginx.conf uses nothing newer than
     * nginx 1.15.9 (certificates named by variables), so the tests run the same file with Debian's nginx.
     */
    nginxImage: imageReference(IMAGES.nginx),
    /**
     * fluent-bit sidecar (see IMAGES.fluentBit). The seed pinned 1.8.13 (end of life); 4.0 reads the
     * same classic configuration (syslog unix_udp input, parser, lua and rewrite_tag filters, file
     * output) and adds `Mkdir` for the dated directories.
     */
    fluentBitImage: imageReference(IMAGES.fluentBit),
    /**
     * uid and gid of both sidecars: one uid, so nginx may write to the socket fluent-bit creates.
     * Not the nginx image's own user (101): with a read-only root filesystem nothing the image owns
     * is writable anyway, every path either sidecar writes is a volume, so a high uid outside the
     * range of any node or image account works the same (fluent-bit's distroless image declares
     * no user at all).
     */
    sidecarUid: UIDS.gatewaySidecars,
    /**
     * Per-container requests and limits, istio-proxy's on its container (the gateway injection
     * template ignores the proxy annotations). fluent-bit's are derived from `ratedRequestsPerSecond`
     * (components/ingress-gateway/fluent-bit.ts).
     */
    resources: {
        proxy: { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } },
        nginx: { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
    },
    /**
     * Requests/s one gateway pod is rated for: its access log keeps every record up to this load
     * (measured by `npm run bench`), and fluent-bit's CPU request and socket buffer are sized for it.
     */
    ratedRequestsPerSecond: 1000,
    /** Time zone of the access log's dated directories (the handbook's nginx ran with TZ=Asia/Tokyo). */
    accessLogTimeZone: "Asia/Tokyo",
    /** Directory on the gateway node where fluent-bit writes the access log (read by the node's fluentd). */
    accessLogHostPath: "/var/log/istio-ingressgateway",
    acmeServer: "https://acme-v02.api.letsencrypt.org/directory",
} as const;

/**
 * Global rate limiting (docs/design.md §5): envoyproxy/ratelimit, its Redis, and where they run. One
 * place to bump an image or change a port; the Service, the container, its environment and the
 * gateway's EnvoyFilter all read the ports from here.
 */
export const RATE_LIMIT_DEFAULTS = {
    /** envoyproxy/ratelimit (see IMAGES.ratelimit). */
    image: imageReference(IMAGES.ratelimit),
    /** The in-cluster Redis of dev (see IMAGES.redis). */
    redisImage: imageReference(IMAGES.redis),
    /**
     * Not the image's `redis` user (uid 999, gid 1000): started as any uid other than 0, the
     * image's docker-entrypoint.sh skips its chown and gosu and execs redis-server as that uid
     * (github.com/docker-library/redis, docker-entrypoint.sh), and redis-server writes nothing but
     * its emptyDir /data (persistence off).
     */
    redisUid: UIDS.redis,
    redisGid: UIDS.redis,
    /**
     * The ratelimit image (alpine) declares no USER, so it would run as root; it needs no
     * privilege (ports above 1024, read-only config), so it runs as this unprivileged uid.
     */
    ratelimitUid: UIDS.ratelimit,
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

/** Static assets, ECR and the upload Jobs (images in IMAGES: `node`, `awsCli`). */
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
        /** Downloads and unpacks the release package (`npm pack`). */
        npmImage: imageReference(IMAGES.node),
        /** Copies the files to S3 with the Pod Identity credentials. */
        awsCliImage: imageReference(IMAGES.awsCli),
        /** Both containers run as the app uid (npm and the AWS CLI need only a writable HOME, /tmp here). */
        uid: UIDS.app,
        activeDeadlineSeconds: 900,
        backoffLimit: 2,
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        /** Argo CD sync wave: before the workload (wave 0), so the files exist before a pod serves a page naming them. */
        syncWave: -1,
    },
    ecr: { keepReleases: 30, untaggedDays: 7 },
} as const;

/**
 * The namespace of each cluster add-on (components/addons installs them there; Argo CD's is
 * `delivery.argocdNamespace`). Here, beside the config, so that derived-name checks see them.
 */
export const ADDON_NAMESPACES = {
    istio: "istio-system",
    argocd: "argocd",
    argoRollouts: "argo-rollouts",
    certManager: "cert-manager",
    metricsServer: "metrics-server",
    clusterAutoscaler: "cluster-autoscaler",
    awsLoadBalancerController: "aws-load-balancer-controller",
    datadog: "datadog",
} as const;

/** Names of the Secrets the add-ons get from the stack's secret config (Argo CD's repository, Datadog's keys). */
export const ADDON_SECRETS = { argocdRepository: "frontend-repository", datadogKeys: "datadog-keys" } as const;
