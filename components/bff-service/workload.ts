/**
 * The workload of a BFF service as plain data: ConfigMap, pod template, Rollout or Deployment,
 * HPA, PodDisruptionBudget, Jobs and CronJobs (docs/design.md §1, §3, §6).
 */
import { StaticUploadTarget } from "./static-upload";
import {
    canaryStepsOf,
    DEFAULTS,
    ISTIO_PROXY_RESOURCES,
    ResourcesConfig,
    RUNTIME_DEFAULTS,
    SERVICE_DEFAULTS,
    ServiceConfig,
    UIDS,
} from "../config";
import {
    assertName,
    childName,
    CONTENT_HASH_ANNOTATION,
    contentHash,
    istioProxyAnnotations,
    KubeObject,
    Labels,
    restrictedContainer,
    restrictedPod,
    softSpread,
    sortKeys,
} from "../shared";
import { limiterContainer, limiterVolumes } from "./local-rate-limit";
import { ServiceNames } from "./names";

/** Name of the application container in every BFF pod. */
export const APP_CONTAINER = "app";

/** Where a service is deployed and what it belongs to. */
export interface ServiceContext {
    /** Environment name; becomes RELEASE_ENV (docs/design.md §6). */
    environment: string;
    namespace: string;
    /** `app.kubernetes.io/part-of`. Default: `frontend`. */
    partOf?: string;
    /** Every service of the stack: previews and mirrors point at them. Default: none. */
    services?: ServiceConfig[];
    /** The stack's bucket for static files; services with `staticAssets` get an upload Job per release. Default: none. */
    staticUpload?: StaticUploadTarget;
    /** The stack's time zone, of CronJob schedules without their own. Default: `DEFAULTS.timeZone`. */
    timeZone?: string;
}

export function portOf(service: ServiceConfig): number {
    return service.port ?? RUNTIME_DEFAULTS[service.runtime].port;
}

/** Environment of the container: the runtime's defaults, RELEASE_ENV, then the service's own variables. */
export function serviceEnvironment(service: ServiceConfig, ctx: ServiceContext): Record<string, string> {
    return sortKeys({ ...RUNTIME_DEFAULTS[service.runtime].env, RELEASE_ENV: ctx.environment, ...service.env });
}

function resources(config: ResourcesConfig) {
    return { requests: { ...config.requests }, limits: sortKeys({ ...config.limits }) as Record<string, string> };
}

function appContainer(service: ServiceConfig, names: ServiceNames) {
    const runtime = RUNTIME_DEFAULTS[service.runtime];
    const healthPath = service.healthPath ?? runtime.healthPath;
    const httpGet = { path: healthPath, port: "http" };
    return {
        name: APP_CONTAINER,
        image: `${service.image}:${service.version}`,
        ports: [{ name: "http", containerPort: portOf(service), protocol: "TCP" }],
        envFrom: [{ configMapRef: { name: names.configMap } }],
        env: [
            // Worker count follows the CPU request (docs/design.md §6): 1000 = one core.
            {
                name: "CPU_REQUEST_MILLICORES",
                valueFrom: { resourceFieldRef: { containerName: APP_CONTAINER, resource: "requests.cpu", divisor: "1m" } },
            },
            { name: "PORT", value: String(portOf(service)) },
        ],
        resources: resources(service.resources),
        // A cold start may take the runtime's startup time before liveness applies.
        startupProbe: { httpGet, periodSeconds: 5, failureThreshold: Math.ceil(runtime.startupSeconds / 5), timeoutSeconds: 2 },
        // Traffic stops only when the pod is ready; a hung process is restarted after a minute.
        readinessProbe: { httpGet, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 2 },
        livenessProbe: { httpGet, periodSeconds: 10, failureThreshold: 6, timeoutSeconds: 2 },
        // Endpoints are removed asynchronously: keep serving for a few seconds before SIGTERM (docs/design.md §6).
        lifecycle: { preStop: { exec: { command: ["sh", "-c", `sleep ${DEFAULTS.preStopSleepSeconds}`] } } },
        securityContext: restrictedContainer(),
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    };
}

/**
 * Pod template shared by the Rollout or Deployment. `configs` are the data of every ConfigMap the
 * pod mounts, by name: their hash rolls the pods when any of them changes.
 */
