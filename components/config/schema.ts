/**
 * The one schema of a stack's configuration: everything `Pulumi.<stack>.yaml` may say under the
 * `bff-platform:` namespace. Objects are strict (an unknown key is a typo and an error), names
 * follow the Kubernetes rules, and cross-field rules (replicas within HPA bounds, requests within
 * limits, routes that name a known host) are checked here so that a bad config fails before a
 * single resource is registered.
 */
import { z } from "zod";
import { checkLocalLimit, checkName, checkQuantity, NAME_LIMITS, NameKind, parseCpuMillis, parseMemoryBytes } from "../shared";
import { DEFAULTS, RUNTIME_DEFAULTS, SERVICE_NAME_SUFFIXES } from "./defaults";

const LONGEST_SERVICE_SUFFIX = Math.max(...SERVICE_NAME_SUFFIXES.map((s) => s.length));

/** A string that must be a Kubernetes name of the given kind; the message names the rule. */
function kubeName(kind: NameKind, maxLength: number = NAME_LIMITS[kind]) {
    return z.string().superRefine((value, ctx) => {
        const problem = checkName(kind, value);
        if (problem !== undefined) {
            ctx.addIssue({ code: "custom", message: problem });
        } else if (value.length > maxLength) {
            ctx.addIssue({
                code: "custom",
                message: `"${value}" is ${value.length} characters long, more than the ${maxLength} allowed here`,
            });
        }
    });
}

const quantity = z.string().superRefine((value, ctx) => {
    const problem = checkQuantity(value);
    if (problem !== undefined) {
        ctx.addIssue({ code: "custom", message: problem });
    }
});

const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);
const percent = z.number().int().min(1).max(100);

/** Image tags are versions people read in reviews and Datadog tags: never `latest`. */
const version = z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/, {
        error: "must be an image tag of at most 63 letters, digits, '_', '.' and '-' (it is also a label value)",
    })
    .refine((v) => v !== "latest", { error: '"latest" is not a version: pin the release you deploy' });

/** Repository without tag or digest: the tag comes from `version`. */
const imageRepository = z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._/-][a-z0-9]+)*)*$/, {
    error: "must be an image repository without tag or digest (e.g. 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/frontend/pc-web); the tag comes from `version`",
});

const resourceMap = z.strictObject({ cpu: quantity, memory: quantity });
const limitMap = z.strictObject({ cpu: quantity.optional(), memory: quantity });

/** Container requests and limits; limits.cpu may be left out on purpose (no CPU throttling). */
export const resourcesSchema = z.strictObject({ requests: resourceMap, limits: limitMap });

const clusterSchema = z.strictObject({
    /** EKS cluster name. */
    name: kubeName("dns1123Label"),
    /** Kubernetes minor version, e.g. "1.33". */
    kubernetesVersion: z
        .string()
        .regex(/^1\.\d{2}$/, { error: 'must be a Kubernetes minor version such as "1.33"' })
        .default(DEFAULTS.kubernetesVersion),
    /** Existing VPC; the network is owned outside this program. */
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { error: "must be a VPC id (vpc-0123456789abcdef0)" }),
    /** Private subnets in at least two availability zones (SYSTEM.md §8). */
    privateSubnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: "must be a subnet id (subnet-0123456789abcdef0)" }))
        .min(2, { error: "must list private subnets in at least two availability zones" }),
    /** Whether the API endpoint is reachable from the internet; off by default (SYSTEM.md §8). */
    endpointPublicAccess: z.boolean().default(false),
    /** CIDRs allowed to reach a public endpoint. */
    publicAccessCidrs: z.array(z.cidrv4()).default([]),
    /** IAM role ARNs granted cluster-admin through EKS access entries. */
    adminRoleArns: z.array(z.string().regex(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/, { error: "must be an IAM role ARN" })).default([]),
    /** Control-plane log types sent to CloudWatch. */
    logTypes: z.array(z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"])).default([...DEFAULTS.clusterLogTypes]),
});

