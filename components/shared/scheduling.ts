/**
 * Soft spread of a workload's replicas (docs/design.md §6): prefer different nodes (podAntiAffinity on
 * the hostname) and balance over zones, without ever leaving a pod pending on a small cluster.
 */
import { Labels } from "./labels";

export function softSpread(selector: Labels) {
    return {
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
    };
}
