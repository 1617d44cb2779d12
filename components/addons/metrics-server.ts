/**
 * metrics-server (kubernetes-sigs/metrics-server `charts/metrics-server`): the resource metrics
 * API every CPU-based HorizontalPodAutoscaler reads; without it no HPA acts. Value keys from the
 * chart's values.yaml: `replicas`, `nodeSelector`, `resources`.
 */
import { AddonModule, addonNodeSelector, resources, workload } from "./contract";

export interface MetricsServerValues {
    replicas: number;
    nodeSelector: Record<string, string>;
    resources: ReturnType<typeof resources>;
}

export const metricsServer: AddonModule = {
    name: "metricsServer",
    dependsOn: [],
    provides: [],
    schedule: "addonNodes",
    values(ctx) {
        const server = workload("metricsServer", "metrics-server");
        const values: MetricsServerValues = {
            replicas: server.replicas as number,
            nodeSelector: addonNodeSelector(ctx),
            resources: resources(server),
        };
        return [values];
    },
};
