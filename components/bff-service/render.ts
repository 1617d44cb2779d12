/**
 * Every object of one BFF service as plain data. The functions build data only (no resources), so
 * tests can assert on them directly and the component stays a thin registration layer.
 */
import { DEFAULTS, ServiceConfig } from "../config";
import { KubeObject, Labels, recommendedLabels } from "../shared";
import { analysisTemplate } from "./analysis";
import { envoyLocalRateLimit, limiterConfigMap } from "./local-rate-limit";
import { serviceNames, ServiceNames } from "./names";
import { staticUpload } from "./static-upload";
import {
    destinationRules,
    legacyServiceEntry,
    rolloutOwnedRoutes,
    RolloutRoute,
    rolloutVirtualServices,
    services,
    virtualService,
} from "./traffic";
import { horizontalPodAutoscaler, jobs, podTemplate, portOf, serviceEnvironment, ServiceContext, workload } from "./workload";

/** `app.kubernetes.io/component` of a service's objects and serving pods (its Jobs' pods say `job`). */
export const BFF_COMPONENT = "bff";

/** Every object of one service, by role. */
export interface RenderedService {
    names: ServiceNames;
    labels: Labels;
    configMap: KubeObject;
    /** Rollout (canary) or Deployment (rollingUpdate). */
    workload: KubeObject;
    services: KubeObject[];
    virtualService: KubeObject;
    destinationRules: KubeObject[];
    podDisruptionBudget: KubeObject;
    horizontalPodAutoscaler?: KubeObject;
    analysisTemplate?: KubeObject;
    legacyServiceEntry?: KubeObject;
    jobs: KubeObject[];
    /** nginx leaky-bucket sidecar configuration (local limit of type nginx). */
    limiterConfigMap?: KubeObject;
    /** istio-proxy token bucket (local limit of type envoy). */
    localRateLimitFilter?: KubeObject;
    /** The release's static-file upload Job and its ServiceAccount (services with `staticAssets`). */
    staticUpload?: { serviceAccount: KubeObject; job: KubeObject };
    /** Routes of the service's VirtualService whose weights a Rollout moves (Argo CD must ignore them). */
    rolloutOwnedRoutes: RolloutRoute[];
}

/** All objects of a rendered service, ConfigMap first (the workload depends on it). */
export function allObjects(rendered: RenderedService): KubeObject[] {
    return [
        rendered.configMap,
        ...(rendered.limiterConfigMap === undefined ? [] : [rendered.limiterConfigMap]),
        ...(rendered.analysisTemplate === undefined ? [] : [rendered.analysisTemplate]),
        ...(rendered.staticUpload === undefined ? [] : [rendered.staticUpload.serviceAccount, rendered.staticUpload.job]),
        rendered.workload,
        ...rendered.services,
        rendered.virtualService,
        ...rendered.destinationRules,
        ...(rendered.legacyServiceEntry === undefined ? [] : [rendered.legacyServiceEntry]),
        ...(rendered.localRateLimitFilter === undefined ? [] : [rendered.localRateLimitFilter]),
        rendered.podDisruptionBudget,
        ...(rendered.horizontalPodAutoscaler === undefined ? [] : [rendered.horizontalPodAutoscaler]),
        ...rendered.jobs,
    ];
}

/** Renders every Kubernetes object of one BFF service. */
export function renderBffService(service: ServiceConfig, ctx: ServiceContext): RenderedService {
    const names = serviceNames(service, ctx.namespace);
    const identity = { name: names.workload, component: BFF_COMPONENT, partOf: ctx.partOf ?? DEFAULTS.partOf };
    // The version labels go on the workload and its pods only: a release then changes the workload
    // (one object for Argo CD to sync, one change in the plan), while the Services, routes, PDB, HPA
    // and ConfigMaps keep their bytes. Datadog and Istio read the version from the pods.
    const labels = recommendedLabels(identity);
    const versionedLabels = recommendedLabels({ ...identity, version: service.version });
    const data = serviceEnvironment(service, ctx);
    const configMap: KubeObject = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: names.configMap, namespace: ctx.namespace, labels },
        data,
    };
    const limiter = limiterConfigMap(service, ctx.namespace, names, labels, portOf(service));
    const mounted = { [names.configMap]: data, ...(limiter === undefined ? {} : { [names.limiterConfigMap]: limiter.data }) };
    const theWorkload = workload(
        service,
        ctx,
        names,
        versionedLabels,
        podTemplate(service, ctx, names, versionedLabels, mounted),
        rolloutVirtualServices(service, ctx),
    );
    return {
        names,
        labels,
        configMap,
        workload: theWorkload,
        services: services(service, ctx, names, labels),
        virtualService: virtualService(service, ctx, names, labels),
        destinationRules: destinationRules(service, ctx, names, labels),
        podDisruptionBudget: {
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: { name: names.workload, namespace: ctx.namespace, labels },
            // One pod at a time during node drains; never blocks a drain even at one replica.
            spec: { maxUnavailable: 1, selector: { matchLabels: names.selector } },
        },
        horizontalPodAutoscaler: horizontalPodAutoscaler(service, ctx, names, labels, theWorkload),
        analysisTemplate: analysisTemplate(service, ctx, names, labels),
        legacyServiceEntry: legacyServiceEntry(service, ctx, names, labels),
        jobs: jobs(service, ctx, labels),
        limiterConfigMap: limiter,
        localRateLimitFilter: envoyLocalRateLimit(service, ctx.namespace, names, labels, portOf(service)),
        staticUpload: staticUpload(service, ctx.namespace, names, { stable: labels, versioned: versionedLabels }, ctx.staticUpload),
        rolloutOwnedRoutes: rolloutOwnedRoutes(service, ctx),
    };
}