export function podTemplate(
    service: ServiceConfig,
    ctx: ServiceContext,
    names: ServiceNames,
    labels: Labels,
    configs: Record<string, unknown>,
) {
    const selector = names.selector;
    const limiter = service.rateLimit?.local?.type === "nginx";
    return {
        metadata: {
            labels: sortKeys({
                ...labels,
                // Datadog unified service tagging (env, service, version tags on every metric and log).
                "tags.datadoghq.com/env": ctx.environment,
                "tags.datadoghq.com/service": service.name,
                "tags.datadoghq.com/version": service.version,
            }),
            annotations: sortKeys({
                [CONTENT_HASH_ANNOTATION]: contentHash(configs),
                ...istioProxyAnnotations(ISTIO_PROXY_RESOURCES),
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(portOf(service)),
                "prometheus.io/path": "/metrics",
                [`ad.datadoghq.com/${APP_CONTAINER}.logs`]: JSON.stringify([
                    { source: RUNTIME_DEFAULTS[service.runtime].logSource, service: service.name },
                ]),
            }),
        },
        spec: {
            containers: [appContainer(service, names), ...(limiter ? [limiterContainer()] : [])],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }, ...(limiter ? limiterVolumes(names) : [])],
            nodeSelector: { "node-role": "worker" },
            // Soft spread: replicas prefer different nodes and zones, but a small cluster still schedules them.
            ...softSpread(selector),
            terminationGracePeriodSeconds: DEFAULTS.terminationGracePeriodSeconds,
            securityContext: restrictedPod({ uid: UIDS.app, fsGroup: UIDS.app }),
            automountServiceAccountToken: false,
        },
    };
}

/**
 * Argo Rollouts steps (docs/design.md §3): canary pods follow the traffic weight
 * (`setCanaryScale.matchTrafficWeight`) from the start and after every weight below 100; with an
 * analysis, every pause that follows a weight change is followed by an analysis step.
 */
export function rolloutSteps(service: ServiceConfig, names: ServiceNames): Record<string, unknown>[] {
    const scale = { setCanaryScale: { matchTrafficWeight: true } };
    const analysis = service.canary?.analysis;
    const steps: Record<string, unknown>[] = [scale];
    let weightChanged = false;
    for (const step of canaryStepsOf(service)) {
        if (step.setWeight !== undefined) {
            steps.push({ setWeight: step.setWeight });
            if (step.setWeight < 100) {
                steps.push(scale);
            }
            weightChanged = step.setWeight > 0;
        } else if (step.pause !== undefined) {
            steps.push({ pause: step.pause === 0 ? {} : { duration: step.pause } });
            if (analysis !== undefined && weightChanged) {
                steps.push({
                    analysis: {
                        templates: [{ templateName: names.analysisTemplate }],
                        args: [
                            { name: "service-name", value: service.name },
                            { name: "canary-version", value: service.version },
                        ],
                    },
                });
                weightChanged = false;
            }
        }
    }
    return steps;
}

/**
 * The Rollout (strategy canary) or Deployment (strategy rollingUpdate) of a service. `virtualServices`:
 * the routes a canary's Rollout moves (`rolloutVirtualServices` in traffic.ts).
 */
export function workload(
    service: ServiceConfig,
    ctx: ServiceContext,
    names: ServiceNames,
    labels: Labels,
    template: object,
    virtualServices: { name: string; routes: string[] }[],
): KubeObject {
    const metadata = { name: names.workload, namespace: ctx.namespace, labels };
    // With an HPA the autoscaler owns the count; setting it here would fight it on every apply.
    const replicas = service.hpa === undefined ? { replicas: service.replicas } : {};
    const common = { ...replicas, selector: { matchLabels: names.selector }, revisionHistoryLimit: 5, template };
    if (service.strategy === "rollingUpdate") {
        return {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata,
            spec: { ...common, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } } },
        };
    }
    return {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        metadata,
        spec: {
            ...common,
            strategy: {
                canary: {
                    canaryService: names.canaryService,
                    stableService: names.stableService,
                    maxSurge: SERVICE_DEFAULTS.canaryMaxSurge,
                    maxUnavailable: 0,
                    // Stable pods scale down as traffic leaves them (Handbook ch. 7.3.3).
                    dynamicStableScale: true,
                    // Its own primary route and the preview routes of the services previewing it: all
                    // split between its stable and canary Services, moved together. Argo Rollouts:
                    // docs/getting-started/istio/index.md ("trafficRouting.istio.virtualServices").
                    trafficRouting: { istio: { virtualServices } },
                    steps: rolloutSteps(service, names),
                },
            },
        },
    };
}

