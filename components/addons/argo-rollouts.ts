/**
 * Argo Rollouts (argo-helm `charts/argo-rollouts`): the controller that runs the services'
 * canaries. Value keys from the chart's values.yaml: `installCRDs`, `controller.{replicas,nodeSelector,resources}`,
 * `dashboard.enabled`.
 */
import { AddonModule, addonNodeSelector, resources, workload } from "./contract";

export interface ArgoRolloutsValues {
    installCRDs: true;
    controller: { replicas: number; nodeSelector: Record<string, string>; resources: ReturnType<typeof resources> };
    dashboard: { enabled: false };
}

export const argoRollouts: AddonModule = {
    name: "argoRollouts",
    // Rollouts shift traffic through Istio VirtualServices.
    dependsOn: ["istio"],
    provides: [
        "argoproj.io/Rollout",
        "argoproj.io/AnalysisTemplate",
        "argoproj.io/ClusterAnalysisTemplate",
        "argoproj.io/AnalysisRun",
        "argoproj.io/Experiment",
    ],
    schedule: "addonNodes",
    values(ctx) {
        const controller = workload("argoRollouts", "argo-rollouts");
        const values: ArgoRolloutsValues = {
            installCRDs: true,
            controller: { replicas: controller.replicas as number, nodeSelector: addonNodeSelector(ctx), resources: resources(controller) },
            dashboard: { enabled: false },
        };
        return [values];
    },
};