export const NODE_ROLES = ["gateway", "worker", "system"] as const;

const nodePoolSchema = z.strictObject({
    /** Node group name, unique in the stack. */
    name: kubeName("dns1123Label"),
    /** `node-role` label of the nodes; gateway nodes are also tainted for gateway pods only. */
    role: z.enum(NODE_ROLES),
    /** EC2 instance types; list several for spot so that one market's shortage does not empty the pool. */
    instanceTypes: z
        .array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "must be an EC2 instance type such as c6i.xlarge" }))
        .min(1),
    /** SPOT for dev/QA, ON_DEMAND for production (SYSTEM.md §8). */
    capacityType: z.enum(["ON_DEMAND", "SPOT"]),
    minSize: nonNegativeInt,
    maxSize: positiveInt,
    /** Size at creation only: the Cluster Autoscaler owns it afterwards and the program ignores later changes. */
    desiredSize: nonNegativeInt,
    diskSizeGiB: z.number().int().min(20).max(16384).default(DEFAULTS.nodeDiskSizeGiB),
});

const hostSchema = z.strictObject({
    /** Short name used by gateways and routes, e.g. `pc`. */
    name: kubeName("dns1123Label"),
    /** Fully-qualified host name, e.g. `pc.example.com`. */
    hostname: kubeName("dns1123Subdomain"),
});

const gatewaySchema = z.strictObject({
    name: kubeName("dns1123Label").default("istio-ingressgateway"),
    namespace: kubeName("dns1123Label").default(DEFAULTS.gatewayNamespace),
    /** `gatewayInjection` (current Istio) or `istioOperator` (the handbook's operator file). */
    mode: z.enum(["gatewayInjection", "istioOperator"]).default("gatewayInjection"),
    /** Names of `hosts` entries served by this gateway. */
    hosts: z.array(kubeName("dns1123Label")).min(1),
    minReplicas: positiveInt.default(2),
    maxReplicas: positiveInt.default(4),
});

const hpaSchema = z.strictObject({
    minReplicas: positiveInt,
    maxReplicas: positiveInt,
    /** Average CPU utilization of the whole pod (istio-proxy included), in percent of requests. */
    targetCpuUtilization: percent.default(DEFAULTS.hpaTargetCpuUtilization),
});

const capacitySchema = z.strictObject({
    /** Requests per second one pod serves when its CPU reaches the HPA target (load test). */
    triggerRpsPerPod: z.number().positive(),
    /** Requests per second above which one pod stops answering correctly (load test). */
    podPerformanceRps: z.number().positive().optional(),
});

const localRateLimitSchema = z.strictObject({
    /** `nginx`: leaky bucket sidecar, burst queued (handbook's choice); `envoy`: token bucket in istio-proxy. */
    type: z.enum(["nginx", "envoy"]),
    /** Sustained requests per second per pod. */
    requestsPerSecond: positiveInt,
    /** Requests above the rate accepted at once (nginx queue length, envoy bucket size). */
    burst: nonNegativeInt,
    /** nginx only: requests of a burst forwarded without delay. */
    delay: nonNegativeInt.optional(),
});

