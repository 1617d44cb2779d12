/** The `services` section: the BFF services and their routes (docs/design.md §1, §3, §5, §6, §9). */
import { z } from "zod";
import { checkLocalLimit, checkName, NAME_LIMITS } from "../shared";
import { serviceStaticAssetsSchema } from "./platform";
import { PLATFORM_APPS, RUNTIME_DEFAULTS, SERVICE_DEFAULTS, SERVICE_NAME_SUFFIXES } from "./defaults";
import { timeZone } from "./gateway";
import {
    checkUnique,
    cronSchedule,
    duration,
    imageRepository,
    kubeName,
    nonNegativeInt,
    percent,
    positiveInt,
    quantity,
    Report,
    isRecord,
    rawValues,
    resourcesSchema,
    unknownHost,
    version,
} from "./fields";

const LONGEST_SERVICE_SUFFIX = Math.max(...SERVICE_NAME_SUFFIXES.map((s) => s.length));

const hpaSchema = z
    .strictObject({
        minReplicas: positiveInt,
        maxReplicas: positiveInt,
        /** Average CPU utilization of the whole pod (istio-proxy included), in percent of its requests. */
        targetCpuUtilization: percent.optional(),
        /** An External metric, e.g. from the Datadog Cluster Agent (docs/design.md §8). */
        external: z
            .strictObject({
                /** Metric name as the external metrics API serves it, e.g. `datadogmetric@frontend:pc-web-rps`. */
                metricName: z.string().min(1),
                /** Labels selecting the metric series. */
                selector: z.record(z.string(), z.string()).optional(),
                /** Target per pod, a Kubernetes quantity ("20", "1500m"): desiredReplicas = ceil(current × value / target). */
                targetAverageValue: quantity,
            })
            .optional(),
        /** Seconds of lower load before the HPA removes pods. */
        scaleDownStabilizationSeconds: nonNegativeInt.default(SERVICE_DEFAULTS.scaleDownStabilizationSeconds),
    })
    .superRefine((hpa, ctx) => {
        if (hpa.minReplicas > hpa.maxReplicas) {
            ctx.addIssue({ code: "custom", path: ["minReplicas"], message: `${hpa.minReplicas} is above maxReplicas ${hpa.maxReplicas}` });
        }
        if (hpa.targetCpuUtilization === undefined && hpa.external === undefined) {
            ctx.addIssue({
                code: "custom",
                message: "has no target: set targetCpuUtilization (percent of the pod's requests) or external",
            });
        }
    });

const capacitySchema = z.strictObject({
    /** Requests per second one pod serves when its CPU reaches the HPA target (load test). */
    triggerRpsPerPod: z.number().positive(),
    /** Requests per second above which one pod stops answering correctly (load test). */
    podPerformanceRps: z.number().positive().optional(),
});

const localRateLimitSchema = z
    .strictObject({
        /** `nginx`: leaky bucket sidecar, burst queued (handbook's choice); `envoy`: token bucket in istio-proxy. */
        type: z.enum(["nginx", "envoy"]),
        /** Sustained requests per second per pod. */
        requestsPerSecond: positiveInt,
        /** Requests above the rate accepted at once (nginx queue length, envoy bucket size). */
        burst: nonNegativeInt,
        /** nginx only: requests of a burst forwarded without delay. */
        delay: nonNegativeInt.optional(),
    })
    .superRefine((local, ctx) => {
        if (local.type === "envoy" && local.delay !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["delay"],
                message: "applies to the nginx limiter only (envoy's token bucket has no delay)",
            });
        } else if (local.delay !== undefined && local.delay > local.burst) {
            ctx.addIssue({ code: "custom", path: ["delay"], message: `${local.delay} is above burst ${local.burst}` });
        }
    });

const routeSchema = z.strictObject({
    /** Name of a `hosts` entry. */
    host: kubeName("dns1123Label"),
    /** Path prefix served by this service on that host. */
    pathPrefix: z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, { error: "must be a URL path starting with '/'" }),
});

