/** The `services` section: the BFF services and their routes (SYSTEM.md §1, §3, §5, §6). */
import { z } from "zod";
import { checkLocalLimit, checkQuantity, NAME_LIMITS, parseCpuMillis, parseMemoryBytes } from "../shared";
import { DEFAULTS, RUNTIME_DEFAULTS, SERVICE_NAME_SUFFIXES } from "./defaults";
import { checkUnique, imageRepository, kubeName, nonNegativeInt, percent, positiveInt, Report, resourcesSchema, version } from "./fields";

const LONGEST_SERVICE_SUFFIX = Math.max(...SERVICE_NAME_SUFFIXES.map((s) => s.length));

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

export const serviceSchema = z.strictObject({
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

export type ServiceConfig = z.output<typeof serviceSchema>;

/** Rules within each service, and across services: unique names, known hosts, one owner per route. */
export function checkServices(services: ServiceConfig[], hostNames: Set<string>, report: Report): void {
    checkUnique(report, services, "name", ["services"]);
    const known = `known hosts: ${[...hostNames].join(", ")}`;
    const routeOwners = new Map<string, string>();
    services.forEach((service, s) => {
        checkService(report, service, s);
        service.routes.forEach((route, r) => {
            if (!hostNames.has(route.host)) {
                report(["services", s, "routes", r, "host"], `"${route.host}" is not a name in hosts (${known})`);
            }
            const key = `${route.host} ${route.pathPrefix}`;
            const owner = routeOwners.get(key);
            if (owner !== undefined) {
                report(
                    ["services", s, "routes", r, "pathPrefix"],
                    `${route.pathPrefix} on host ${route.host} is already routed to ${owner}`,
                );
            } else {
                routeOwners.set(key, service.name);
            }
        });
    });
}

function checkService(report: Report, service: ServiceConfig, s: number): void {
    const at = (...rest: (string | number)[]) => ["services", s, ...rest];
    if (service.hpa === undefined && service.replicas === undefined) {
        report(at("replicas"), "is required when no hpa is set");
    }
    if (service.hpa !== undefined) {
        const { minReplicas, maxReplicas } = service.hpa;
        if (minReplicas > maxReplicas) {
            report(at("hpa", "minReplicas"), `${minReplicas} is above maxReplicas ${maxReplicas}`);
        }
        if (service.replicas !== undefined) {
            report(at("replicas"), "conflicts with hpa: the autoscaler owns the replica count (set hpa.minReplicas instead)");
        }
    }
    const { requests, limits } = service.resources;
    if (checkQuantity(requests.memory) === undefined && checkQuantity(limits.memory) === undefined) {
        if (parseMemoryBytes(requests.memory) > parseMemoryBytes(limits.memory)) {
            report(at("resources", "requests", "memory"), `${requests.memory} is above limits.memory ${limits.memory}`);
        }
    }
    if (limits.cpu !== undefined && checkQuantity(requests.cpu) === undefined && checkQuantity(limits.cpu) === undefined) {
        if (parseCpuMillis(requests.cpu) > parseCpuMillis(limits.cpu)) {
            report(at("resources", "requests", "cpu"), `${requests.cpu} is above limits.cpu ${limits.cpu}`);
        }
    }
    if (checkQuantity(requests.cpu) === undefined && parseCpuMillis(requests.cpu) <= 0) {
        report(at("resources", "requests", "cpu"), "must be above zero: the HPA and the capacity figures divide by it");
    }
    const local = service.rateLimit?.local;
    if (local !== undefined && local.type === "envoy" && local.delay !== undefined) {
        report(at("rateLimit", "local", "delay"), "applies to the nginx limiter only (envoy's token bucket has no delay)");
    }
    if (local?.delay !== undefined && local.delay > local.burst) {
        report(at("rateLimit", "local", "delay"), `${local.delay} is above burst ${local.burst}`);
    }
    if (local !== undefined && service.capacity !== undefined) {
        const problems = checkLocalLimit({
            localRps: local.requestsPerSecond,
            triggerRps: service.capacity.triggerRpsPerPod,
            performanceRps: service.capacity.podPerformanceRps,
        });
        problems.forEach((problem) => report(at("rateLimit", "local", "requestsPerSecond"), problem));
    }
}
