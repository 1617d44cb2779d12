/**
 * Plain functions that turn one service entry of the stack config into Kubernetes objects.
 * They build data only (no resources), so tests can assert on them directly and the component
 * stays a thin registration layer.
 */
import type * as k8s from "@pulumi/kubernetes";
import { DEFAULTS, ISTIO_PROXY_RESOURCES, RUNTIME_DEFAULTS, ServiceConfig } from "../config";
import { childName, CONTENT_HASH_ANNOTATION, contentHash, Labels, recommendedLabels, selectorLabels, sortKeys } from "../shared";

type ObjectMeta = k8s.types.input.meta.v1.ObjectMeta;

/** Name of the application container in every BFF pod. */
export const APP_CONTAINER = "app";

/** Where a service is deployed and what it belongs to. */
export interface ServiceContext {
    /** Environment name; becomes RELEASE_ENV (SYSTEM.md §6). */
    environment: string;
    namespace: string;
    /** `app.kubernetes.io/part-of`. Default: `frontend`. */
    partOf?: string;
}

/** Every object of one service, as plain data ready to register. */
export interface RenderedService {
    labels: Labels;
    configMap: { metadata: ObjectMeta; data: Record<string, string> };
    deployment: { metadata: ObjectMeta; spec: k8s.types.input.apps.v1.DeploymentSpec };
    service: { metadata: ObjectMeta; spec: k8s.types.input.core.v1.ServiceSpec };
    podDisruptionBudget: { metadata: ObjectMeta; spec: k8s.types.input.policy.v1.PodDisruptionBudgetSpec };
    horizontalPodAutoscaler?: { metadata: ObjectMeta; spec: k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec };
}

/** Environment of the container: RELEASE_ENV first, then the service's own variables, sorted. */
export function serviceEnvironment(service: ServiceConfig, ctx: ServiceContext): Record<string, string> {
    return sortKeys({ RELEASE_ENV: ctx.environment, ...service.env });
}

/** Istio sidecar sizing through pod annotations: the proxy's requests count in the HPA and the scheduler. */
export function istioProxyAnnotations(): Record<string, string> {
    return {
        "sidecar.istio.io/proxyCPU": ISTIO_PROXY_RESOURCES.requests.cpu,
        "sidecar.istio.io/proxyCPULimit": ISTIO_PROXY_RESOURCES.limits.cpu,
        "sidecar.istio.io/proxyMemory": ISTIO_PROXY_RESOURCES.requests.memory,
        "sidecar.istio.io/proxyMemoryLimit": ISTIO_PROXY_RESOURCES.limits.memory,
    };
}

function container(service: ServiceConfig, configMapName: string): k8s.types.input.core.v1.Container {
    const runtime = RUNTIME_DEFAULTS[service.runtime];
    const port = service.port ?? runtime.port;
    const healthPath = service.healthPath ?? runtime.healthPath;
    const probe = (periodSeconds: number, failureThreshold: number) => ({
        httpGet: { path: healthPath, port: "http" },
        periodSeconds,
        failureThreshold,
        timeoutSeconds: 2,
    });
    return {
        name: APP_CONTAINER,
        image: `${service.image}:${service.version}`,
        ports: [{ name: "http", containerPort: port, protocol: "TCP" }],
        envFrom: [{ configMapRef: { name: configMapName } }],
        env: [
            // Worker count follows the CPU request (SYSTEM.md §6): 1000 = one core.
            {
                name: "CPU_REQUEST_MILLICORES",
                valueFrom: { resourceFieldRef: { containerName: APP_CONTAINER, resource: "requests.cpu", divisor: "1m" } },
            },
            { name: "PORT", value: String(port) },
        ],
        resources: {
            requests: { ...service.resources.requests },
            limits: sortKeys({ ...service.resources.limits }) as Record<string, string>,
        },
        // Traffic stops only when the pod is ready; a hung process is restarted after a minute.
        readinessProbe: probe(5, 3),
        livenessProbe: { ...probe(10, 6), initialDelaySeconds: 10 },
        // Endpoints are removed asynchronously: keep serving for a few seconds before SIGTERM (SYSTEM.md §6).
        lifecycle: { preStop: { exec: { command: ["sh", "-c", `sleep ${DEFAULTS.preStopSleepSeconds}`] } } },
        securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
        },
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    };
}

/** Renders every Kubernetes object of one BFF service. */
export function renderBffService(service: ServiceConfig, ctx: ServiceContext): RenderedService {
    const name = childName("service name", service.name);
    const labels = recommendedLabels({ name, version: service.version, component: "bff", partOf: ctx.partOf ?? DEFAULTS.partOf });
    const selector = selectorLabels({ name });
    const configMapName = childName(`ConfigMap of ${name}`, name, "env");
    const data = serviceEnvironment(service, ctx);
    const meta = (objectName: string): ObjectMeta => ({ name: objectName, namespace: ctx.namespace, labels });

    const podAnnotations = sortKeys({
        [CONTENT_HASH_ANNOTATION]: contentHash({ [configMapName]: data }),
        ...istioProxyAnnotations(),
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(service.port ?? RUNTIME_DEFAULTS[service.runtime].port),
        "prometheus.io/path": "/metrics",
    });

    const podSpec: k8s.types.input.core.v1.PodSpec = {
        containers: [container(service, configMapName)],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
        nodeSelector: { "node-role": "worker" },
        // Soft spread: replicas prefer different nodes and zones, but a small cluster still schedules them.
        affinity: {
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } } },
                ],
            },
        },
        topologySpreadConstraints: [
            {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: selector },
            },
        ],
        terminationGracePeriodSeconds: DEFAULTS.terminationGracePeriodSeconds,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        automountServiceAccountToken: false,
    };

    const rendered: RenderedService = {
        labels,
        configMap: { metadata: meta(configMapName), data },
        deployment: {
            metadata: meta(name),
            spec: {
                // With an HPA the autoscaler owns the count; setting it here would fight it on every apply.
                replicas: service.hpa === undefined ? service.replicas : undefined,
                selector: { matchLabels: selector },
                revisionHistoryLimit: 5,
                strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
                template: { metadata: { labels, annotations: podAnnotations }, spec: podSpec },
            },
        },
        service: {
            metadata: meta(name),
            spec: {
                type: "ClusterIP",
                selector,
                // The "http" port name tells Istio the protocol (no sniffing).
                ports: [
                    { name: "http", port: service.port ?? RUNTIME_DEFAULTS[service.runtime].port, targetPort: "http", protocol: "TCP" },
                ],
            },
        },
        podDisruptionBudget: {
            metadata: meta(name),
            // One pod at a time during node drains; never blocks a drain even at one replica.
            spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        },
    };
    if (service.hpa !== undefined) {
        rendered.horizontalPodAutoscaler = {
            metadata: meta(name),
            spec: {
                scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
                minReplicas: service.hpa.minReplicas,
                maxReplicas: service.hpa.maxReplicas,
                metrics: [
                    {
                        type: "Resource",
                        // Utilization is of the pod's summed requests, istio-proxy included (SYSTEM.md §5).
                        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: service.hpa.targetCpuUtilization } },
                    },
                ],
                behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
            },
        };
    }
    return rendered;
}