/** A request attribute to match: a header or a query parameter with an exact value. */
const requestMatchShape = z.strictObject({
    header: z
        .string()
        .regex(/^[A-Za-z0-9-]+$/, { error: "must be an HTTP header name" })
        .optional(),
    query: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+$/, { error: "must be a query parameter name" })
        .optional(),
    /** Exact value, e.g. `v2` for `preview: v2`. */
    value: z.string().min(1),
});

/** Exactly one of `header` and `query`. */
function oneMatchAttribute(match: { header?: string; query?: string }, ctx: z.RefinementCtx): void {
    if ((match.header === undefined) === (match.query === undefined)) {
        ctx.addIssue({ code: "custom", message: "set exactly one of header and query" });
    }
}

const requestMatchSchema = requestMatchShape.superRefine(oneMatchAttribute);

/**
 * Canary steps as Argo Rollouts runs them: one action per step, weights that only grow and end at
 * 100 (a rollout whose last weight is below 100 never completes).
 */
function checkCanarySteps(steps: { setWeight?: number; pause?: number }[], ctx: z.RefinementCtx): void {
    let last: { weight: number; index: number } | undefined;
    steps.forEach((step, i) => {
        const keys = Object.keys(step).filter((k) => step[k as keyof typeof step] !== undefined);
        if (keys.length !== 1) {
            ctx.addIssue({
                code: "custom",
                path: [i],
                message: `set exactly one of setWeight and pause (got ${keys.length === 0 ? "none" : keys.join(" and ")})`,
            });
        }
        const weight = step.setWeight;
        // Out-of-range weights are reported by the field itself, with their value.
        if (weight === undefined || !Number.isInteger(weight) || weight < 0 || weight > 100) {
            return;
        }
        if (last !== undefined && weight < last.weight) {
            ctx.addIssue({
                code: "custom",
                path: [i, "setWeight"],
                message: `${weight} is below the weight of steps[${last.index}], ${last.weight}: weights only grow`,
            });
        }
        last = { weight, index: i };
    });
    if (
        steps.every(
            (step) => step.setWeight === undefined || (Number.isInteger(step.setWeight) && step.setWeight >= 0 && step.setWeight <= 100),
        )
    ) {
        if (last === undefined) {
            ctx.addIssue({ code: "custom", message: "has no setWeight step: end with setWeight 100, or the rollout never completes" });
        } else if (last.weight !== 100) {
            ctx.addIssue({
                code: "custom",
                path: [last.index, "setWeight"],
                message: `${last.weight} is the last weight: the steps must end with setWeight 100, or the rollout never completes`,
            });
        }
    }
}

/** One canary step: exactly one of these keys. */
const canaryStepSchema = z.strictObject({
    /** Percent of traffic sent to the canary (0..100). */
    setWeight: z.number().int().min(0).max(100).optional(),
    /** Seconds to wait; 0 waits for a manual promotion. */
    pause: nonNegativeInt.optional(),
});

const analysisSchema = z
    .strictObject({
        /** Metrics source. */
        provider: z.enum(["datadog", "prometheus"]),
        /** Prometheus query endpoint (prometheus only). */
        prometheusAddress: z.url().optional(),
        /** Time between measurements. */
        interval: duration.default(SERVICE_DEFAULTS.analysis.interval),
        /** Measurements per analysis step. */
        count: positiveInt.default(SERVICE_DEFAULTS.analysis.count),
        /** Failed measurements tolerated before the rollout aborts. */
        failureLimit: nonNegativeInt.default(SERVICE_DEFAULTS.analysis.failureLimit),
        /** Highest ratio of 5xx responses of the canary version (0..1). */
        maxErrorRate: z.number().min(0).max(1).default(SERVICE_DEFAULTS.analysis.maxErrorRate),
        /** Highest p99 latency of the canary version, in milliseconds. */
        maxLatencyP99Ms: positiveInt.default(SERVICE_DEFAULTS.analysis.maxLatencyP99Ms),
    })
    .superRefine((analysis, ctx) => {
        if (analysis.provider === "prometheus" && analysis.prometheusAddress === undefined) {
            ctx.addIssue({ code: "custom", path: ["prometheusAddress"], message: 'is required with provider "prometheus"' });
        }
    });

