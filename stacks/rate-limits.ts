/**
 * Rate limit layer: the global rate limit (docs/design.md §5) when `rateLimits.global` is set. Its
 * objects are platform objects and go to the cluster in every delivery mode: the EnvoyFilters
 * change the gateways' Envoy, and the Redis connection Secret must never land in the repository
 * Argo CD syncs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LoadedConfig } from "../components/config";
import { GlobalRateLimit } from "../components/global-rate-limit";
import { createNamespace } from "./namespaces";
import { NetworkLayer } from "./network";

export interface RateLimitLayer {
    namespace?: k8s.core.v1.Namespace;
    globalRateLimit?: GlobalRateLimit;
}

/**
 * `dependsOn`: what must exist first, i.e. the app and gateway namespaces (the EnvoyFilters live
 * in the gateways' namespaces) and Istio (their CRD).
 */
export function createRateLimitLayer(
    { config }: LoadedConfig,
    clusterProvider: k8s.Provider,
    dependsOn: pulumi.Resource[] = [],
    network?: NetworkLayer,
): RateLimitLayer {
    const global = config.rateLimits.global;
    if (global === undefined) {
        return {};
    }
    // Its own namespace unless it shares one the app layer creates.
    const created = new Set([config.appNamespace, ...config.gateways.map((g) => g.namespace)]);
    const namespace = created.has(global.namespace)
        ? undefined
        : // ratelimit and Redis run without istio-proxy (see components/global-rate-limit).
          createNamespace(global.namespace, clusterProvider, "disabled");
    // Cluster add-ons run on system nodes when the stack has them, else beside the apps.
    const nodeRole = config.nodePools.some((p) => p.role === "system") ? "system" : "worker";
    const globalRateLimit = new GlobalRateLimit(
        "ratelimit",
        {
            global,
            gateways: config.gateways,
            nodeRole,
            aws: {
                clusterName: config.cluster.name,
                vpcId: network?.vpcId ?? config.cluster.vpcId ?? "",
                privateSubnetIds: network?.privateSubnetIds ?? config.cluster.privateSubnetIds ?? [],
                tags: { environment: config.environment, "managed-by": "pulumi", project: "bff-platform" },
            },
        },
        { provider: clusterProvider, dependsOn: namespace === undefined ? dependsOn : [...dependsOn, namespace] },
    );
    return { namespace, globalRateLimit };
}