const routeSchema = z.strictObject({
    /** Name of a `hosts` entry. */
    host: kubeName("dns1123Label"),
    /** Path prefix served by this service on that host. */
    pathPrefix: z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, { error: "must be a URL path starting with '/'" }),
});

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const serviceSchema = z.strictObject({
    /** Service name; stable, used in every derived object name. */
    name: kubeName("dns1123Label", NAME_LIMITS.dns1123Label - LONGEST_SERVICE_SUFFIX),
    /** Runtime template: port, probes and defaults. */
    runtime: z.enum(Object.keys(RUNTIME_DEFAULTS) as [keyof typeof RUNTIME_DEFAULTS]),
    /** Image repository without tag. */
    image: imageRepository,
    /** Release version: the image tag and the `version` labels. */
    version,
    /** Pod count; required without `hpa`, not allowed with it (the autoscaler owns the count). */
    replicas: nonNegativeInt.optional(),
    resources: resourcesSchema,
    hpa: hpaSchema.optional(),
    capacity: capacitySchema.optional(),
    rateLimit: z.strictObject({ local: localRateLimitSchema.optional() }).optional(),
    /** Container port; defaults by runtime. */
    port: z.number().int().min(1).max(65535).optional(),
    /** Readiness and liveness path; defaults by runtime. */
    healthPath: z
        .string()
        .regex(/^\/\S*$/, { error: "must be a path starting with '/'" })
        .optional(),
    routes: z.array(routeSchema).default([]),
    /** Plain environment variables (no secrets: those live in the secrets repository). */
    env: z
        .record(z.string(), z.string())
        .default({})
        .superRefine((env, ctx) => {
            for (const key of Object.keys(env)) {
                if (!ENV_NAME.test(key)) {
                    ctx.addIssue({
                        code: "custom",
                        path: [key],
                        message: `"${key}" is not an environment variable name (letters, digits and '_', not starting with a digit)`,
                    });
                }
            }
        }),
});

const globalLimitSchema = z.strictObject({
    /** Descriptor name, unique. */
    name: kubeName("dns1123Label"),
    /** Exact request path (`:path` descriptor). */
    path: z.string().startsWith("/").optional(),
    /** RE2 regular expression on the path (`header_value_match`), e.g. `/watch/(lv\d+)`. */
    pathRegex: z.string().min(1).optional(),
    unit: z.enum(["second", "minute", "hour", "day"]),
    requestsPerUnit: positiveInt,
});

const rateLimitsSchema = z.strictObject({
    global: z
        .strictObject({
            /** ratelimit service domain. */
            domain: kubeName("dns1123Label"),
            /** Let traffic through when the ratelimit service is down; local limits still protect. */
            failureModeDeny: z.boolean().default(false),
            /** Time the gateway waits for the ratelimit service, e.g. "50ms". */
            timeout: z
                .string()
                .regex(/^\d+(ms|s)$/, { error: 'must be a duration such as "50ms" or "1s"' })
                .default("50ms"),
            limits: z.array(globalLimitSchema).min(1),
            /** In-cluster Redis (dev) or ElastiCache (production). */
            redis: z.enum(["inCluster", "elasticache"]).default("inCluster"),
        })
        .optional(),
});

const backendSchema = z.strictObject({
    name: kubeName("dns1123Label"),
    /** Requests per second this backend can take (SYSTEM.md §5: caps the global limit). */
    maxRps: z.number().positive(),
});

const deliverySchema = z.strictObject({
    /** `argocd`: manifests rendered for Argo CD to sync; `direct`: applied by Pulumi to the cluster. */
    mode: z.enum(["argocd", "direct"]).default("argocd"),
    /** Git repository Argo CD syncs. */
    repoURL: z.url({ protocol: /^(https|ssh)$/, error: "must be an https:// or ssh:// git URL" }),
    /** Branch: `master` for non-production, `release/production` for production (SYSTEM.md §2). */
    targetRevision: z.string().min(1),
    /** Directory of the per-environment overlays in that repository. */
    manifestsPath: z
        .string()
        .regex(/^[\w.-]+(\/[\w.-]+)*$/, { error: "must be a relative path" })
        .default(DEFAULTS.manifestsPath),
    argocdNamespace: kubeName("dns1123Label").default(DEFAULTS.argocdNamespace),
    /** Slack channel subscribed to sync notifications of every service. */
    slackChannel: z
        .string()
        .regex(/^[a-z0-9_-]{1,80}$/, { error: "must be a Slack channel name without '#'" })
        .optional(),
});