const canarySchema = z.strictObject({
    /** Steps; a traffic-matching `setCanaryScale` is added at the start and after every setWeight below 100. */
    steps: z
        .array(canaryStepSchema)
        .min(1)
        .default(SERVICE_DEFAULTS.canarySteps.map((s) => ({ ...s })))
        .superRefine(checkCanarySteps),
    /** Progressive delivery: an analysis runs after every pause that follows a weight change. */
    analysis: analysisSchema.optional(),
});

const circuitBreakerSchema = z.strictObject({
    /** TCP connections to all pods of the service, per calling proxy. */
    maxConnections: positiveInt.default(SERVICE_DEFAULTS.circuitBreaker.maxConnections),
    /** Requests queued waiting for a connection. */
    maxPendingRequests: positiveInt.default(SERVICE_DEFAULTS.circuitBreaker.maxPendingRequests),
    /** Requests in flight to all pods of the service. */
    maxRequests: positiveInt.default(SERVICE_DEFAULTS.circuitBreaker.maxRequests),
    /** Consecutive 5xx answers that eject a pod. */
    consecutive5xxErrors: positiveInt.default(SERVICE_DEFAULTS.circuitBreaker.consecutive5xxErrors),
    interval: duration.default(SERVICE_DEFAULTS.circuitBreaker.interval),
    baseEjectionTime: duration.default(SERVICE_DEFAULTS.circuitBreaker.baseEjectionTime),
    maxEjectionPercent: percent.default(SERVICE_DEFAULTS.circuitBreaker.maxEjectionPercent),
});

const jobSchema = z.strictObject({
    /** Job name; the object is named `<service>-<name>`. */
    name: kubeName("dns1123Label"),
    /** Cron schedule for a CronJob; without it, a Job that runs before every sync (Argo CD PreSync hook). */
    schedule: cronSchedule.optional(),
    /**
     * Time zone of `schedule` (CronJob `spec.timeZone`, stable since Kubernetes 1.27). Default: the
     * stack's `timeZone`. Without it a schedule would be read in the kube-controller-manager's time
     * zone: UTC on EKS.
     */
    timeZone: timeZone.optional(),
    /** Command and arguments run in the service's image. */
    command: z.array(z.string().min(1)).min(1),
    resources: resourcesSchema.optional(),
    /** Seconds after which a run is killed. */
    activeDeadlineSeconds: positiveInt.default(SERVICE_DEFAULTS.job.activeDeadlineSeconds),
    backoffLimit: nonNegativeInt.default(SERVICE_DEFAULTS.job.backoffLimit),
});

