/**
 * Capacity rules of the handbook (docs/design.md §5, Handbook ch. 15), as plain functions so that the
 * report, the preview-time checks and the tests all use the same arithmetic.
 *
 * Vocabulary:
 * - HPA trigger rps: the requests per second one pod serves when its CPU reaches the HPA target.
 * - Pod performance limit: the rps above which one pod stops answering correctly (load test).
 * - Local limit: the per-pod rate limit; it must sit between the two.
 */
import { ResourceAmount } from "./quantity";

/**
 * Pods that fit in a CPU budget: floor(total requests.cpu / per-pod requests.cpu).
 * The per-pod figure must include every container of the pod (istio-proxy and other sidecars):
 * the scheduler and the HPA both count them.
 */
export function podsWithinCpu(totalCpuMillis: number, perPodCpuMillis: number): number {
    if (perPodCpuMillis <= 0) {
        throw new RangeError("per-pod requests.cpu must be positive");
    }
    return Math.floor(totalCpuMillis / perPodCpuMillis);
}

/**
 * Handbook ch. 15.3: the largest rps served without scaling out =
 * (total requests.cpu at its maximum / per-pod requests.cpu at its minimum) × HPA trigger rps.
 */
export function maxRpsWithoutScaleOut(args: { totalCpuMillis: number; perPodCpuMillis: number; triggerRpsPerPod: number }): number {
    return podsWithinCpu(args.totalCpuMillis, args.perPodCpuMillis) * args.triggerRpsPerPod;
}

/**
 * Handbook ch. 15.3: the global rate limit is the smaller of what the BFF serves without scaling
 * out and what the services behind it can take. `undefined` backend capacity means "not known".
 */
export function globalLimitCeiling(bffRps: number, backendRps?: number): number {
    return backendRps === undefined ? bffRps : Math.min(bffRps, backendRps);
}

/**
 * Handbook ch. 15.2: a per-pod limit must be above the rps at which the HPA triggers (else the limit
 * answers 429 before the autoscaler ever sees load) and below the pod's performance limit (else
 * the pod breaks before the limit protects it). Returns the problems as sentences with the numbers.
 */
export function checkLocalLimit(args: { localRps: number; triggerRps: number; performanceRps?: number }): string[] {
    const problems: string[] = [];
    if (args.localRps <= args.triggerRps) {
        problems.push(
            `local limit ${args.localRps} rps per pod is not above the HPA trigger of ${args.triggerRps} rps per pod: ` +
                "requests would be rejected before the autoscaler adds pods",
        );
    }
    if (args.performanceRps !== undefined && args.localRps >= args.performanceRps) {
        problems.push(
            `local limit ${args.localRps} rps per pod is not below the pod performance limit of ${args.performanceRps} rps: ` +
                "the pod would fail before the limit protects it",
        );
    }
    return problems;
}

/**
 * CPU the whole pod uses when the HPA starts to scale. Kubernetes computes Resource utilization
 * as the pod's summed usage over the summed requests of all its containers, so a sidecar's
 * request raises the CPU the app may burn before a scale-out (the handbook's §15.1 warning;
 * it wrote "limits", the autoscaler uses requests).
 */
export function podCpuAtHpaTarget(podRequestsCpuMillis: number, targetUtilizationPercent: number): number {
    return Math.floor((podRequestsCpuMillis * targetUtilizationPercent) / 100);
}

/**
 * HPA replica formula (docs/design.md §8): desiredReplicas = ceil(currentReplicas × metric / target).
 */
export function desiredReplicas(current: number, metric: number, target: number): number {
    return Math.ceil((current * metric) / target);
}

/** vCPU and memory per size for the families whose ratios are regular (c: 2 GiB, m: 4 GiB, r: 8 GiB per vCPU). */
const SIZE_VCPUS: Record<string, number> = {
    large: 2,
    xlarge: 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "12xlarge": 48,
    "16xlarge": 64,
    "24xlarge": 96,
};
const GIB_PER_VCPU: Record<string, number> = { c: 2, m: 4, r: 8 };

/**
 * Capacity of an EC2 instance type of the c, m and r families (c6i.xlarge -> 4 vCPU, 8 GiB),
 * or `undefined` for a type whose figures this table does not know. Allocatable is lower
 * (kubelet and system reservations): the report says so next to these numbers.
 */
export function instanceCapacity(instanceType: string): ResourceAmount | undefined {
    const match = /^([cmr])\d+[a-z]*\.(\w+)$/.exec(instanceType);
    if (match === null || !(match[2] in SIZE_VCPUS)) {
        return undefined;
    }
    const vcpus = SIZE_VCPUS[match[2]];
    return { cpuMillis: vcpus * 1000, memoryBytes: vcpus * GIB_PER_VCPU[match[1]] * 2 ** 30 };
}