/** The whole stack configuration, keyed as in `Pulumi.<stack>.yaml` without the `bff-platform:` prefix. */
export const stackConfigSchema = z
    .strictObject({
        /** Environment name: dev, qa, production, ... (a DNS label; it appears in names and RELEASE_ENV). */
        environment: kubeName("dns1123Label"),
        /** Namespace of the BFF workloads. */
        appNamespace: kubeName("dns1123Label").default(DEFAULTS.appNamespace),
        cluster: clusterSchema,
        nodePools: z.array(nodePoolSchema).min(1),
        hosts: z.array(hostSchema).min(1),
        gateways: z.array(gatewaySchema).default([]),
        services: z.array(serviceSchema).min(1),
        rateLimits: rateLimitsSchema.default({}),
        backends: z.array(backendSchema).default([]),
        delivery: deliverySchema,
    })
    .superRefine(checkCrossReferences);

export type StackConfig = z.output<typeof stackConfigSchema>;
export type ServiceConfig = StackConfig["services"][number];
export type ClusterConfig = StackConfig["cluster"];
export type NodePoolConfig = StackConfig["nodePools"][number];
export type HostConfig = StackConfig["hosts"][number];
export type GatewayConfig = StackConfig["gateways"][number];
export type ResourcesConfig = z.output<typeof resourcesSchema>;

type Ctx = z.RefinementCtx<StackConfig>;

function issue(ctx: Ctx, path: (string | number)[], message: string): void {
    ctx.addIssue({ code: "custom", path, message });
}

function checkUnique<T>(ctx: Ctx, items: T[], key: keyof T & string, listName: string): void {
    const seen = new Map<unknown, number>();
    items.forEach((item, index) => {
        const value = item[key];
        const first = seen.get(value);
        if (first !== undefined) {
            issue(ctx, [listName, index, key], `"${String(value)}" is already used by ${listName}[${first}]; names must be unique`);
        } else {
            seen.set(value, index);
        }
    });
}

/** Rules that span fields: run once every field has the right type. */
function checkCrossReferences(config: StackConfig, ctx: Ctx): void {
    checkUnique(ctx, config.nodePools, "name", "nodePools");
    checkUnique(ctx, config.hosts, "name", "hosts");
    checkUnique(ctx, config.hosts, "hostname", "hosts");
    checkUnique(ctx, config.gateways, "name", "gateways");
    checkUnique(ctx, config.services, "name", "services");
    checkUnique(ctx, config.backends, "name", "backends");

    config.nodePools.forEach((pool, i) => {
        if (pool.minSize > pool.maxSize) {
            issue(ctx, ["nodePools", i, "minSize"], `${pool.minSize} is above maxSize ${pool.maxSize}`);
        }
        if (pool.desiredSize < pool.minSize || pool.desiredSize > pool.maxSize) {
            issue(
                ctx,
                ["nodePools", i, "desiredSize"],
                `${pool.desiredSize} is outside minSize..maxSize (${pool.minSize}..${pool.maxSize})`,
            );
        }
    });
    if (!config.nodePools.some((p) => p.role === "worker")) {
        issue(ctx, ["nodePools"], 'needs at least one pool with role "worker": services run on worker nodes');
    }
    if (config.gateways.length > 0 && !config.nodePools.some((p) => p.role === "gateway")) {
        issue(ctx, ["nodePools"], 'needs a pool with role "gateway": gateways run on dedicated gateway nodes (SYSTEM.md §4)');
    }

    const hostNames = new Set(config.hosts.map((h) => h.name));
    const known = `known hosts: ${[...hostNames].join(", ")}`;
    config.gateways.forEach((gateway, g) => {
        gateway.hosts.forEach((host, h) => {
            if (!hostNames.has(host)) {
                issue(ctx, ["gateways", g, "hosts", h], `"${host}" is not a name in hosts (${known})`);
            }
        });
        if (gateway.minReplicas > gateway.maxReplicas) {
            issue(ctx, ["gateways", g, "minReplicas"], `${gateway.minReplicas} is above maxReplicas ${gateway.maxReplicas}`);
        }
    });

    const routeOwners = new Map<string, string>();
    config.services.forEach((service, s) => {
        checkService(ctx, service, s);
        service.routes.forEach((route, r) => {
            if (!hostNames.has(route.host)) {
                issue(ctx, ["services", s, "routes", r, "host"], `"${route.host}" is not a name in hosts (${known})`);
            }
            const key = `${route.host} ${route.pathPrefix}`;
            const owner = routeOwners.get(key);
            if (owner !== undefined) {
                issue(
                    ctx,
                    ["services", s, "routes", r, "pathPrefix"],
                    `${route.pathPrefix} on host ${route.host} is already routed to ${owner}`,
                );
            } else {
                routeOwners.set(key, service.name);
            }
        });
    });

    const limits = config.rateLimits.global?.limits ?? [];
    checkUnique(ctx, limits, "name", "rateLimits.global.limits" as never);
    limits.forEach((limit, l) => {
        if ((limit.path === undefined) === (limit.pathRegex === undefined)) {
            issue(ctx, ["rateLimits", "global", "limits", l], "set exactly one of path and pathRegex");
        }
    });
}

