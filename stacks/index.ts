/**
 * The program: load and validate the stack configuration, then build each layer. `pulumi up`
 * runs it through `index.ts`; synth and the tests run the same function under the mock runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "../components/config";
import { createAppLayer } from "./apps";
import { createClusterLayer } from "./cluster";

export async function main() {
    // Validation first: a bad config fails here, before any resource is registered.
    const loaded = loadStackConfig();
    const cluster = createClusterLayer(loaded);
    const apps = createAppLayer(loaded, cluster.provider);
    return {
        environment: loaded.config.environment,
        clusterName: cluster.clusterName,
        kubeconfig: pulumi.secret(cluster.kubeconfig),
        services: apps.services.map((s) => s.workloadName),
    };
}
