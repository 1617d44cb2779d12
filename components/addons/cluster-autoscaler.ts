/**
 * Cluster Autoscaler on AWS with auto-discovery (kubernetes/autoscaler
 * `cluster-autoscaler/cloudprovider/aws/README.md`): it scales the managed node groups tagged
 * `k8s.io/cluster-autoscaler/enabled` and `k8s.io/cluster-autoscaler/<cluster>` (the cluster
 * component tags them) and may change only those (iam.ts). Its minor version must match the
 * cluster's Kubernetes minor, so the image tag follows `cluster.kubernetesVersion`.
 * Value keys from the chart's values.yaml: `cloudProvider`, `awsRegion`, `autoDiscovery.clusterName`,
 * `rbac.serviceAccount.name`, `image.tag`, `extraArgs`, `nodeSelector`, `resources`.
 */
import { AddonModule, addonNodeSelector, resources, workload } from "./contract";
import { clusterAutoscalerPolicy } from "./iam";

/**
 * Newest Cluster Autoscaler patch per Kubernetes minor (kubernetes/autoscaler tags
 * `cluster-autoscaler-1.NN.P`). A minor missing here is a config-time error of the add-on.
 */
export const CLUSTER_AUTOSCALER_IMAGE_TAGS: Record<string, string> = {
    "1.31": "v1.31.5",
    "1.32": "v1.32.7",
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
};

export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";

export interface ClusterAutoscalerValues {
    cloudProvider: "aws";
    awsRegion: string;
    autoDiscovery: { clusterName: string };
    rbac: { serviceAccount: { name: string } };
    image: { tag: string };
    /** The handbook's 10 s scan; expander least-waste across the pools of a role. */
    extraArgs: Record<string, string | boolean>;
    nodeSelector: Record<string, string>;
    resources: ReturnType<typeof resources>;
}

export function clusterAutoscalerImageTag(kubernetesVersion: string): string {
    const tag = CLUSTER_AUTOSCALER_IMAGE_TAGS[kubernetesVersion];
    if (tag === undefined) {
        throw new Error(
            `Cluster Autoscaler: no pinned image for Kubernetes ${kubernetesVersion} (known: ${Object.keys(CLUSTER_AUTOSCALER_IMAGE_TAGS).join(", ")}); add it to CLUSTER_AUTOSCALER_IMAGE_TAGS`,
        );
    }
    return tag;
}

export const clusterAutoscaler: AddonModule = {
    name: "clusterAutoscaler",
    dependsOn: [],
    provides: [],
    schedule: "addonNodes",
    values(ctx) {
        const values: ClusterAutoscalerValues = {
            cloudProvider: "aws",
            awsRegion: ctx.region,
            autoDiscovery: { clusterName: ctx.config.cluster.name },
            rbac: { serviceAccount: { name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } },
            image: { tag: clusterAutoscalerImageTag(ctx.config.cluster.kubernetesVersion) },
            extraArgs: { "scan-interval": "10s", expander: "least-waste", "balance-similar-node-groups": true },
            nodeSelector: addonNodeSelector(ctx),
            resources: resources(workload("clusterAutoscaler", "cluster-autoscaler")),
        };
        return [values];
    },
    identity: {
        serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
        policy: (ctx) => clusterAutoscalerPolicy({ clusterName: ctx.config.cluster.name, region: ctx.region, accountId: ctx.accountId }),
    },
};