/** HorizontalPodAutoscaler (autoscaling/v2) on the Rollout or Deployment. */
export function horizontalPodAutoscaler(
    service: ServiceConfig,
    ctx: ServiceContext,
    names: ServiceNames,
    labels: Labels,
    target: KubeObject,
): KubeObject | undefined {
    const hpa = service.hpa;
    if (hpa === undefined) {
        return undefined;
    }
    const metrics: object[] = [];
    if (hpa.targetCpuUtilization !== undefined) {
        // Utilization is of the pod's summed requests, istio-proxy included (docs/design.md §5).
        metrics.push({
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: hpa.targetCpuUtilization } },
        });
    }
    if (hpa.external !== undefined) {
        metrics.push({
            type: "External",
            external: {
                metric: {
                    name: hpa.external.metricName,
                    ...(hpa.external.selector === undefined ? {} : { selector: { matchLabels: hpa.external.selector } }),
                },
                target: { type: "AverageValue", averageValue: hpa.external.targetAverageValue },
            },
        });
    }
    return {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: names.workload, namespace: ctx.namespace, labels },
        spec: {
            scaleTargetRef: { apiVersion: target.apiVersion, kind: target.kind, name: target.metadata.name },
            minReplicas: hpa.minReplicas,
            maxReplicas: hpa.maxReplicas,
            metrics,
            behavior: { scaleDown: { stabilizationWindowSeconds: hpa.scaleDownStabilizationSeconds } },
        },
    };
}

/**
 * Jobs and CronJobs of a service, in its image, without the istio sidecar (a Job whose sidecar
 * keeps running never completes, docs/design.md §6). A Job without schedule is an Argo CD PreSync hook,
 * deleted before it is created again, with no TTL (a TTL-deleted Job makes auto-sync recreate it).
 */
export function jobs(service: ServiceConfig, ctx: ServiceContext, labels: Labels): KubeObject[] {
    return service.jobs.map((job) => {
        const jobLabels = sortKeys({ ...labels, "app.kubernetes.io/component": "job" });
        const podTemplate = {
            metadata: { labels: sortKeys({ ...jobLabels, "sidecar.istio.io/inject": "false" }) },
            spec: {
                restartPolicy: "Never",
                containers: [
                    {
                        name: "job",
                        image: `${service.image}:${service.version}`,
                        command: job.command,
                        // Inlined, not the `<app>-env` ConfigMap: a PreSync hook runs before the sync
                        // applies that ConfigMap, so it would read nothing on the first sync and the
                        // previous values on every later one (Argo CD: "PreSync: executes prior to the
                        // application of the manifests", docs/user-guide/sync-waves.md).
                        env: Object.entries(serviceEnvironment(service, ctx)).map(([name, value]) => ({ name, value })),
                        resources: resources(job.resources ?? service.resources),
                        securityContext: restrictedContainer(),
                        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                    },
                ],
                volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
                nodeSelector: { "node-role": "worker" },
                securityContext: restrictedPod({ uid: UIDS.app, fsGroup: UIDS.app }),
                automountServiceAccountToken: false,
            },
        };
        const jobSpec = { backoffLimit: job.backoffLimit, activeDeadlineSeconds: job.activeDeadlineSeconds, template: podTemplate };
        if (job.schedule === undefined) {
            return {
                apiVersion: "batch/v1",
                kind: "Job",
                metadata: {
                    name: childName(`Job ${job.name} of ${service.name}`, service.name, job.name),
                    namespace: ctx.namespace,
                    labels: jobLabels,
                    annotations: { "argocd.argoproj.io/hook": "PreSync", "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation" },
                },
                spec: jobSpec,
            };
        }
        return {
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: {
                name: assertName("cronJob", `${service.name}-${job.name}`, `CronJob ${job.name} of ${service.name}`),
                namespace: ctx.namespace,
                labels: jobLabels,
            },
            spec: {
                schedule: job.schedule,
                // Without it the schedule is read in kube-controller-manager's time zone (UTC on EKS);
                // `timeZone` is stable since Kubernetes 1.27 (KEP 3140).
                timeZone: job.timeZone ?? ctx.timeZone ?? DEFAULTS.timeZone,
                // A run still going when the next is due is left alone, not doubled.
                concurrencyPolicy: "Forbid",
                startingDeadlineSeconds: 300,
                successfulJobsHistoryLimit: 3,
                failedJobsHistoryLimit: 3,
                jobTemplate: { metadata: { labels: jobLabels }, spec: jobSpec },
            },
        };
    });
}
