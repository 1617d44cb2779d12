/** Cluster layer: the EKS cluster, its node pools and the provider every later layer uses. */
import { EksCluster } from "../components/cluster";
import { LoadedConfig } from "../components/config";
import { NetworkLayer } from "./network";

/** Tags on every AWS resource of the stack. */
export const STACK_TAGS = (environment: string) => ({ environment, "managed-by": "pulumi", project: "bff-platform" });

export function createClusterLayer({ config, region }: LoadedConfig, network?: NetworkLayer): EksCluster {
    return new EksCluster(config.cluster.name, {
        cluster: config.cluster,
        nodePools: config.nodePools,
        region,
        subnetIds: network?.privateSubnetIds,
        tags: STACK_TAGS(config.environment),
    });
}
