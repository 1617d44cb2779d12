/**
 * Add-on layer: the cluster add-ons of `addons` (components/addons), after the cluster and its
 * node groups. Later layers wait for the add-ons whose API kinds they use (see stacks/index.ts).
 */
import { ClusterAddons } from "../components/addons";
import { EksCluster } from "../components/cluster";
import { LoadedConfig } from "../components/config";
import { STACK_TAGS } from "./cluster";
import { NetworkLayer } from "./network";

export function createAddonLayer({ config, region }: LoadedConfig, cluster: EksCluster, network?: NetworkLayer): ClusterAddons {
    return new ClusterAddons("addons", {
        config,
        region,
        clusterName: cluster.clusterName,
        clusterArn: cluster.clusterArn,
        nodeGroups: cluster.nodeGroupsByRole,
        podIdentityAgent: cluster.managedAddons["eks-pod-identity-agent"],
        clusterProvider: cluster.provider,
        tags: STACK_TAGS(config.environment),
        vpcId: network?.vpcId,
    });
}
