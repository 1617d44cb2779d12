/**
 * What `report.md` says about the add-ons: each installed add-on's charts, namespace and pod
 * requests (they count against the `system` or `worker` pool, DaemonSets against every pool), and
 * what a stack expects on the cluster for each add-on it leaves off.
 */
import { ADDON_NAMES, AddonName, StackConfig } from "../config";
import { addonNamespace, addonNodeRole, addonProviding, chartVersion } from "./registry";
import { ADDON_DEFAULTS } from "./defaults";

/** One add-on workload as the report counts it. */
export interface AddonWorkloadFigures {
    addon: AddonName;
    title: string;
    /** `chart version` of each chart, in install order. */
    charts: string;
    namespace: string;
    workload: string;
    nodeRole: string;
    minReplicas: number;
    maxReplicas: number;
    requests: { cpu: string; memory: string };
}

/** Every pod of the installed add-ons: Deployments on the add-on node role, DaemonSets once per node of each pool. */
export function addonWorkloads(config: StackConfig): AddonWorkloadFigures[] {
    const nodeRole = addonNodeRole(config);
    return ADDON_NAMES.filter((name) => config.addons[name].enabled).flatMap((name) => {
        const defaults = ADDON_DEFAULTS[name];
        const charts = defaults.charts.map((c, i) => `${c.chart} ${chartVersion(name, i, config)}`).join(", ");
        const common = { addon: name, title: defaults.title, charts, namespace: addonNamespace(name, config) };
        return defaults.workloads.flatMap((w) => {
            if (w.replicas !== "perNode") {
                return [{ ...common, workload: w.name, nodeRole, minReplicas: w.replicas, maxReplicas: w.replicas, requests: w.requests }];
            }
            const roles = [...new Set(config.nodePools.map((p) => p.role))].sort();
            return roles.map((role) => {
                const pools = config.nodePools.filter((p) => p.role === role);
                return {
                    ...common,
                    workload: w.name,
                    nodeRole: role,
                    minReplicas: pools.reduce((n, p) => n + p.minSize, 0),
                    maxReplicas: pools.reduce((n, p) => n + p.maxSize, 0),
                    requests: w.requests,
                };
            });
        });
    });
}

/** A disabled add-on and what in this stack needs it. */
export interface ExpectedAddon {
    addon: AddonName;
    title: string;
    usedBy: string[];
}

/**
 * The add-ons this stack leaves off, which must then come from elsewhere: for each, the rendered
 * kinds it provides (`Rollout`, `EnvoyFilter`, ...), HPAs for metrics-server, external-metric HPAs
 * for Datadog. A disabled add-on nothing uses is still listed: the platform relies on all of them.
 */
export function expectedOnCluster(config: StackConfig, objects: { apiVersion: string; kind: string; spec?: unknown }[]): ExpectedAddon[] {
    return ADDON_NAMES.filter((name) => !config.addons[name].enabled).map((name) => {
        const kinds = new Set(objects.filter((o) => addonProviding(o.apiVersion, o.kind) === name).map((o) => o.kind));
        const hpas = objects.filter((o) => o.kind === "HorizontalPodAutoscaler");
        if (name === "metricsServer" && hpas.length > 0) {
            kinds.add("HorizontalPodAutoscaler (resource metrics)");
        }
        if (name === "datadog" && hpas.some((h) => JSON.stringify(h.spec ?? {}).includes('"type":"External"'))) {
            kinds.add("HorizontalPodAutoscaler (external metrics)");
        }
        return { addon: name, title: ADDON_DEFAULTS[name].title, usedBy: [...kinds].sort() };
    });
}