const migrationSchema = z.strictObject({
    /** Host name of the legacy upstream (an Istio ServiceEntry is created for it). */
    legacyHost: kubeName("dns1123Subdomain"),
    legacyPort: z.number().int().min(1).max(65535).default(80),
    /** Percent of this service's traffic still sent to the legacy upstream; 100 rolls back at once. */
    legacyWeight: z.number().int().min(0).max(100),
    /** Requests with this header or query value always reach the new pods (test before moving weight). */
    override: requestMatchSchema.optional(),
});

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const serviceShape = z.strictObject({
    /** Service name; stable, used in every derived object name. */
    name: kubeName("dns1123Label", NAME_LIMITS.dns1123Label - LONGEST_SERVICE_SUFFIX),
    /** Another service whose settings this one starts from (one codebase, two deploy units). */
    extends: kubeName("dns1123Label").optional(),
    /** Runtime template: port, probes, environment defaults. */
    runtime: z.enum(Object.keys(RUNTIME_DEFAULTS) as [keyof typeof RUNTIME_DEFAULTS]),
    /** Image repository without tag. */
    image: imageRepository,
    /** Release version: the image tag and the `version` labels. */
    version,
    /** `canary` (Argo Rollouts, docs/design.md §3) or `rollingUpdate` (a plain Deployment). */
    strategy: z.enum(["canary", "rollingUpdate"]).default("canary"),
    canary: canarySchema.optional(),
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
    /** Requests matching a header or query value go to another service first (`preview: v2`). */
    previews: z.array(requestMatchShape.extend({ service: kubeName("dns1123Label") }).superRefine(oneMatchAttribute)).default([]),
    /** Copy of the traffic sent to another service, answers discarded (docs/design.md §9). */
    mirror: z.strictObject({ service: kubeName("dns1123Label"), percentage: z.number().min(0).max(100) }).optional(),
    /** Request timeout at the gateway. */
    timeout: duration.default(SERVICE_DEFAULTS.timeout),
    /** Retries of failed connections (never of answered requests). */
    retries: z.strictObject({ attempts: nonNegativeInt, perTryTimeout: duration }).default({ ...SERVICE_DEFAULTS.retries }),
    circuitBreaker: circuitBreakerSchema.default(() => circuitBreakerSchema.parse({})),
    /** Traffic switch from a legacy upstream (docs/design.md §9 phases 2 and 3). */
    migration: migrationSchema.optional(),
    jobs: z.array(jobSchema).default([]),
    /** Static files of each release, uploaded to the stack's bucket by a Job per version. Default: none. */
    staticAssets: serviceStaticAssetsSchema.optional(),
    /** Argo CD sync wave of this service's Application: lower syncs first. */
    syncWave: z.number().int().default(0),
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

/** A service entry: its fields, and the rules across them (run whenever every field has its type). */
export const serviceSchema = serviceShape.superRefine((service, ctx) =>
    checkService((path, message) => ctx.addIssue({ code: "custom", path, message }), service),
);

export type ServiceConfig = z.output<typeof serviceShape>;
export type CanaryStep = z.output<typeof canaryStepSchema>;
export type RequestMatch = z.output<typeof requestMatchSchema>;

/** A service's capacity without scale-out (docs/design.md §5), from its load-test figures. */
export interface ServiceCapacity {
    /** Pods at the HPA maximum, or the fixed replica count. */
    pods: number;
    triggerRpsPerPod: number;
    /** Requests per second served before the autoscaler has to add pods beyond `pods`. */
    maxRps: number;
}

/**
 * Handbook ch. 15.3 for one service: (total requests.cpu at its maximum / per-pod requests.cpu) ×
 * HPA trigger rps. The service's budget is its pods at the HPA maximum, so the quotient is that pod
 * count whatever the per-pod request. `undefined` without `capacity` figures (unknown, not zero).
 */
export function capacityWithoutScaleOut(service: ServiceConfig): ServiceCapacity | undefined {
    if (service.capacity === undefined) {
        return undefined;
    }
    const pods = service.hpa?.maxReplicas ?? service.replicas ?? 1;
    const triggerRpsPerPod = service.capacity.triggerRpsPerPod;
    return { pods, triggerRpsPerPod, maxRps: pods * triggerRpsPerPod };
}

/** The canary steps of a service: its own, or the handbook's default. */
export function canaryStepsOf(service: ServiceConfig): CanaryStep[] {
    return service.canary?.steps ?? SERVICE_DEFAULTS.canarySteps.map((step) => ({ ...step }));
}

/** Keys a service does not inherit through `extends`: what makes it a separate deploy unit. */
const NOT_INHERITED = new Set(["name", "extends", "routes", "previews", "mirror", "migration", "jobs", "staticAssets"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) {
        merged[key] = isPlainObject(value) && isPlainObject(base[key]) ? deepMerge(base[key], value) : value;
    }
    return merged;
}

/**
 * Resolves `extends` on the raw services list before validation: a service starts from the
 * settings of the one it names (objects merged, lists replaced), except its identity and routing.
 * Problems are reported at `services[i].extends`.
 */
export function resolveServiceExtends(services: unknown, report: Report): unknown {
    if (!Array.isArray(services)) {
        return services;
    }
    const byName = new Map<string, Record<string, unknown>>();
    services.forEach((s) => isPlainObject(s) && typeof s.name === "string" && byName.set(s.name, s));
    const resolving = new Set<string>();
    const resolve = (service: Record<string, unknown>, index: number): Record<string, unknown> => {
        const baseName = service.extends;
        if (typeof baseName !== "string") {
            return service;
        }
        const base = byName.get(baseName);
        if (base === undefined) {
            report(["services", index, "extends"], `"${baseName}" is not the name of a service`);
            return service;
        }
        if (resolving.has(baseName) || baseName === service.name) {
            report(["services", index, "extends"], `"${baseName}" extends this service back: the chain is a cycle`);
            return service;
        }
        resolving.add(String(service.name));
        const resolvedBase = resolve(base, services.indexOf(base));
        resolving.delete(String(service.name));
        const inherited = Object.fromEntries(Object.entries(resolvedBase).filter(([key]) => !NOT_INHERITED.has(key)));
        return deepMerge(inherited, service);
    };
    return services.map((service, index) => (isPlainObject(service) ? resolve(service, index) : service));
}

/**
 * Ports a service's container may not listen on: istio-proxy's own (15000-15090: admin 15000,
 * outbound 15001, inbound 15006, HBONE 15008/15009, merged metrics 15020, health 15021, DNS 15053,
 * Envoy metrics 15090; https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio)
 * and the nginx limiter sidecar's listen port, which shares the pod's network namespace.
 */
export function reservedPortProblem(port: number, withLimiter: boolean): string | undefined {
    if (port >= 15000 && port <= 15090) {
        return `${port} is in 15000-15090, the ports istio-proxy listens on in every pod (admin, inbound, outbound, health, metrics)`;
    }
    if (withLimiter && port === SERVICE_DEFAULTS.localRateLimiter.port) {
        return `${port} is the listen port of the nginx rate-limiter sidecar (rateLimit.local.type nginx): pick another port`;
    }
    return undefined;
}

/**
 * Rules across services: unique names, known hosts and services, one owner per route. `services`
 * holds the entries that parsed, at their index (undefined where an entry did not parse);
 * `rawServices` the entries as written, so that names are known even for an entry with problems.
 * `hostNames` is undefined when the hosts section itself is unusable (its problem is said there).
 */
export function checkServices(
    services: readonly (ServiceConfig | undefined)[],
    rawServices: unknown,
    hostNames: Set<string> | undefined,
    report: Report,
): void {
    checkUnique(report, rawServices, "name", ["services"]);
    const serviceNames = rawValues(rawServices, "name");
    // Route owners from the entries as written: a route taken by an entry with other problems is still taken.
    const routeOwners = new Map<string, string>();
    // Stryker disable next-line ConditionalExpression: equivalent, checkAcrossSections calls this only when the services list parsed, so its raw entries are a list.
    if (Array.isArray(rawServices)) {
        rawServices.forEach((entry, s) => {
            const routes = isRecord(entry) && Array.isArray(entry.routes) ? entry.routes : [];
            routes.forEach((route: unknown, r: number) => {
                if (!isRecord(route) || typeof route.host !== "string" || typeof route.pathPrefix !== "string") {
                    return;
                }
                const key = `${route.host} ${route.pathPrefix}`;
                const owner = routeOwners.get(key);
                if (owner !== undefined) {
                    report(
                        ["services", s, "routes", r, "pathPrefix"],
                        `${route.pathPrefix} on host ${route.host} is already routed to ${owner}`,
                    );
                } else {
                    routeOwners.set(key, typeof entry.name === "string" ? entry.name : `services[${s}]`);
                }
            });
        });
    }
    const reserved = new Set<string>(Object.values(PLATFORM_APPS));
    services.forEach((service, s) => {
        if (service === undefined) {
            return;
        }
        if (reserved.has(service.name)) {
            report(
                ["services", s, "name"],
                `"${service.name}" is reserved for the platform's own app directory (reserved: ${[...reserved].join(", ")})`,
            );
        }
        service.routes.forEach((route, r) => {
            if (hostNames !== undefined && !hostNames.has(route.host)) {
                report(["services", s, "routes", r, "host"], unknownHost(route.host, hostNames));
            }
        });
        const otherService = (target: string, path: (string | number)[]) => {
            if (target === service.name) {
                report(path, `"${target}" is this service itself`);
            } else if (!serviceNames.has(target)) {
                report(path, `"${target}" is not the name of a service (services: ${[...serviceNames].join(", ")})`);
            }
        };
        service.previews.forEach((preview, p) => otherService(preview.service, ["services", s, "previews", p, "service"]));
        if (service.mirror !== undefined) {
            otherService(service.mirror.service, ["services", s, "mirror", "service"]);
        }
    });
}

/** Rules across the fields of one service; paths from the service entry. */
function checkService(report: Report, service: ServiceConfig): void {
    const at = (...rest: (string | number)[]) => rest;
    if (service.hpa === undefined && service.replicas === undefined) {
        report(at("replicas"), "is required when no hpa is set");
    }
    if (service.hpa !== undefined && service.replicas !== undefined) {
        report(
            at("replicas"),
            `${service.replicas} conflicts with hpa: the autoscaler owns the replica count (set hpa.minReplicas instead)`,
        );
    }
    if (service.strategy !== "canary" && service.canary !== undefined) {
        report(at("canary"), `applies to strategy "canary" only (this service's strategy is "${service.strategy}")`);
    }
    service.jobs.forEach((job, j) => {
        if (checkName("dns1123Label", job.name) !== undefined) {
            return; // the name itself is reported by its field
        }
        if (job.timeZone !== undefined && job.schedule === undefined) {
            report(at("jobs", j, "timeZone"), "applies to a scheduled job (a CronJob) only: set schedule, or remove timeZone");
        }
        const objectName = `${service.name}-${job.name}`;
        const problem = checkName(job.schedule === undefined ? "dns1123Label" : "cronJob", objectName);
        if (problem !== undefined) {
            report(at("jobs", j, "name"), `the ${job.schedule === undefined ? "Job" : "CronJob"} name ${problem}`);
        }
    });
    checkUnique(report, service.jobs, "name", at("jobs"));

    const local = service.rateLimit?.local;
    if (local !== undefined && service.capacity !== undefined) {
        const problems = checkLocalLimit({
            localRps: local.requestsPerSecond,
            triggerRps: service.capacity.triggerRpsPerPod,
            performanceRps: service.capacity.podPerformanceRps,
        });
        problems.forEach((problem) => report(at("rateLimit", "local", "requestsPerSecond"), problem));
    }
    // A runtime's default port is never a reserved one (tests/config-rules.test.ts holds the table to it).
    const portProblem = service.port === undefined ? undefined : reservedPortProblem(service.port, local?.type === "nginx");
    if (portProblem !== undefined) {
        report(at("port"), portProblem);
    }
    const matches: { m: RequestMatch; path: (string | number)[]; label: string }[] = service.previews.map((p, i) => ({
        m: p,
        path: at("previews", i),
        label: `previews[${i}]`,
    }));
    if (service.migration?.override !== undefined) {
        matches.push({ m: service.migration.override, path: at("migration", "override"), label: "migration.override" });
    }
    const seenMatches = new Map<string, string>();
    for (const { m, path, label } of matches) {
        if ((m.header === undefined) === (m.query === undefined)) {
            continue; // reported by the entry itself
        }
        const key = `${m.header !== undefined ? `header ${m.header}` : `query ${m.query}`}=${m.value}`;
        const first = seenMatches.get(key);
        if (first !== undefined) {
            report(path, `matches the same requests (${key}) as ${first}: the second route would never be used`);
        } else {
            seenMatches.set(key, label);
        }
    }
    if (service.migration !== undefined && service.strategy === "canary") {
        report(
            at("migration"),
            'needs strategy "rollingUpdate": Argo Rollouts owns the weights of the primary route during a canary, so a legacy share cannot sit beside them',
        );
    }
    if (service.migration !== undefined && service.routes.length === 0) {
        report(at("migration"), "needs routes: only traffic entering through the gateway can be switched");
    }
}
