/**
 * The add-on registry: every module by config key, and what the rest of the program asks of the
 * set (namespaces, node role, chart versions, creation order, which add-on provides a kind).
 */
import { ADDON_NAMES, AddonName, StackConfig } from "../config";
import { argocd } from "./argocd";
import { argoRollouts } from "./argo-rollouts";
import { awsLoadBalancerController } from "./aws-load-balancer-controller";
import { certManager } from "./cert-manager";
import { clusterAutoscaler } from "./cluster-autoscaler";
import { AddonModule } from "./contract";
import { datadog } from "./datadog";
import { ADDON_DEFAULTS } from "./defaults";
import { istio } from "./istio";
import { metricsServer } from "./metrics-server";

/** Every add-on module, by config key. */
export const ADDONS: Record<AddonName, AddonModule> = {
    istio,
    argocd,
    argoRollouts,
    certManager,
    metricsServer,
    clusterAutoscaler,
    awsLoadBalancerController,
    datadog,
};

/** Namespace of an add-on in this stack (Argo CD's is `delivery.argocdNamespace`). */
export function addonNamespace(name: AddonName, config: StackConfig): string {
    return name === "argocd" ? config.delivery.argocdNamespace : ADDON_DEFAULTS[name].namespace;
}

/** `node-role` of add-on Deployments: `system` when the stack has such a pool, else `worker`. */
export function addonNodeRole(config: StackConfig): "system" | "worker" {
    return config.nodePools.some((p) => p.role === "system") ? "system" : "worker";
}

/** Chart version of chart `chartIndex` of an add-on in this stack: `addons.<name>.chartVersion` (all charts of the add-on) or the pinned one. */
export function chartVersion(name: AddonName, chartIndex: number, config: StackConfig): string {
    return config.addons[name].chartVersion ?? ADDON_DEFAULTS[name].charts[chartIndex].version;
}

/**
 * Enabled add-ons in creation order: each after the enabled add-ons it declares, ties in the
 * order of ADDON_NAMES. A disabled dependency is expected on the cluster and orders nothing.
 */
export function addonOrder(config: StackConfig): AddonName[] {
    const enabled = ADDON_NAMES.filter((n) => config.addons[n].enabled);
    const ordered: AddonName[] = [];
    const visiting = new Set<AddonName>();
    const visit = (name: AddonName) => {
        if (ordered.includes(name)) {
            return;
        }
        if (visiting.has(name)) {
            throw new Error(`add-on dependency cycle through ${name}`);
        }
        visiting.add(name);
        for (const dependency of ADDONS[name].dependsOn.filter((d) => enabled.includes(d))) {
            visit(dependency);
        }
        ordered.push(name);
    };
    enabled.forEach(visit);
    return ordered;
}

/** `group/Kind` -> the add-on whose first chart installs that kind's CRD (`group/*` entries match a whole group). */
export function addonProviding(apiVersion: string, kind: string): AddonName | undefined {
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
    return ADDON_NAMES.find((name) => ADDONS[name].provides.some((p) => p === `${group}/${kind}` || p === `${group}/*`));
}