function checkService(ctx: Ctx, service: ServiceConfig, s: number): void {
    const at = (...rest: (string | number)[]) => ["services", s, ...rest];
    if (service.hpa === undefined && service.replicas === undefined) {
        issue(ctx, at("replicas"), "is required when no hpa is set");
    }
    if (service.hpa !== undefined) {
        const { minReplicas, maxReplicas } = service.hpa;
        if (minReplicas > maxReplicas) {
            issue(ctx, at("hpa", "minReplicas"), `${minReplicas} is above maxReplicas ${maxReplicas}`);
        }
        if (service.replicas !== undefined) {
            issue(ctx, at("replicas"), "conflicts with hpa: the autoscaler owns the replica count (set hpa.minReplicas instead)");
        }
    }
    const { requests, limits } = service.resources;
    if (checkQuantity(requests.memory) === undefined && checkQuantity(limits.memory) === undefined) {
        if (parseMemoryBytes(requests.memory) > parseMemoryBytes(limits.memory)) {
            issue(ctx, at("resources", "requests", "memory"), `${requests.memory} is above limits.memory ${limits.memory}`);
        }
    }
    if (limits.cpu !== undefined && checkQuantity(requests.cpu) === undefined && checkQuantity(limits.cpu) === undefined) {
        if (parseCpuMillis(requests.cpu) > parseCpuMillis(limits.cpu)) {
            issue(ctx, at("resources", "requests", "cpu"), `${requests.cpu} is above limits.cpu ${limits.cpu}`);
        }
    }
    if (checkQuantity(requests.cpu) === undefined && parseCpuMillis(requests.cpu) <= 0) {
        issue(ctx, at("resources", "requests", "cpu"), "must be above zero: the HPA and the capacity figures divide by it");
    }
    const local = service.rateLimit?.local;
    if (local !== undefined && local.type === "envoy" && local.delay !== undefined) {
        issue(ctx, at("rateLimit", "local", "delay"), "applies to the nginx limiter only (envoy's token bucket has no delay)");
    }
    if (local?.delay !== undefined && local.delay > local.burst) {
        issue(ctx, at("rateLimit", "local", "delay"), `${local.delay} is above burst ${local.burst}`);
    }
    if (local !== undefined && service.capacity !== undefined) {
        const problems = checkLocalLimit({
            localRps: local.requestsPerSecond,
            triggerRps: service.capacity.triggerRpsPerPod,
            performanceRps: service.capacity.podPerformanceRps,
        });
        problems.forEach((problem) => issue(ctx, at("rateLimit", "local", "requestsPerSecond"), problem));
    }
}
